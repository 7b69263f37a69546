#include "engine/deployment.hpp"

#include "core/sha256.hpp"
#include "core/subprocess.hpp"

#include <thread>

namespace edgeship::engine {

namespace {

constexpr std::chrono::seconds k_stop_grace{10};

void fill_state(ModuleState& m, const nlohmann::json& info) {
    auto state = info.value("State", nlohmann::json::object());
    m.state = state.value("Status", "");
    m.exit_code = state.value("ExitCode", 0);
}

void read_log_tail(Client& client, ModuleState& m, unsigned lines) {
    if (auto logs = client.logs(m.id, 0); logs) {
        m.log_tail = core::tail_lines(std::string_view(logs->combined), lines);
    }
}

// Until the container has run for `settle` (a module that exits at once is a failure), it exits, or the
// deadline passes.
Result<void> wait_running(Client& client, ModuleState& m, const StartOptions& o,
                          std::chrono::steady_clock::time_point deadline) {
    std::optional<std::chrono::steady_clock::time_point> running_since;
    for (;;) {
        if (core::CancelToken::global().cancelled()) {
            return unexpected(core::cancelled_error());
        }
        EDGESHIP_TRY_ASSIGN(auto info, client.inspect(m.id));
        fill_state(m, info);
        auto now = std::chrono::steady_clock::now();
        if (m.state == "running") {
            if (!running_since) {
                running_since = now;
            } else if (now - *running_since >= o.settle) {
                return {};
            }
        } else if (m.state == "exited" || m.state == "dead") {
            return fail("exited at once with code " + std::to_string(m.exit_code));
        }
        if (now >= deadline) {
            return fail("not running after the --timeout (state " + m.state + ")");
        }
        std::this_thread::sleep_for(o.poll);
    }
}

Result<void> start_module(Client& client, const ModulePlan& plan, const StartOptions& o,
                          std::vector<ModuleState>& started, std::chrono::steady_clock::time_point deadline) {
    o.logger.info("pulling " + plan.image +
                  (plan.credential ? " (with the manifest's credentials for " + plan.credential->address + ")" : ""));
    if (auto pulled = client.pull(plan.image, plan.credential); !pulled) {
        if (pulled.error().code() == ExitCode::interrupted) {
            return pulled;
        }
        // The agent pulls on create; an image already in the engine (docker load of an export) still runs.
        auto local = client.image_exists(plan.image);
        if (!local || !*local) {
            return pulled;
        }
        o.logger.warning("module " + plan.name + ": " + pulled.error().what() + "; using the image already in the engine");
    }
    EDGESHIP_TRY_ASSIGN(auto id, client.create(plan.name, plan.body));
    started.push_back(ModuleState{plan.name, plan.image, id, "created", 0, {}, false});
    ModuleState& m = started.back();
    EDGESHIP_TRY(client.start(id));
    auto waited = wait_running(client, m, o, deadline);
    read_log_tail(client, m, o.log_lines);
    m.failed = !waited && waited.error().code() != ExitCode::interrupted;
    return waited;
}

} // namespace

std::string deployment_id(const std::filesystem::path& manifest) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(manifest, ec).lexically_normal();
    return manifest.stem().string() + "-" + core::sha256_hex(abs.string()).substr(0, 12);
}

Result<void> start_deployment(Client& client, const Plan& plan, const std::string& id, const StartOptions& o,
                              std::vector<ModuleState>& started) {
    // A previous --detach run of the same deployment is replaced, as the agent replaces a module.
    EDGESHIP_TRY_ASSIGN(auto previous, client.list(std::string(k_run_label) + "=" + id));
    for (const auto& c : previous) {
        o.logger.info("replacing " + c.name + " of a previous run");
        EDGESHIP_TRY(client.stop(c.id, k_stop_grace));
        EDGESHIP_TRY(client.remove(c.id));
    }
    if (o.network != "host") {
        EDGESHIP_TRY(client.ensure_network(o.network));
    }
    auto deadline = std::chrono::steady_clock::now() + o.timeout;
    for (const auto& m : plan.modules) {
        if (m.status != "running") {
            o.logger.info("module " + m.name + ": desired status " + m.status + ", not started");
            continue;
        }
        if (auto r = start_module(client, m, o, started, deadline); !r) {
            if (r.error().code() == ExitCode::interrupted) {
                return r;
            }
            return unexpected(std::move(r).error().context("module " + m.name));
        }
    }
    return {};
}

Result<void> check_running(Client& client, std::vector<ModuleState>& modules, unsigned log_lines) {
    for (auto& m : modules) {
        auto info = client.inspect(m.id);
        if (!info) {
            if (info.error().code() == ExitCode::interrupted) {
                return unexpected(std::move(info).error());
            }
            return unexpected(std::move(info).error().context("module " + m.name));
        }
        fill_state(m, *info);
        if (m.state != "running") {
            read_log_tail(client, m, log_lines);
            m.failed = true;
            return fail("module " + m.name + ": " + m.state + " with exit code " + std::to_string(m.exit_code));
        }
    }
    return {};
}

void remove_modules(Client& client, const std::vector<ModuleState>& modules, const core::Logger& logger) {
    for (auto it = modules.rbegin(); it != modules.rend(); ++it) {
        (void)client.stop(it->id, std::chrono::seconds(5));
        if (auto r = client.remove(it->id); !r) {
            logger.warning("module " + it->name + ": " + r.error().what());
        } else {
            logger.debug("removed " + it->name);
        }
    }
}

Result<std::vector<std::string>> stop_deployment(Client& client, const std::string& id) {
    EDGESHIP_TRY_ASSIGN(auto list, client.list(std::string(k_run_label) + "=" + id));
    std::vector<std::string> removed;
    for (const auto& c : list) {
        EDGESHIP_TRY(client.stop(c.id, k_stop_grace));
        EDGESHIP_TRY(client.remove(c.id));
        removed.push_back(c.name);
    }
    return removed;
}

Result<Logs> module_logs(Client& client, const std::string& module, unsigned tail) {
    EDGESHIP_TRY_ASSIGN(auto list, client.list(std::string(k_run_label)));
    for (const auto& c : list) {
        if (c.name == module) {
            return client.logs(c.id, tail);
        }
    }
    return unexpected(Error("module " + module + ": no container started by edgeship run on " + client.endpoint().url())
                          .hint("edgeship run --detach starts the deployment's modules"));
}

} // namespace edgeship::engine
