#pragma once

// `edgeship ship` (issue 8): one command from a trained model to a running module, over lib/pipeline.
// The flags are the union of the commands it chains, bound with their own helpers (conversion flags from
// convert, registry flags from push/build, IoT Hub flags and waiting from deploy).

#include "cli/build_commands.hpp"
#include "cli/context.hpp"
#include "cli/framework_commands.hpp"
#include "cli/iothub_commands.hpp"
#include "cli/optimize_commands.hpp"
#include "cli/registry_flags.hpp"

#include <CLI/App.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace edgeship::cli {

struct ShipOptions {
    std::string model;
    std::string solution;                 ///< "" = "." when it is a solution, else ./<module>
    std::string module = "scoring";
    std::string runtime = "python-onnxruntime";
    std::vector<std::string> platforms;   ///< "" = amd64; the first is deployed
    std::string registry;                 ///< host[:port]
    std::string oci_layout;               ///< directory
    std::string base;                     ///< base image reference ("" = the runtime's)
    std::string device;
    std::string deployment;
    std::string target_condition;
    int priority = 0;
    bool dry_run = false;
    bool deploy_dry_run = false;
    bool json = false;
    std::string template_dir;
    // convert's flags
    std::string from;
    std::int64_t opset = 0;
    FrameworkCliOptions framework;
    OptimizationFlags passes;
    // push's flags
    RegistryFlags registry_flags;
    // deploy's flags
    WaitFlags wait;
    HubFlags hub;
    ImageToolFlags tools;                 ///< --npm, --pip, --base-registry (as build)
};
void register_ship(CLI::App& parent, Context& ctx, Runner<ShipOptions> run);
Result<void> run_ship(const ShipOptions& opts, Context& ctx);

} // namespace edgeship::cli
