// `edgeship run`: starts a deployment's custom modules on a local Docker-compatible engine the way the
// IoT Edge agent creates them (lib/engine/agent.hpp), waits until each runs or fails, prints state, exit
// code and last log lines; in the foreground until Ctrl-C, which stops and removes what it started.
// docs/run.md.

#include "cli/run_commands.hpp"

#include "core/cancel.hpp"
#include "core/sha256.hpp"
#include "edgeship/version_info.hpp"
#include "engine/agent.hpp"
#include "engine/client.hpp"
#include "engine/endpoint.hpp"
#include "http/client.hpp"
#include "iothub/deployments.hpp"
#include "solution/generate.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <thread>

namespace edgeship::cli {

namespace {

constexpr std::string_view k_run_label = "dev.edgeship.run";

// SIGTERM asks the foreground run to stop as Ctrl-C does (the CLI installs SIGINT only), for the time
// of the command.
extern "C" void on_sigterm(int) { core::CancelToken::global().cancel(); }

class SigtermScope {
public:
    SigtermScope() {
        struct sigaction sa {};
        sa.sa_handler = on_sigterm;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGTERM, &sa, &m_old);
    }
    ~SigtermScope() { ::sigaction(SIGTERM, &m_old, nullptr); }
    SigtermScope(const SigtermScope&) = delete;
    SigtermScope& operator=(const SigtermScope&) = delete;

private:
    struct sigaction m_old {};
};

// The deployment id of the label: the manifest's file stem and a hash of its absolute path, so two
// solutions never stop each other's modules and `--stop` finds them from the same manifest path.
std::string deployment_id(const std::filesystem::path& manifest) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(manifest, ec).lexically_normal();
    return manifest.stem().string() + "-" + core::sha256_hex(abs.string()).substr(0, 12);
}

Result<std::filesystem::path> manifest_path(const RunOptions& opts, Context& ctx) {
    if (!opts.manifest.empty()) {
        return std::filesystem::path(opts.manifest);
    }
    std::optional<std::string> platform;
    if (!opts.platform.empty()) {
        platform = opts.platform;
    }
    EDGESHIP_TRY_ASSIGN(auto p, solution::default_manifest_path(opts.solution, ctx.env, platform));
    return p.lexically_normal();
}

Result<engine::Client> connect(const RunOptions& opts, Context& ctx, const core::CancelToken* cancel) {
    EDGESHIP_TRY_ASSIGN(auto endpoint, engine::discover_endpoint(opts.engine, ctx.env));
    engine::ClientOptions co;
    co.logger = ctx.console.logger();
    co.cancel = cancel;
    co.user_agent = http::default_user_agent(build_info::k_version);
    return engine::Client::connect(endpoint, co);
}

std::vector<std::string> last_lines(const std::string& text, unsigned n) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        lines.push_back(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
        pos = nl == std::string::npos ? text.size() : nl + 1;
    }
    if (lines.size() > n) {
        lines.erase(lines.begin(), lines.end() - n);
    }
    return lines;
}

struct Started {
    std::string name;
    std::string image;
    std::string id;
    std::string state;
    int exit_code = 0;
    std::vector<std::string> log_tail;
};

// Stops and removes containers with a client nobody cancels (the run's own may have been cancelled).
void remove_all(const RunOptions& opts, Context& ctx, const std::vector<Started>& started) {
    if (started.empty()) {
        return;
    }
    static core::CancelToken never;
    auto client = connect(opts, ctx, &never);
    if (!client) {
        ctx.console.warning("could not remove the modules started: " + client.error().what());
        return;
    }
    for (auto it = started.rbegin(); it != started.rend(); ++it) {
        (void)client->stop(it->id, std::chrono::seconds(5));
        if (auto r = client->remove(it->id); !r) {
            ctx.console.warning("module " + it->name + ": " + r.error().what());
        } else {
            ctx.console.debug("removed " + it->name);
        }
    }
}

void fill_state(Started& s, const nlohmann::json& info) {
    auto state = info.value("State", nlohmann::json::object());
    s.state = state.value("Status", "");
    s.exit_code = state.value("ExitCode", 0);
}

// Waits until the container has run for `settle` (a module that exits at once is a failure), or it
// exits, or the deadline passes.
Result<void> wait_running(engine::Client& client, Started& s, std::chrono::steady_clock::time_point deadline) {
    const auto settle = std::chrono::seconds(2);
    std::optional<std::chrono::steady_clock::time_point> running_since;
    for (;;) {
        if (core::CancelToken::global().cancelled()) {
            return unexpected(core::cancelled_error());
        }
        EDGESHIP_TRY_ASSIGN(auto info, client.inspect(s.id));
        fill_state(s, info);
        if (s.state == "running") {
            if (!running_since) {
                running_since = std::chrono::steady_clock::now();
            } else if (std::chrono::steady_clock::now() - *running_since >= settle) {
                return {};
            }
        } else if (s.state == "exited" || s.state == "dead") {
            return fail("exited at once with code " + std::to_string(s.exit_code));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return fail("not running after the --timeout (state " + s.state + ")");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

void print_tail(Context& ctx, const Started& s) {
    for (const auto& line : s.log_tail) {
        ctx.io.err << "  " << s.name << " | " << line << '\n';
    }
}

nlohmann::json to_json(const std::string& id, const engine::Client& client, const std::vector<Started>& started) {
    nlohmann::json j = {{"deployment", id}, {"engine", client.endpoint().url()}, {"modules", nlohmann::json::array()}};
    for (const auto& s : started) {
        j["modules"].push_back({{"name", s.name}, {"image", s.image}, {"id", s.id}, {"state", s.state},
                                {"exit_code", s.exit_code}, {"log_tail", s.log_tail}});
    }
    return j;
}

Result<void> run_logs(const RunOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(auto client, connect(opts, ctx, &core::CancelToken::global()));
    EDGESHIP_TRY_ASSIGN(auto list, client.list(std::string(k_run_label)));
    for (const auto& c : list) {
        if (c.name == opts.logs) {
            EDGESHIP_TRY_ASSIGN(auto logs, client.logs(c.id, opts.tail));
            ctx.io.out << logs.combined;
            if (!logs.combined.empty() && logs.combined.back() != '\n') {
                ctx.io.out << '\n';
            }
            return {};
        }
    }
    return unexpected(Error("module " + opts.logs + ": no container started by edgeship run on " + client.endpoint().url())
                          .hint("edgeship run --detach starts the deployment's modules"));
}

Result<void> run_stop(const RunOptions& opts, Context& ctx, const std::string& id) {
    EDGESHIP_TRY_ASSIGN(auto client, connect(opts, ctx, &core::CancelToken::global()));
    EDGESHIP_TRY_ASSIGN(auto list, client.list(std::string(k_run_label) + "=" + id));
    nlohmann::json removed = nlohmann::json::array();
    for (const auto& c : list) {
        EDGESHIP_TRY(client.stop(c.id, std::chrono::seconds(10)));
        EDGESHIP_TRY(client.remove(c.id));
        removed.push_back(c.name);
        if (!opts.json) {
            ctx.io.out << c.name << ": stopped and removed\n";
        }
    }
    if (opts.json) {
        ctx.io.out << nlohmann::json({{"deployment", id}, {"removed", removed}}).dump(2) << '\n';
    } else if (list.empty()) {
        ctx.io.err << "nothing to stop: no container of deployment " << id << " on " << client.endpoint().url() << '\n';
    }
    return {};
}

// Creates and starts one module; `started` gets it as soon as it exists, so a failure removes it.
Result<void> start_module(engine::Client& client, const engine::ModulePlan& m, Context& ctx,
                          std::vector<Started>& started, std::chrono::steady_clock::time_point deadline) {
    ctx.console.info("pulling " + m.image + (m.credential ? " (with the manifest's credentials for " + m.credential->address + ")" : ""));
    if (auto pulled = client.pull(m.image, m.credential); !pulled) {
        if (pulled.error().code() == ExitCode::interrupted) {
            return pulled;
        }
        // The agent pulls on create; an image already in the engine (docker load of an export) still runs.
        auto local = client.image_exists(m.image);
        if (!local || !*local) {
            return pulled;
        }
        ctx.console.warning("module " + m.name + ": " + pulled.error().what() + "; using the image already in the engine");
    }
    EDGESHIP_TRY_ASSIGN(auto id, client.create(m.name, m.body));
    started.push_back(Started{m.name, m.image, id, "created", 0, {}});
    Started& s = started.back();
    EDGESHIP_TRY(client.start(id));
    auto waited = wait_running(client, s, deadline);
    if (auto logs = client.logs(id, 0); logs) {
        s.log_tail = last_lines(logs->combined, 5);
    }
    if (!waited) {
        print_tail(ctx, s);
    }
    return waited;
}

Result<void> run_up(const RunOptions& opts, Context& ctx, const std::filesystem::path& path, const std::string& id) {
    EDGESHIP_TRY_ASSIGN(auto manifest, iothub::load_manifest(path));
    engine::PlanOptions po;
    po.network = opts.network;
    po.extra_labels[std::string(k_run_label)] = id;
    auto plan = engine::plan_deployment(manifest, po);
    if (!plan) {
        return unexpected(std::move(plan).error());
    }
    if (plan->modules.empty()) {
        return fail(path.string() + ": the deployment has no custom module to run");
    }
    ctx.console.info("note: edgeship run does not imitate the system modules (edgeAgent, edgeHub): it starts the "
                     "custom modules only, so the manifest's routes are not applied and the modules get no IoT Edge "
                     "messages");
    EDGESHIP_TRY_ASSIGN(auto client, connect(opts, ctx, &core::CancelToken::global()));
    if (auto v = client.version(); v) {
        ctx.console.info("engine: " + v->value("Version", std::string("?")) + " at " + client.endpoint().url());
    }
    // A previous --detach run of the same deployment is replaced, as the agent replaces a module.
    EDGESHIP_TRY_ASSIGN(auto previous, client.list(std::string(k_run_label) + "=" + id));
    for (const auto& c : previous) {
        ctx.console.info("replacing " + c.name + " of a previous run");
        EDGESHIP_TRY(client.stop(c.id, std::chrono::seconds(10)));
        EDGESHIP_TRY(client.remove(c.id));
    }
    if (opts.network != "host") {
        EDGESHIP_TRY(client.ensure_network(opts.network));
    }

    std::vector<Started> started;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opts.timeout);
    for (const auto& m : plan->modules) {
        if (m.status != "running") {
            ctx.console.info("module " + m.name + ": desired status " + m.status + ", not started");
            continue;
        }
        if (auto r = start_module(client, m, ctx, started, deadline); !r) {
            remove_all(opts, ctx, started);
            if (r.error().code() == ExitCode::interrupted) {
                return r;
            }
            return unexpected(std::move(r).error().context("module " + m.name));
        }
    }

    if (opts.json) {
        ctx.io.out << to_json(id, client, started).dump(2) << '\n';
    } else {
        for (const auto& s : started) {
            ctx.io.out << s.name << ": " << s.state << " (" << s.image << ", container " << s.id.substr(0, 12) << ")\n";
            for (const auto& line : s.log_tail) {
                ctx.io.out << "  " << s.name << " | " << line << '\n';
            }
        }
    }
    ctx.io.out.flush();
    if (opts.detach) {
        ctx.console.info("detached; stop with: edgeship run --stop " + path.string());
        return {};
    }

    ctx.console.info("running in the foreground; Ctrl-C stops and removes the modules");
    for (;;) {
        if (core::CancelToken::global().cancelled()) {
            remove_all(opts, ctx, started);
            return unexpected(core::cancelled_error());
        }
        for (auto& s : started) {
            auto info = client.inspect(s.id);
            if (!info) {
                if (info.error().code() == ExitCode::interrupted) {
                    break;
                }
                remove_all(opts, ctx, started);
                return unexpected(std::move(info).error().context("module " + s.name));
            }
            fill_state(s, *info);
            if (s.state != "running") {
                if (auto logs = client.logs(s.id, 0); logs) {
                    s.log_tail = last_lines(logs->combined, 5);
                }
                print_tail(ctx, s);
                remove_all(opts, ctx, started);
                return fail("module " + s.name + ": " + s.state + " with exit code " + std::to_string(s.exit_code));
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

} // namespace

void register_run(CLI::App& parent, Context& ctx, Runner<RunOptions> run) {
    auto opts = std::make_shared<RunOptions>();
    auto* sub = parent.add_subcommand(
        "run", "Start a deployment's custom modules on a local Docker or Podman engine, as the IoT Edge agent would");
    sub->add_option("MANIFEST", opts->manifest,
                    "Deployment manifest (default: where gen writes it, config/deployment.<DEFAULT_PLATFORM or amd64>.json)");
    sub->add_option("--solution", opts->solution, "The solution directory (for the default manifest)")->capture_default_str();
    sub->add_option("--platform", opts->platform, "Platform of the default manifest (default: DEFAULT_PLATFORM or amd64)");
    sub->add_option("--engine", opts->engine,
                    "Engine socket, unix:///PATH (default: DOCKER_HOST, then /var/run/docker.sock, "
                    "$XDG_RUNTIME_DIR/podman/podman.sock, /run/podman/podman.sock)");
    sub->add_option("--network", opts->network,
                    "Network for modules whose createOptions name none (created as a bridge when missing); "
                    "'host' for engines without a bridge")
        ->capture_default_str();
    sub->add_flag("--detach,-d", opts->detach, "Return once every module runs (stop later with --stop)");
    sub->add_flag("--json", opts->json, "Print the modules (name, image, container id, state, exit code, log tail) as JSON");
    sub->add_option("--timeout", opts->timeout, "Seconds to wait for every module to run")->type_name("S")->capture_default_str();
    sub->add_flag("--stop", opts->stop, "Stop and remove the modules a previous run of MANIFEST started");
    sub->add_option("--logs", opts->logs, "Print the log of MODULE (a container started by edgeship run)")
        ->type_name("MODULE");
    sub->add_option("--tail", opts->tail, "With --logs: the last N lines (0: all)")->type_name("N")->capture_default_str();
    sub->footer(R"(Examples:
  edgeship run                                  # the solution's config/deployment.amd64.json, in the foreground
  edgeship run config/deployment.arm64v8.json --detach
  edgeship run --stop
  edgeship run --logs scoring --tail 50
  edgeship run --engine unix:///run/user/1000/podman/podman.sock --network host

Modules are created as the IoT Edge agent creates them: createOptions chunks joined, env merged,
net.azure-devices.edge.* labels, the container named after the module, startupOrder; images pulled with
the manifest's registryCredentials. edgeAgent and edgeHub are not imitated: routes are not applied.
Containers carry the label dev.edgeship.run=<deployment id>. Ctrl-C stops and removes what was started.
Exit codes: 0 running (or stopped with --stop), 1 a module failed (nothing left running), 2 usage, 130 interrupted.)");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_run(const RunOptions& opts, Context& ctx) {
    if (opts.stop && !opts.logs.empty()) {
        return fail("--stop and --logs cannot be combined", ExitCode::usage);
    }
    SigtermScope sigterm;
    if (!opts.logs.empty()) {
        return run_logs(opts, ctx);
    }
    EDGESHIP_TRY_ASSIGN(auto path, manifest_path(opts, ctx));
    std::string id = deployment_id(path);
    if (opts.stop) {
        return run_stop(opts, ctx, id);
    }
    return run_up(opts, ctx, path, id);
}

} // namespace edgeship::cli
