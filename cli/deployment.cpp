// `edgeship deployment create|list|show|update|delete|status`: at-scale deployments (IoT Hub
// configurations, docs/design/iothub.md §5, §7.2, §8). Content is immutable on the hub, so `create
// --replace OLD` rolls out a new id at a higher priority and removes OLD only once the new one runs.

#include "cli/iothub_commands.hpp"

#include "core/status_line.hpp"
#include "iothub/deployments.hpp"
#include "iothub/ids.hpp"

namespace edgeship::cli {

namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

std::string labels_text(const json& config) {
    std::string s;
    if (auto it = config.find("labels"); it != config.end() && it->is_object()) {
        for (auto l = it->begin(); l != it->end(); ++l) {
            s += (s.empty() ? "" : ",") + l.key() + "=" + (l->is_string() ? l->get<std::string>() : l->dump());
        }
    }
    return s;
}

std::string outcome_name(iothub::WaitOutcome o) {
    switch (o) {
    case iothub::WaitOutcome::succeeded: return "succeeded";
    case iothub::WaitOutcome::failed: return "failed";
    case iothub::WaitOutcome::timed_out: return "timed_out";
    }
    return "";
}

nlohmann::ordered_json brief(const json& config) {
    nlohmann::ordered_json j;
    j["id"] = str(config, "id");
    j["priority"] = config.value("priority", 0);
    j["target_condition"] = str(config, "targetCondition");
    j["etag"] = str(config, "etag");
    j["created"] = str(config, "createdTimeUtc");
    j["labels"] = config.contains("labels") && config["labels"].is_object() ? config["labels"] : json::object();
    return j;
}

} // namespace

DeploymentRunners deployment_runners() {
    return {run_deployment_create, run_deployment_list,   run_deployment_show,
            run_deployment_update, run_deployment_delete, run_deployment_status};
}

void register_deployment(CLI::App& parent, Context& ctx, DeploymentRunners runners) {
    auto* dep = parent.add_subcommand("deployment", "Manage at-scale IoT Edge deployments (IoT Hub configurations)");
    dep->require_subcommand(1);
    dep->footer(R"(Examples:
  edgeship deployment create score-v1 -m config/deployment.amd64.json --target-condition "tags.env='prod'" --priority 10
  edgeship deployment create score-v2 -m new.json --target-condition "tags.env='prod'" --replace score-v1
  edgeship deployment status score-v2 --wait
  edgeship deployment list)");

    {
        auto o = std::make_shared<DeploymentCreateOptions>();
        auto* sub = dep->add_subcommand("create", "Create a deployment (content is immutable: use --replace to roll "
                                                  "out new content without downtime)");
        sub->add_option("ID", o->id, "Deployment id: lower-case letters, digits and -+%_*!'")->required();
        sub->add_option("--manifest,-m", o->manifest, "Deployment manifest")->required();
        sub->add_option("--target-condition,-t", o->target_condition,
                        "Devices to target, e.g. \"tags.env='prod'\" or \"deviceId='dev1'\"")
            ->required();
        sub->add_option("--priority,-p", o->priority, "Priority (higher wins; with --replace default OLD's + 1)")
            ->each([o](const std::string&) { o->priority_given = true; });
        sub->add_option("--label", o->labels, "Label NAME=VALUE (repeatable)");
        sub->add_option("--metric", o->metrics, "Custom metric NAME=QUERY (repeatable)");
        sub->add_flag("--layered", o->layered, "A layered deployment (properties.desired.* paths; skips validation)");
        sub->add_flag("--no-validate", o->no_validate, "Skip the offline manifest validation");
        sub->add_option("--replace", o->replace,
                        "Replace this deployment safely: create ID at a higher priority, wait until it succeeded "
                        "everywhere, then delete the old one");
        sub->add_flag("--dry-run", o->dry_run, "Print the request without sending it");
        sub->add_flag("--json", o->json, "Print the created deployment (and rollout summary) as JSON");
        add_wait_flags(sub, o->wait, true);
        add_hub_flags(sub, o->hub);
        sub->footer(R"(Examples:
  edgeship deployment create score-v1 -m config/deployment.amd64.json -t "tags.env='prod'" -p 10 --label app=score
  edgeship deployment create score-v2 -m config/deployment.amd64.json -t "tags.env='prod'" --replace score-v1 --timeout 15m)");
        bind_action(sub, ctx, o, runners.create);
    }
    {
        auto o = std::make_shared<DeploymentListOptions>();
        auto* sub = dep->add_subcommand("list", "List edge deployments");
        sub->add_option("--top", o->top, "Show at most N deployments")->check(CLI::PositiveNumber);
        sub->add_flag("--json", o->json, "Print the configurations as JSON");
        add_hub_flags(sub, o->hub);
        sub->footer("Examples:\n  edgeship deployment list\n  edgeship deployment list --json | jq -r '.[].id'");
        bind_action(sub, ctx, o, runners.list);
    }
    {
        auto o = std::make_shared<DeploymentShowOptions>();
        auto* sub = dep->add_subcommand("show", "Show one deployment");
        sub->add_option("ID", o->id, "Deployment id")->required();
        sub->add_flag("--json", o->json, "Print the configuration as JSON");
        add_hub_flags(sub, o->hub);
        sub->footer("Examples:\n  edgeship deployment show score-v1\n  edgeship deployment show score-v1 --json");
        bind_action(sub, ctx, o, runners.show);
    }
    {
        auto o = std::make_shared<DeploymentUpdateOptions>();
        auto* sub = dep->add_subcommand("update", "Change a deployment's target condition, priority, labels or "
                                                  "metrics (content is immutable)");
        sub->add_option("ID", o->id, "Deployment id")->required();
        sub->add_option("--target-condition,-t", o->target_condition, "New target condition")
            ->each([o](const std::string&) { o->target_condition_given = true; });
        sub->add_option("--priority,-p", o->priority, "New priority")
            ->each([o](const std::string&) { o->priority_given = true; });
        sub->add_option("--label", o->labels, "Replace the labels with these NAME=VALUE pairs (repeatable)");
        sub->add_option("--metric", o->metrics, "Replace the custom metrics with these NAME=QUERY pairs (repeatable)");
        sub->add_option("--etag", o->etag, "Only update if the deployment still has this etag");
        sub->add_flag("--force", o->force, "Update whatever the current etag (If-Match: *)");
        sub->add_flag("--json", o->json,
                      "Print the updated configuration as JSON (with --wait: {deployment, rollout, outcome})");
        add_wait_flags(sub, o->wait, true);
        add_hub_flags(sub, o->hub);
        sub->footer("Examples:\n  edgeship deployment update score-v1 --priority 20\n"
                    "  edgeship deployment update score-v1 -t \"tags.env='prod' AND tags.site='a'\" --etag MQ==\n"
                    "  edgeship deployment update score-v1 -t \"tags.env='prod'\" --wait --timeout 15m");
        bind_action(sub, ctx, o, runners.update);
    }
    {
        auto o = std::make_shared<DeploymentDeleteOptions>();
        auto* sub = dep->add_subcommand("delete", "Delete a deployment (devices fall back to the next one)");
        sub->add_option("ID", o->id, "Deployment id")->required();
        sub->add_option("--etag", o->etag, "Only delete if the deployment still has this etag");
        sub->add_flag("--force", o->force, "Delete whatever the current etag (If-Match: *)");
        sub->add_flag("--json", o->json, "Print {\"deleted\": ID} as JSON");
        add_hub_flags(sub, o->hub);
        sub->footer("Examples:\n  edgeship deployment delete score-v1\n  edgeship deployment delete score-v1 --force");
        bind_action(sub, ctx, o, runners.remove);
    }
    {
        auto o = std::make_shared<DeploymentStatusOptions>();
        auto* sub = dep->add_subcommand("status", "Rollout status of a deployment: targeted, applied, succeeded, "
                                                  "failed, and custom metrics");
        sub->add_option("ID", o->id, "Deployment id")->required();
        sub->add_flag("--json", o->json, "Print the summary as JSON");
        add_wait_flags(sub, o->wait, true);
        add_hub_flags(sub, o->hub);
        sub->footer("Examples:\n  edgeship deployment status score-v2\n"
                    "  edgeship deployment status score-v2 --wait --timeout 15m --json\n\n"
                    "One query request per page of devices (x-ms-continuation), never one per device.");
        bind_action(sub, ctx, o, runners.status);
    }
}

Result<void> run_deployment_create(const DeploymentCreateOptions& opts, Context& ctx) {
    iothub::DeploymentSpec spec;
    EDGESHIP_TRY_ASSIGN(spec.id, iothub::check_deployment_id(opts.id));
    std::string old_id;
    if (!opts.replace.empty()) {
        EDGESHIP_TRY_ASSIGN(old_id, iothub::check_deployment_id(opts.replace));
        if (old_id == spec.id) {
            return fail("--replace " + old_id + ": a deployment cannot replace itself", ExitCode::usage);
        }
    } else if (!opts.priority_given) {
        return fail("--priority is required (or --replace OLD to use OLD's priority + 1)", ExitCode::usage);
    }
    EDGESHIP_TRY_ASSIGN(spec.labels, parse_pairs(opts.labels, "--label"));
    EDGESHIP_TRY_ASSIGN(spec.metrics, parse_pairs(opts.metrics, "--metric"));
    spec.target_condition = opts.target_condition;
    spec.priority = opts.priority;
    EDGESHIP_TRY_ASSIGN(spec.manifest, iothub::load_manifest(opts.manifest));
    bool layered = opts.layered || iothub::is_layered(spec.manifest);
    if (!layered && !opts.no_validate) {
        EDGESHIP_TRY(validate_for_deploy(spec.manifest, opts.manifest, opts.json, ctx));
    }
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));

    json old_config;
    if (!old_id.empty()) {
        auto got = hub.get_configuration(old_id); // read-only, also under --dry-run
        if (!got) {
            return unexpected(std::move(got).error().context("reading deployment " + old_id + " to replace"));
        }
        old_config = std::move(*got);
        if (!opts.priority_given) {
            spec.priority = old_config.value("priority", 0) + 1;
        }
    }
    if (opts.dry_run) {
        auto req = hub.make_request("PUT", {"configurations", spec.id}, iothub::configuration_body(spec));
        ctx.io.out << req.method << ' ' << req.url << '\n';
        for (const auto& [k, v] : req.headers) {
            ctx.io.out << k << ": " << v << '\n';
        }
        ctx.io.out << "Authorization: " << hub.authorization_placeholder() << "\n\n" << req.body << '\n';
        if (!old_id.empty()) {
            ctx.io.out << "\nthen, once " << spec.id << " has succeeded on every targeted device:\nDELETE "
                       << hub.make_request("DELETE", {"configurations", old_id}).url << "\nIf-Match: "
                       << iothub::quote_etag(str(old_config, "etag")) << '\n';
        }
        return {};
    }

    nlohmann::ordered_json result;
    iothub::WaitResult waited;
    bool have_wait = false;
    if (!old_id.empty()) {
        auto log = [&ctx](const std::string& line) { ctx.console.info(line); };
        iothub::WaitOptions wo;
        EDGESHIP_TRY_ASSIGN(wo.timeout, parse_duration(opts.wait.timeout, "--timeout"));
        EDGESHIP_TRY_ASSIGN(wo.interval, parse_duration(opts.wait.interval, "--interval"));
        // The wait happens inside replace_deployment; progress is drawn as for --wait.
        bool progress = progress_enabled(ctx.env, ctx.io.stderr_tty, ctx.console.verbosity(), opts.json);
        core::StatusLine status(ctx.io.err, progress, ctx.io.stderr_columns);
        wo.progress = [&](const iothub::FleetSummary& s, std::chrono::milliseconds) {
            std::string line = "deployment " + spec.id + ": " + iothub::summary_line(s);
            if (progress) {
                status.update(line);
            } else {
                ctx.console.debug(line);
            }
        };
        auto replaced = iothub::replace_deployment(hub, spec, old_config, wo, opts.wait.page_size, log);
        status.clear();
        if (!replaced) {
            return unexpected(std::move(replaced).error());
        }
        result["deployment"] = brief(replaced->created.configuration);
        result["replaced"] = old_id;
        result["old_deleted"] = replaced->old_deleted;
        waited = replaced->wait;
        have_wait = true;
    } else {
        auto created = iothub::create_deployment(hub, spec);
        if (!created) {
            return unexpected(std::move(created).error().context("creating deployment " + spec.id));
        }
        if (created->confirmed_after_conflict) {
            ctx.console.info("the create was retried; the deployment on the hub is the one this run created");
        }
        result["deployment"] = brief(created->configuration);
        if (opts.wait.wait) {
            EDGESHIP_TRY_ASSIGN(waited, wait_with_progress([&] { return iothub::poll_deployment(hub, spec.id, opts.wait.page_size); },
                                                           opts.wait, opts.json, "deployment " + spec.id, ctx));
            have_wait = true;
        }
    }
    if (have_wait) {
        result["rollout"] = iothub::summary_to_json(waited.summary);
        result["outcome"] = outcome_name(waited.outcome);
    }
    if (opts.json) {
        ctx.io.out << result.dump(2) << '\n';
    } else {
        ctx.io.out << "created deployment " << spec.id << " (priority " << spec.priority << ", target condition "
                   << (spec.target_condition.empty() ? "(none)" : spec.target_condition) << ")\n";
        if (have_wait) {
            print_summary(waited.summary, "deployment " + spec.id, ctx);
        }
        if (!old_id.empty() && result["old_deleted"].get<bool>()) {
            ctx.io.out << "deleted deployment " << old_id << '\n';
        }
    }
    if (have_wait && waited.outcome != iothub::WaitOutcome::succeeded) {
        Error e = iothub::rollout_error(waited, "deployment " + spec.id);
        if (!old_id.empty()) {
            e.hint(old_id + " was kept; to roll back, delete the new one: edgeship deployment delete " + spec.id);
        }
        return unexpected(std::move(e));
    }
    return {};
}

Result<void> run_deployment_list(const DeploymentListOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));
    EDGESHIP_TRY_ASSIGN(auto all, hub.list_configurations());
    // docs/design/iothub.md §7.3: `top` is applied client-side to the edge deployments. The hub lists ADM
    // device configurations too, with "modulesContent": null; like az, only a non-null modulesContent is an
    // edge deployment (docs/deployment.md).
    json edge = json::array();
    for (auto& c : all) {
        if (c.contains("content") && c["content"].is_object() && c["content"].contains("modulesContent") &&
            c["content"]["modulesContent"].is_object()) {
            if (opts.top > 0 && static_cast<int>(edge.size()) >= opts.top) {
                break;
            }
            edge.push_back(std::move(c));
        }
    }
    if (opts.json) {
        ctx.io.out << edge.dump(2) << '\n';
        return {};
    }
    if (edge.empty()) {
        ctx.console.info("no edge deployments");
        return {};
    }
    ctx.io.out << "ID\tPRIORITY\tTARGET CONDITION\tCREATED\tLABELS\n";
    for (const auto& c : edge) {
        ctx.io.out << str(c, "id") << '\t' << c.value("priority", 0) << '\t' << str(c, "targetCondition") << '\t'
                   << str(c, "createdTimeUtc") << '\t' << labels_text(c) << '\n';
    }
    return {};
}

Result<void> run_deployment_show(const DeploymentShowOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(std::string id, iothub::check_deployment_id(opts.id));
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));
    EDGESHIP_TRY_ASSIGN(auto c, hub.get_configuration(id));
    if (opts.json) {
        ctx.io.out << c.dump(2) << '\n';
        return {};
    }
    auto& out = ctx.io.out;
    out << "id:               " << str(c, "id") << '\n';
    out << "priority:         " << c.value("priority", 0) << '\n';
    out << "target condition: " << str(c, "targetCondition") << '\n';
    out << "etag:             " << str(c, "etag") << '\n';
    out << "created:          " << str(c, "createdTimeUtc") << '\n';
    out << "updated:          " << str(c, "lastUpdatedTimeUtc") << '\n';
    out << "labels:           " << labels_text(c) << '\n';
    out << "modules:         ";
    const json* mods = nullptr;
    if (c.contains("content") && c["content"].contains("modulesContent")) {
        const auto& mc = c["content"]["modulesContent"];
        if (mc.contains("$edgeAgent") && mc["$edgeAgent"].contains("properties.desired") &&
            mc["$edgeAgent"]["properties.desired"].contains("modules")) {
            mods = &mc["$edgeAgent"]["properties.desired"]["modules"];
        }
    }
    if (mods != nullptr && mods->is_object()) {
        for (auto it = mods->begin(); it != mods->end(); ++it) {
            std::string image;
            if (it->contains("settings") && (*it)["settings"].contains("image")) {
                image = (*it)["settings"]["image"].get<std::string>();
            }
            out << ' ' << it.key() << " (" << image << ")";
        }
    }
    out << '\n';
    if (c.contains("systemMetrics") && c["systemMetrics"].contains("results")) {
        out << "system metrics:   ";
        const auto& r = c["systemMetrics"]["results"];
        bool first = true;
        for (auto it = r.begin(); it != r.end(); ++it) {
            out << (first ? "" : ", ") << it.key() << ' ' << it->dump();
            first = false;
        }
        out << '\n';
    }
    return {};
}

Result<void> run_deployment_update(const DeploymentUpdateOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(std::string id, iothub::check_deployment_id(opts.id));
    if (!opts.etag.empty() && opts.force) {
        return fail("--etag and --force cannot be combined", ExitCode::usage);
    }
    if (!opts.target_condition_given && !opts.priority_given && opts.labels.empty() && opts.metrics.empty()) {
        return fail("nothing to update: give --target-condition, --priority, --label or --metric", ExitCode::usage);
    }
    EDGESHIP_TRY_ASSIGN(auto labels, parse_pairs(opts.labels, "--label"));
    EDGESHIP_TRY_ASSIGN(auto metrics, parse_pairs(opts.metrics, "--metric"));
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));
    EDGESHIP_TRY_ASSIGN(auto c, hub.get_configuration(id));
    std::string if_match = opts.force ? "*" : (opts.etag.empty() ? str(c, "etag") : opts.etag);
    // docs/design/iothub.md §7.3: resend id, schemaVersion, labels, content, metrics, targetCondition,
    // priority.
    json body;
    body["id"] = id;
    body["schemaVersion"] = c.value("schemaVersion", "2.0");
    body["labels"] = c.contains("labels") && c["labels"].is_object() ? c["labels"] : json::object();
    body["content"] = c["content"];
    body["metrics"] = {{"queries", c.contains("metrics") && c["metrics"].contains("queries") ? c["metrics"]["queries"]
                                                                                             : json::object()}};
    body["targetCondition"] = str(c, "targetCondition");
    body["priority"] = c.value("priority", 0);
    if (opts.target_condition_given) {
        body["targetCondition"] = opts.target_condition;
    }
    if (opts.priority_given) {
        body["priority"] = opts.priority;
    }
    if (!opts.labels.empty()) {
        body["labels"] = labels;
    }
    if (!opts.metrics.empty()) {
        body["metrics"]["queries"] = metrics;
    }
    auto updated = iothub::update_deployment(hub, body, if_match);
    if (!updated) {
        return unexpected(std::move(updated).error().context("updating deployment " + id));
    }
    // A new target condition or priority reaches devices as the hub re-evaluates it: --wait follows the rollout
    // as create --wait does.
    iothub::WaitResult waited;
    if (opts.wait.wait) {
        EDGESHIP_TRY_ASSIGN(waited, wait_with_progress([&] { return iothub::poll_deployment(hub, id, opts.wait.page_size); },
                                                       opts.wait, opts.json, "deployment " + id, ctx));
    }
    if (opts.json && opts.wait.wait) {
        nlohmann::ordered_json result;
        result["deployment"] = *updated;
        result["rollout"] = iothub::summary_to_json(waited.summary);
        result["outcome"] = outcome_name(waited.outcome);
        ctx.io.out << result.dump(2) << '\n';
    } else if (opts.json) {
        ctx.io.out << updated->dump(2) << '\n';
    } else {
        ctx.io.out << "updated deployment " << id << " (etag " << str(*updated, "etag") << ")\n";
        if (opts.wait.wait) {
            print_summary(waited.summary, "deployment " + id, ctx);
        }
    }
    if (opts.wait.wait && waited.outcome != iothub::WaitOutcome::succeeded) {
        return unexpected(iothub::rollout_error(waited, "deployment " + id));
    }
    return {};
}

Result<void> run_deployment_delete(const DeploymentDeleteOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(std::string id, iothub::check_deployment_id(opts.id));
    if (!opts.etag.empty() && opts.force) {
        return fail("--etag and --force cannot be combined", ExitCode::usage);
    }
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));
    std::string if_match = opts.force ? "*" : opts.etag;
    auto seen = iothub::SeenBefore::no;
    if (if_match.empty()) {
        // Delete exactly what was looked at: read the current etag first.
        EDGESHIP_TRY_ASSIGN(auto c, hub.get_configuration(id));
        if_match = str(c, "etag");
        seen = iothub::SeenBefore::yes;
    }
    if (auto r = iothub::delete_deployment(hub, id, if_match, seen); !r) {
        return unexpected(std::move(r).error().context("deleting deployment " + id));
    }
    if (opts.json) {
        ctx.io.out << json{{"deleted", id}}.dump(2) << '\n';
    } else {
        ctx.io.out << "deleted deployment " << id << '\n';
    }
    return {};
}

Result<void> run_deployment_status(const DeploymentStatusOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(std::string id, iothub::check_deployment_id(opts.id));
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));
    EDGESHIP_TRY_ASSIGN(auto config, hub.get_configuration(id));
    iothub::FleetSummary summary;
    iothub::WaitResult waited;
    if (opts.wait.wait) {
        EDGESHIP_TRY_ASSIGN(waited, wait_with_progress([&] { return iothub::poll_deployment(hub, id, opts.wait.page_size); },
                                                       opts.wait, opts.json, "deployment " + id, ctx));
        summary = waited.summary;
    } else {
        EDGESHIP_TRY_ASSIGN(summary, iothub::poll_deployment(hub, id, opts.wait.page_size));
    }
    EDGESHIP_TRY_ASSIGN(auto metrics, iothub::count_metrics(hub, config, opts.wait.page_size));
    if (opts.json) {
        auto j = iothub::summary_to_json(summary);
        j["metrics"] = nlohmann::ordered_json::object();
        for (const auto& [k, v] : metrics) {
            j["metrics"][k] = v;
        }
        if (opts.wait.wait) {
            j["outcome"] = outcome_name(waited.outcome);
        }
        ctx.io.out << j.dump(2) << '\n';
    } else {
        print_summary(summary, "deployment " + id, ctx);
        for (const auto& [k, v] : metrics) {
            ctx.io.out << "  metric " << k << ": " << v << '\n';
        }
    }
    if (opts.wait.wait && waited.outcome != iothub::WaitOutcome::succeeded) {
        return unexpected(iothub::rollout_error(waited, "deployment " + id));
    }
    if (!opts.wait.wait && summary.failed > 0) {
        return unexpected(Error("deployment " + id + " failed on " + std::to_string(summary.failed) + " of " +
                                std::to_string(summary.targeted) + " devices"));
    }
    return {};
}

} // namespace edgeship::cli
