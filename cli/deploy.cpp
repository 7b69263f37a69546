// `edgeship deploy`: one manifest to one edge device (docs/design/iothub.md §5, §7.2, §12.5), plus the
// helpers every IoT Hub command shares (credentials, client, durations, waiting, summaries).

#include "cli/iothub_commands.hpp"

#include "core/fs.hpp"
#include "core/status_line.hpp"
#include "edgeship/version_info.hpp"
#include "http/redact.hpp"
#include "iothub/deployments.hpp"
#include "iothub/ids.hpp"
#include "manifest/validate.hpp"
#include "solution/generate.hpp"

#include <algorithm>
#include <cctype>

namespace edgeship::cli {

namespace {

std::string duration_text(std::chrono::milliseconds d) {
    auto s = d.count() / 1000;
    if (s >= 60) {
        return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
    }
    return std::to_string(s) + "s";
}

void print_device_lines(const std::vector<iothub::DeviceRollout>& devices, const char* label, std::ostream& out) {
    for (const auto& d : devices) {
        out << "  " << d.device_id << ": " << label << ": " << d.reason << '\n';
    }
}

} // namespace

void add_hub_flags(CLI::App* sub, HubFlags& f) {
    sub->add_option("--connection-string-file", f.connection_string_file,
                    "Read the service connection string from this file (default: IOTHUB_CONNECTION_STRING "
                    "from the environment or .env)");
    sub->add_option("--hub-url", f.hub_url,
                    "Reach the hub at this https:// URL instead of https://<HostName> (private endpoints, "
                    "tests; env EDGESHIP_IOTHUB_ENDPOINT)");
    sub->add_option("--ca-file", f.ca_file, "Trust this PEM CA bundle for the hub's TLS certificate "
                                            "(env EDGESHIP_IOTHUB_CA_FILE)");
    sub->add_option("--api-version", f.api_version,
                    std::string("IoT Hub REST api-version (default ") + iothub::k_default_api_version +
                        "; env EDGESHIP_IOTHUB_API_VERSION)");
}

void add_wait_flags(CLI::App* sub, WaitFlags& w, bool with_wait_flag) {
    if (with_wait_flag) {
        sub->add_flag("--wait", w.wait, "Poll until the modules run (or fail), then print a summary");
    }
    sub->add_option("--timeout", w.timeout, "Give up waiting after this long: 30s, 5m, 1h (default 10m)");
    sub->add_option("--interval", w.interval, "Time between polls (default 5s)");
    sub->add_option("--page-size", w.page_size, "Query page size sent as x-ms-max-item-count (default 100)")
        ->check(CLI::Range(1, 1000));
}

Result<std::map<std::string, std::string>> parse_pairs(const std::vector<std::string>& items, std::string_view flag) {
    std::map<std::string, std::string> out;
    for (const auto& item : items) {
        auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0) {
            return fail(std::string(flag) + " '" + item + "': expected NAME=VALUE", ExitCode::usage);
        }
        out[item.substr(0, eq)] = item.substr(eq + 1);
    }
    return out;
}

Result<std::reference_wrapper<iothub::HubClient>> open_hub(const HubFlags& flags, Context& ctx, const char* ca_flag) {
    // The command's flags join the run's configuration as its top layer, so `-v` names them as origins
    // and iothub::connect reads one source.
    ctx.config.set_flag("iothub_connection_string_file", flags.connection_string_file);
    ctx.config.set_flag("iothub_endpoint", flags.hub_url);
    ctx.config.set_flag("iothub_ca_file", flags.ca_file, ca_flag);
    ctx.config.set_flag("iothub_api_version", flags.api_version);
    EDGESHIP_TRY_ASSIGN(auto* hub, ctx.hub());
    return std::ref(*hub);
}

Result<iothub::WaitResult> wait_with_progress(const std::function<Result<iothub::FleetSummary>()>& poll,
                                              const WaitFlags& flags, bool json, const std::string& what,
                                              Context& ctx) {
    iothub::WaitOptions wo;
    EDGESHIP_TRY_ASSIGN(wo.timeout, parse_duration(flags.timeout, "--timeout"));
    EDGESHIP_TRY_ASSIGN(wo.interval, parse_duration(flags.interval, "--interval"));
    if (wo.interval.count() <= 0) {
        return fail("--interval must be positive", ExitCode::usage);
    }
    bool progress = progress_enabled(ctx.env, ctx.io.stderr_tty, ctx.console.verbosity(), json);
    core::StatusLine status(ctx.io.err, progress, ctx.io.stderr_columns);
    if (!progress) {
        ctx.console.info("waiting for " + what + " (timeout " + flags.timeout + ")");
    }
    wo.progress = [&](const iothub::FleetSummary& s, std::chrono::milliseconds elapsed) {
        std::string line = what + ": " + iothub::summary_line(s) + " [" + duration_text(elapsed) + "]";
        if (progress) {
            status.update(line);
        } else {
            ctx.console.debug(line);
        }
    };
    auto result = iothub::wait_for_rollout(poll, wo);
    status.clear();
    return result;
}

void print_summary(const iothub::FleetSummary& s, const std::string& what, Context& ctx) {
    auto& out = ctx.io.out;
    out << what << ": " << iothub::summary_line(s) << '\n';
    print_device_lines(s.failures, "failed", out);
    print_device_lines(s.pending_devices, "pending", out);
    for (const auto& note : s.notes) {
        out << "  note: " << note << '\n';
    }
}

Result<void> validate_for_deploy(const nlohmann::json& manifest, const std::string& path, bool json, Context& ctx) {
    auto report = manifest::validate_manifest(manifest);
    std::size_t errors = 0;
    for (const auto& f : report.findings) {
        if (!f.error) {
            ctx.console.warning(path + ": " + f.path + ": " + f.message);
        } else {
            ++errors;
        }
    }
    if (report.ok()) {
        return {};
    }
    if (json) {
        nlohmann::ordered_json j;
        j["manifest"] = path;
        j["valid"] = false;
        j["findings"] = nlohmann::ordered_json::array();
        for (const auto& f : report.findings) {
            nlohmann::ordered_json fj;
            fj["path"] = f.path;
            fj["message"] = f.message;
            fj["severity"] = f.error ? "error" : "warning";
            j["findings"].push_back(std::move(fj));
        }
        ctx.io.out << j.dump(2) << '\n';
    } else {
        for (const auto& f : report.findings) {
            if (f.error) {
                ctx.io.out << "error: " << f.path << ": " << f.message << '\n';
            }
        }
    }
    return unexpected(Error(path + ": manifest validation failed (" + std::to_string(errors) + " error" +
                                (errors == 1 ? "" : "s") + ")",
                            ExitCode::validation)
                          .hint("fix the manifest, or skip the check with --no-validate"));
}

// deploy ------------------------------------------------------------------------------------------

void register_deploy(CLI::App& parent, Context& ctx, Runner<DeployOptions> run) {
    auto opts = std::make_shared<DeployOptions>();
    auto* sub = parent.add_subcommand("deploy", "Apply a deployment manifest to one IoT Edge device and optionally "
                                                "wait until its modules run");
    sub->add_option("--device,-d", opts->device, "The edge device id")->required();
    sub->add_option("--manifest,-m", opts->manifest,
                    "Deployment manifest (default: where gen writes it, config/deployment.<DEFAULT_PLATFORM or amd64>.json)");
    sub->add_flag("--no-validate", opts->no_validate, "Skip the offline manifest validation");
    sub->add_flag("--dry-run", opts->dry_run,
                  "Print the exact request (method, URL, headers, body) without sending it; the SAS signature "
                  "is shown as <redacted>");
    sub->add_flag("--json", opts->json, "Print the result (and the rollout summary with --wait) as JSON");
    add_wait_flags(sub, opts->wait, true);
    add_hub_flags(sub, opts->hub);
    sub->footer(R"(Examples:
  edgeship deploy --device dev1 --manifest config/deployment.amd64.json
  edgeship deploy -d dev1 --wait --timeout 5m      wait until every module runs its desired image
  edgeship deploy -d dev1 --dry-run                print the request that would be sent

Credentials: IOTHUB_CONNECTION_STRING (environment or .env) or --connection-string-file.
Exit codes: 1 deploy or rollout failed, 3 manifest invalid, 4 authentication failed.)");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_deploy(const DeployOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(std::string device, iothub::check_device_id(opts.device));
    std::string path = opts.manifest;
    if (path.empty()) {
        // Where `gen` wrote it: the solution in this directory, its .env (CONFIG_OUTPUT_DIR,
        // DEFAULT_PLATFORM, the template's name) under the environment — one rule for gen, deploy and ship.
        EDGESHIP_TRY_ASSIGN(auto where, solution::default_manifest_path(".", ctx.env));
        path = where.lexically_normal().string();
        // Deploying the solution's manifest: its .env is a layer of the configuration (the hub settings).
        EDGESHIP_TRY(use_solution_env(ctx, "."));
    }
    EDGESHIP_TRY_ASSIGN(auto manifest, iothub::load_manifest(path));
    if (iothub::is_layered(manifest)) {
        return unexpected(Error(path + ": a layered manifest (properties.desired.* paths) cannot be applied to one "
                                       "device",
                                ExitCode::usage)
                              .hint("use edgeship deployment create ID --layered for layered deployments"));
    }
    if (!opts.no_validate) {
        EDGESHIP_TRY(validate_for_deploy(manifest, path, opts.json, ctx));
    }
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));
    auto request = hub.make_request("POST", {"devices", device, "applyConfigurationContent"}, manifest);

    if (opts.dry_run) {
        std::string ua = http::default_user_agent(build_info::k_version);
        if (opts.json) {
            nlohmann::ordered_json j;
            j["method"] = request.method;
            j["url"] = request.url;
            nlohmann::ordered_json headers;
            for (const auto& [k, v] : request.headers) {
                headers[k] = v;
            }
            headers["Authorization"] = hub.authorization_placeholder();
            headers["User-Agent"] = ua;
            j["headers"] = std::move(headers);
            j["body"] = manifest;
            ctx.io.out << j.dump(2) << '\n';
        } else {
            ctx.io.out << request.method << ' ' << request.url << '\n';
            for (const auto& [k, v] : request.headers) {
                ctx.io.out << k << ": " << v << '\n';
            }
            ctx.io.out << "Authorization: " << hub.authorization_placeholder() << '\n';
            ctx.io.out << "User-Agent: " << ua << "\n\n" << request.body << '\n';
        }
        return {};
    }

    if (auto r = hub.apply_configuration_content(device, manifest); !r) {
        return unexpected(std::move(r).error().context("deploying " + path + " to " + device));
    }
    ctx.console.info("applied " + path + " to " + device);
    nlohmann::ordered_json result;
    result["device"] = device;
    result["manifest"] = path;
    result["applied"] = true;
    if (!opts.wait.wait) {
        if (opts.json) {
            ctx.io.out << result.dump(2) << '\n';
        } else {
            ctx.io.out << device << ": manifest applied (edgeship status --device " << device << " --wait to follow)\n";
        }
        return {};
    }
    EDGESHIP_TRY_ASSIGN(auto waited, wait_with_progress([&] { return iothub::poll_device(hub, device); }, opts.wait,
                                                        opts.json, "device " + device, ctx));
    if (opts.json) {
        result["rollout"] = iothub::summary_to_json(waited.summary);
        result["outcome"] = waited.outcome == iothub::WaitOutcome::succeeded ? "succeeded"
                            : waited.outcome == iothub::WaitOutcome::failed  ? "failed"
                                                                             : "timed_out";
        ctx.io.out << result.dump(2) << '\n';
    } else {
        print_summary(waited.summary, "device " + device, ctx);
    }
    if (waited.outcome != iothub::WaitOutcome::succeeded) {
        return unexpected(iothub::rollout_error(waited, "deploying to " + device));
    }
    return {};
}

} // namespace edgeship::cli
