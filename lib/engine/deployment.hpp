#pragma once

// Running a deployment's custom modules on a local engine as `edgeship run` does (docs/run.md): start them
// in startup order and wait until each has run for a moment, watch them, stop them. The command only
// chooses the manifest and prints; every decision about containers is here.

#include "core/log.hpp"
#include "core/result.hpp"
#include "engine/agent.hpp"
#include "engine/client.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::engine {

/// The label every container of `edgeship run` carries; its value is the deployment id.
inline constexpr std::string_view k_run_label = "dev.edgeship.run";

/// The manifest's file stem and a hash of its absolute path, so two solutions never stop each other's
/// modules and `--stop` finds them again from the same manifest path.
std::string deployment_id(const std::filesystem::path& manifest);

/// One module as started: its container and what it was last seen doing.
struct ModuleState {
    std::string name;
    std::string image;
    std::string id;
    std::string state = "created";
    int exit_code = 0;
    std::vector<std::string> log_tail; ///< the last lines of its log, when it was last looked at
    bool failed = false;               ///< it exited or did not come up: the one an error names
};

struct StartOptions {
    std::chrono::seconds timeout{60};                   ///< for every module to be running
    std::chrono::milliseconds settle{2000};             ///< running this long counts as started
    std::chrono::milliseconds poll{200};
    unsigned log_lines = 5;
    std::string network = "azure-iot-edge";             ///< created as a bridge when missing; "host" is not
    core::Logger logger;
};

/// Replaces the containers of a previous run of deployment `id`, then pulls (the manifest's registry
/// credential; an image already in the engine is used when the pull fails), creates and starts each
/// module whose desired status is running, in startup order, and waits until it has run for `settle`.
/// `started` receives each container as soon as it exists, so on an error (context "module M") the
/// caller removes what is there with remove_modules, on a client nobody cancels.
Result<void> start_deployment(Client& client, const Plan& plan, const std::string& id, const StartOptions& options,
                              std::vector<ModuleState>& started);

/// Inspects every started module once: an error naming the first one that no longer runs (its state,
/// exit code and log tail updated in `modules`).
Result<void> check_running(Client& client, std::vector<ModuleState>& modules, unsigned log_lines);

/// Stops and removes `modules`, last started first; what fails is logged as a warning.
void remove_modules(Client& client, const std::vector<ModuleState>& modules, const core::Logger& logger);

/// Stops and removes every container of deployment `id`; returns their names.
Result<std::vector<std::string>> stop_deployment(Client& client, const std::string& id);

/// The log of the container `module` among those `edgeship run` started; `tail` = 0 means all.
Result<Logs> module_logs(Client& client, const std::string& module, unsigned tail);

} // namespace edgeship::engine
