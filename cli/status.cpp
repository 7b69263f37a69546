// `edgeship status`: rollout status of one device ($edgeAgent twin) or of a deployment's fleet (query
// API, one request per page), optionally waiting until it settles (docs/design/iothub.md §9, §12.8).

#include "cli/iothub_commands.hpp"

#include "iothub/deployments.hpp"
#include "iothub/ids.hpp"

namespace edgeship::cli {

void register_status(CLI::App& parent, Context& ctx, Runner<StatusOptions> run) {
    auto opts = std::make_shared<StatusOptions>();
    auto* sub = parent.add_subcommand("status", "Show whether a device's (or a deployment's) modules run as "
                                                "desired; --wait polls until they do or fail");
    auto* dev = sub->add_option("--device,-d", opts->device, "One edge device: polls its $edgeAgent module twin");
    auto* dep = sub->add_option("--deployment", opts->deployment,
                                "Every device targeted by this deployment: pages through the query API");
    dev->excludes(dep);
    dep->excludes(dev);
    sub->add_flag("--json", opts->json, "Print the summary as JSON: targeted, applied, succeeded, failed, failures");
    add_wait_flags(sub, opts->wait, true);
    add_hub_flags(sub, opts->hub);
    sub->footer(R"(Examples:
  edgeship status --device dev1
  edgeship status --device dev1 --wait --timeout 5m
  edgeship status --deployment score-v2 --wait --json

Done means: the agent reports the desired version with status 200, and every module runs its desired
image with its desired status. Failures (agent status 400/412/500, a module in backoff or failed,
timeout) exit 1 and name the device and module.)");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_status(const StatusOptions& opts, Context& ctx) {
    if (opts.device.empty() == opts.deployment.empty()) {
        return unexpected(Error("give --device ID or --deployment ID", ExitCode::usage)
                              .hint("edgeship status --device dev1, or edgeship status --deployment score-v2"));
    }
    std::string what;
    std::function<Result<iothub::FleetSummary>(iothub::HubClient&)> poll;
    if (!opts.device.empty()) {
        EDGESHIP_TRY_ASSIGN(std::string id, iothub::check_device_id(opts.device));
        what = "device " + id;
        poll = [id](iothub::HubClient& hub) { return iothub::poll_device(hub, id); };
    } else {
        EDGESHIP_TRY_ASSIGN(std::string id, iothub::check_deployment_id(opts.deployment));
        what = "deployment " + id;
        int page = opts.wait.page_size;
        poll = [id, page](iothub::HubClient& hub) { return iothub::poll_deployment(hub, id, page); };
    }
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));
    iothub::WaitResult waited;
    if (opts.wait.wait) {
        EDGESHIP_TRY_ASSIGN(waited, wait_with_progress([&] { return poll(hub); }, opts.wait, opts.json, what, ctx));
    } else {
        auto polled = poll(hub);
        if (!polled) {
            return unexpected(std::move(polled).error().context("reading the status of " + what));
        }
        waited.summary = std::move(*polled);
        waited.outcome = waited.summary.all_succeeded() ? iothub::WaitOutcome::succeeded
                         : waited.summary.failed > 0    ? iothub::WaitOutcome::failed
                                                        : iothub::WaitOutcome::timed_out;
    }
    if (opts.json) {
        auto j = iothub::summary_to_json(waited.summary);
        ctx.io.out << j.dump(2) << '\n';
    } else {
        print_summary(waited.summary, what, ctx);
    }
    if (opts.wait.wait && waited.outcome != iothub::WaitOutcome::succeeded) {
        return unexpected(iothub::rollout_error(waited, what));
    }
    if (!opts.wait.wait && waited.summary.failed > 0) {
        return unexpected(Error(what + ": failed on " + std::to_string(waited.summary.failed) + " of " +
                                std::to_string(waited.summary.targeted) + " device" +
                                (waited.summary.targeted == 1 ? "" : "s")));
    }
    return {};
}

} // namespace edgeship::cli
