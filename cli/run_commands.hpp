#pragma once

// `edgeship run`: a deployment's custom modules on a local Docker-compatible engine, created as the IoT
// Edge agent creates them (lib/engine; docs/run.md).

#include "cli/context.hpp"
#include "core/result.hpp"

#include <CLI/App.hpp>

#include <string>

namespace edgeship::cli {

struct RunOptions {
    std::string manifest;  ///< MANIFEST (default: the solution's config/deployment.<platform>.json)
    std::string solution = ".";
    std::string platform;
    std::string engine;    ///< --engine unix:///PATH (default: DOCKER_HOST, then the usual sockets)
    std::string network = "azure-iot-edge";
    bool detach = false;
    bool json = false;
    unsigned timeout = 60; ///< seconds to wait for every module to run
    bool stop = false;
    std::string logs;      ///< --logs MODULE
    unsigned tail = 20;
};
void register_run(CLI::App& parent, Context& ctx, Runner<RunOptions> run);
Result<void> run_run(const RunOptions& opts, Context& ctx);

} // namespace edgeship::cli
