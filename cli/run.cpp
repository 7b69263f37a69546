// `edgeship run`: starts a deployment's custom modules on a local Docker-compatible engine the way the
// IoT Edge agent creates them (lib/engine/agent.hpp), waits until each runs or fails, prints state, exit
// code and last log lines; in the foreground until Ctrl-C, which stops and removes what it started.
// docs/run.md.

#include "cli/run_commands.hpp"

#include "core/cancel.hpp"
#include "edgeship/version_info.hpp"
#include "engine/agent.hpp"
#include "engine/client.hpp"
#include "engine/deployment.hpp"
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

constexpr unsigned k_log_lines = 5;

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

// Clean-up runs on a client nobody cancels: the run's own may have been cancelled by Ctrl-C.
void remove_all(const RunOptions& opts, Context& ctx, const std::vector<engine::ModuleState>& started) {
    if (started.empty()) {
        return;
    }
    static core::CancelToken never;
    auto client = connect(opts, ctx, &never);
    if (!client) {
        ctx.console.warning("could not remove the modules started: " + client.error().what());
        return;
    }
    engine::remove_modules(*client, started, ctx.console.logger());
}

void print_failed_tails(Context& ctx, const std::vector<engine::ModuleState>& modules) {
    for (const auto& m : modules) {
        if (!m.failed) {
            continue;
        }
        for (const auto& line : m.log_tail) {
            ctx.io.err << "  " << m.name << " | " << line << '\n';
        }
    }
}

nlohmann::json to_json(const std::string& id, const engine::Client& client,
                       const std::vector<engine::ModuleState>& started) {
    nlohmann::json j = {{"deployment", id}, {"engine", client.endpoint().url()}, {"modules", nlohmann::json::array()}};
    for (const auto& s : started) {
        j["modules"].push_back({{"name", s.name}, {"image", s.image}, {"id", s.id}, {"state", s.state},
                                {"exit_code", s.exit_code}, {"log_tail", s.log_tail}});
    }
    return j;
}

Result<void> run_logs(const RunOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(auto client, connect(opts, ctx, &core::CancelToken::global()));
    EDGESHIP_TRY_ASSIGN(auto logs, engine::module_logs(client, opts.logs, opts.tail));
    ctx.io.out << logs.combined;
    if (!logs.combined.empty() && logs.combined.back() != '\n') {
        ctx.io.out << '\n';
    }
    return {};
}

Result<void> run_stop(const RunOptions& opts, Context& ctx, const std::string& id) {
    EDGESHIP_TRY_ASSIGN(auto client, connect(opts, ctx, &core::CancelToken::global()));
    EDGESHIP_TRY_ASSIGN(auto removed, engine::stop_deployment(client, id));
    if (opts.json) {
        ctx.io.out << nlohmann::json({{"deployment", id}, {"removed", removed}}).dump(2) << '\n';
        return {};
    }
    for (const auto& name : removed) {
        ctx.io.out << name << ": stopped and removed\n";
    }
    if (removed.empty()) {
        ctx.io.err << "nothing to stop: no container of deployment " << id << " on " << client.endpoint().url() << '\n';
    }
    return {};
}

Result<void> run_up(const RunOptions& opts, Context& ctx, const std::filesystem::path& path, const std::string& id) {
    EDGESHIP_TRY_ASSIGN(auto manifest, iothub::load_manifest(path));
    engine::PlanOptions po;
    po.network = opts.network;
    po.extra_labels[std::string(engine::k_run_label)] = id;
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

    engine::StartOptions so;
    so.timeout = std::chrono::seconds(opts.timeout);
    so.log_lines = k_log_lines;
    so.network = opts.network;
    so.logger = ctx.console.logger();
    std::vector<engine::ModuleState> started;
    if (auto r = engine::start_deployment(client, *plan, id, so, started); !r) {
        print_failed_tails(ctx, started);
        remove_all(opts, ctx, started);
        return r;
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
        if (auto r = engine::check_running(client, started, k_log_lines); !r) {
            if (r.error().code() != ExitCode::interrupted) {
                print_failed_tails(ctx, started);
                remove_all(opts, ctx, started);
                return r;
            }
            continue; // cancelled mid-request: the next turn removes the modules
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
    std::string id = engine::deployment_id(path);
    if (opts.stop) {
        return run_stop(opts, ctx, id);
    }
    return run_up(opts, ctx, path, id);
}

} // namespace edgeship::cli
