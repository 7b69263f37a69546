#include "iothub/deployments.hpp"

#include "core/fs.hpp"
#include "http/error.hpp"
#include "iothub/service_error.hpp"

#include <thread>

namespace edgeship::iothub {

using nlohmann::json;

Result<json> load_manifest(const std::filesystem::path& path) {
    EDGESHIP_TRY_ASSIGN(std::string text, core::read_file(path));
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        // nlohmann's message carries the line and column.
        std::string what = e.what();
        auto pos = what.find("] ");
        return fail(path.string() + ": not valid JSON: " + (pos == std::string::npos ? what : what.substr(pos + 2)));
    }
    if (j.is_object() && j.contains("content") && j["content"].is_object() &&
        j["content"].contains("modulesContent")) {
        j = json{{"modulesContent", j["content"]["modulesContent"]}};
    }
    if (!j.is_object() || !j.contains("modulesContent")) {
        return unexpected(Error(path.string() + ": not a deployment manifest: no top-level modulesContent")
                              .hint("expected {\"modulesContent\": {\"$edgeAgent\": …, \"$edgeHub\": …}}"));
    }
    if (!j["modulesContent"].is_object()) {
        return fail(path.string() + ": modulesContent is not an object");
    }
    return j;
}

bool is_layered(const json& manifest) {
    const json* agent = nullptr;
    if (manifest.contains("modulesContent") && manifest["modulesContent"].contains("$edgeAgent")) {
        agent = &manifest["modulesContent"]["$edgeAgent"];
    }
    if (agent == nullptr || !agent->is_object()) {
        return false;
    }
    for (auto it = agent->begin(); it != agent->end(); ++it) {
        if (it.key().starts_with("properties.desired.")) {
            return true;
        }
    }
    return false;
}

json configuration_body(const DeploymentSpec& spec) {
    json body;
    body["id"] = spec.id;
    body["schemaVersion"] = "2.0";
    body["labels"] = json::object();
    for (const auto& [k, v] : spec.labels) {
        body["labels"][k] = v;
    }
    body["content"] = {{"modulesContent", spec.manifest.at("modulesContent")}};
    body["metrics"] = {{"queries", json::object()}};
    for (const auto& [k, v] : spec.metrics) {
        body["metrics"]["queries"][k] = v;
    }
    body["targetCondition"] = spec.target_condition;
    body["priority"] = spec.priority;
    return body;
}

namespace {

json field(const json& j, const char* key, json fallback) {
    auto it = j.find(key);
    return (it == j.end() || it->is_null()) ? fallback : *it;
}

json metric_queries(const json& config) {
    auto m = field(config, "metrics", json::object());
    return m.is_object() ? field(m, "queries", json::object()) : json::object();
}

} // namespace

bool same_deployment(const json& sent, const json& existing) {
    return field(sent, "content", json::object()) == field(existing, "content", json::object()) &&
           field(sent, "targetCondition", "") == field(existing, "targetCondition", "") &&
           field(sent, "priority", 0) == field(existing, "priority", 0) &&
           field(sent, "labels", json::object()) == field(existing, "labels", json::object()) &&
           metric_queries(sent) == metric_queries(existing);
}

std::string quote_etag(std::string_view etag) {
    if (etag == "*" || (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')) {
        return std::string(etag);
    }
    return "\"" + std::string(etag) + "\"";
}

Result<CreateOutcome> create_deployment(HubClient& hub, const DeploymentSpec& spec) {
    json body = configuration_body(spec);
    auto req = hub.make_request("PUT", {"configurations", spec.id}, body); // no If-Match: create only (§12.6)
    EDGESHIP_TRY_ASSIGN(auto response, hub.send(req, Operation::configuration));
    CreateOutcome out;
    if (response.status == 200 || response.status == 201) {
        EDGESHIP_TRY_ASSIGN(out.configuration, parse_json_body(req, response));
        return out;
    }
    if (response.status == 409) {
        if (response.attempts > 1) {
            // An earlier attempt may have landed before its answer was lost: is it ours?
            hub.logger().debug("create of " + spec.id + " met 409 after a retry; checking whether it is ours");
            EDGESHIP_TRY_ASSIGN(auto existing, hub.get_configuration(spec.id));
            if (same_deployment(body, existing)) {
                out.configuration = std::move(existing);
                out.confirmed_after_conflict = true;
                return out;
            }
            return unexpected(Error("deployment " + spec.id +
                                    " already exists with different content (it was not created by this run)")
                                  .hint("deployment content is immutable: choose a new id, e.g. with --replace " +
                                        spec.id));
        }
        Error e = hub_error(req, response);
        return unexpected(std::move(e.context("deployment " + spec.id + " already exists"))
                              .hint("deployment content is immutable: create a new id with a higher priority "
                                    "and retire this one: edgeship deployment create NEW --replace " +
                                    spec.id + " …"));
    }
    return unexpected(hub_error(req, response));
}

Result<json> update_deployment(HubClient& hub, const json& configuration, const std::string& if_match) {
    std::string id = configuration.value("id", "");
    auto req = hub.make_request("PUT", {"configurations", id}, configuration, {{"If-Match", quote_etag(if_match)}});
    EDGESHIP_TRY_ASSIGN(auto response, hub.send(req, Operation::configuration));
    if (response.status == 200 || response.status == 201) {
        return parse_json_body(req, response);
    }
    if (response.status == 412) {
        // An earlier attempt may have landed (changing the etag) before its answer was lost, retried by us or
        // resent by libcurl on a dead keep-alive connection: is the hub's copy what we sent?
        hub.logger().debug("update of " + id + " met 412; checking whether the hub already holds this update");
        EDGESHIP_TRY_ASSIGN(auto existing, hub.get_configuration(id));
        if (same_deployment(configuration, existing)) {
            return existing;
        }
    }
    Error e = hub_error(req, response);
    if (response.status == 412) {
        e.hint("deployment " + id + " changed since it was read (etag mismatch); show it again, or use --force");
    }
    return unexpected(std::move(e));
}

Result<void> delete_deployment(HubClient& hub, const std::string& id, const std::string& if_match, SeenBefore seen) {
    auto req = hub.make_request("DELETE", {"configurations", id}, std::nullopt, {{"If-Match", quote_etag(if_match)}});
    EDGESHIP_TRY_ASSIGN(auto response, hub.send(req, Operation::configuration));
    if (response.status == 204 || response.status == 200) {
        return {};
    }
    if (response.status == 404 && (response.attempts > 1 || seen == SeenBefore::yes)) {
        // An earlier attempt (ours, or libcurl's silent resend on a dead keep-alive connection) deleted it and its
        // answer was lost: the deployment is gone, which is what was asked.
        hub.logger().debug("delete of " + id + " met 404 after it was seen or retried: it is gone already");
        return {};
    }
    Error e = hub_error(req, response);
    if (response.status == 412) {
        e.hint("deployment " + id + " changed since it was read (etag mismatch); check it, or use --force");
    }
    return unexpected(std::move(e));
}

std::string fleet_query(const std::string& deployment_id) {
    // Deployment ids never contain ']' (check_deployment_id), so [[…]] quoting is safe.
    return "SELECT * FROM devices.modules WHERE moduleId = '$edgeAgent' AND IS_DEFINED(configurations.[[" +
           deployment_id + "]])";
}

Result<FleetSummary> poll_deployment(HubClient& hub, const std::string& deployment_id, int page_size) {
    std::vector<DeviceRollout> devices;
    EDGESHIP_TRY(hub.query(fleet_query(deployment_id), page_size, [&](const json& twin) -> Result<void> {
        devices.push_back(evaluate_twin(twin, deployment_id));
        return {};
    }));
    return summarize(deployment_id, devices);
}

Result<FleetSummary> poll_device(HubClient& hub, const std::string& device_id) {
    EDGESHIP_TRY_ASSIGN(auto twin, hub.get_module_twin(device_id, "$edgeAgent"));
    auto d = evaluate_twin(twin, std::nullopt);
    if (d.device_id.empty()) {
        d.device_id = device_id;
    }
    return summarize("", {d});
}

Result<std::map<std::string, std::size_t>> count_metrics(HubClient& hub, const json& configuration, int page_size) {
    std::map<std::string, std::size_t> out;
    json queries = metric_queries(configuration);
    if (!queries.is_object()) {
        return out;
    }
    for (auto it = queries.begin(); it != queries.end(); ++it) {
        if (!it.value().is_string()) {
            continue;
        }
        auto n = hub.query(it.value().get<std::string>(), page_size, [](const json&) -> Result<void> { return {}; });
        if (!n) {
            return unexpected(std::move(n).error().context("metric " + it.key()));
        }
        out[it.key()] = *n;
    }
    return out;
}

Result<WaitResult> wait_for_rollout(const std::function<Result<FleetSummary>()>& poll, const WaitOptions& o) {
    auto now = [&o] { return o.clock ? o.clock() : std::chrono::steady_clock::now(); };
    auto sleeper = [&o](std::chrono::milliseconds d) {
        if (o.sleep) {
            return o.sleep(d);
        }
        auto end = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < end) {
            if (o.cancel != nullptr && o.cancel->cancelled()) {
                return false;
            }
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                end - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
        }
        return true;
    };
    const auto start = now();
    const auto interval = std::max(o.interval, std::chrono::milliseconds(1));
    // Bounded: one poll per interval until the timeout, plus the first and the last.
    const long long max_polls = o.timeout.count() / interval.count() + 2;
    WaitResult r;
    for (long long i = 0; i < max_polls; ++i) {
        if (o.cancel != nullptr && o.cancel->cancelled()) {
            return unexpected(core::cancelled_error());
        }
        std::optional<std::size_t> previous_targeted;
        if (r.polls > 0) {
            previous_targeted = r.summary.targeted;
        }
        EDGESHIP_TRY_ASSIGN(r.summary, poll());
        ++r.polls;
        // The hub evaluates target conditions asynchronously (a new or updated deployment reaches its devices
        // over several minutes, docs/design/iothub-edge-agent.md): a fleet is only done when two consecutive
        // polls saw the same targeted count. A single device (no deployment) has nothing to evaluate.
        if (!r.summary.deployment_id.empty()) {
            r.summary.targeting_settled = previous_targeted.has_value() && *previous_targeted == r.summary.targeted;
        }
        r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now() - start);
        if (o.progress) {
            o.progress(r.summary, r.elapsed);
        }
        if (r.summary.settled()) {
            r.outcome = r.summary.failed == 0 ? WaitOutcome::succeeded : WaitOutcome::failed;
            return r;
        }
        if (r.elapsed >= o.timeout) {
            break;
        }
        auto left = o.timeout - r.elapsed;
        if (!sleeper(std::min(interval, left))) {
            return unexpected(core::cancelled_error());
        }
    }
    r.outcome = WaitOutcome::timed_out;
    return r;
}

namespace {

std::string describe_devices(const std::vector<DeviceRollout>& devices) {
    std::string s;
    std::size_t shown = 0;
    for (const auto& d : devices) {
        if (shown == 5) {
            s += "; and " + std::to_string(devices.size() - shown) + " more";
            break;
        }
        s += (s.empty() ? "" : "; ") + d.device_id + ": " + d.reason;
        ++shown;
    }
    return s;
}

std::string duration_text(std::chrono::milliseconds d) {
    auto s = d.count() / 1000;
    if (s >= 60) {
        return std::to_string(s / 60) + "m" + (s % 60 != 0 ? std::to_string(s % 60) + "s" : "");
    }
    if (s == 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
        return buf;
    }
    return std::to_string(s) + "s";
}

} // namespace

Error rollout_error(const WaitResult& r, std::string_view what) {
    const auto& s = r.summary;
    if (r.outcome == WaitOutcome::failed) {
        return Error(std::string(what) + " failed on " + std::to_string(s.failed) + " of " +
                     std::to_string(s.targeted) + " device" + (s.targeted == 1 ? "" : "s") + ": " +
                     describe_devices(s.failures));
    }
    std::string msg = std::string(what) + ": timed out after " + duration_text(r.elapsed) + ": ";
    if (s.targeted > 0 && s.pending == 0 && !s.targeting_settled) {
        msg += summary_line(s) + "; the targeted count was still changing (the hub is evaluating the target condition)";
        if (!s.failures.empty()) {
            msg += "; failed: " + describe_devices(s.failures);
        }
        return Error(msg);
    }
    if (s.targeted == 0) {
        msg += "no device is targeted yet";
        return Error(msg).hint("check the target condition; the hub can take a few minutes to evaluate it");
    }
    msg += summary_line(s);
    if (!s.failures.empty()) {
        msg += "; failed: " + describe_devices(s.failures);
    }
    if (!s.pending_devices.empty()) {
        msg += "; pending: " + describe_devices(s.pending_devices);
    }
    return Error(msg);
}

Result<ReplaceResult> replace_deployment(HubClient& hub, const DeploymentSpec& spec, const json& old_config,
                                         const WaitOptions& wait, int page_size,
                                         const std::function<void(const std::string&)>& log) {
    std::string old_id = old_config.value("id", "");
    int old_priority = old_config.value("priority", 0);
    if (spec.priority <= old_priority) {
        return unexpected(Error("--priority " + std::to_string(spec.priority) + " must be higher than " + old_id +
                                    "'s priority " + std::to_string(old_priority),
                                ExitCode::usage)
                              .hint("omit --priority to use " + std::to_string(old_priority + 1)));
    }
    ReplaceResult out;
    log("creating deployment " + spec.id + " (priority " + std::to_string(spec.priority) + ", replaces " + old_id +
        " at priority " + std::to_string(old_priority) + ")");
    EDGESHIP_TRY_ASSIGN(out.created, create_deployment(hub, spec));
    log("waiting until " + spec.id + " has succeeded on every targeted device before removing " + old_id);
    EDGESHIP_TRY_ASSIGN(out.wait, wait_for_rollout([&] { return poll_deployment(hub, spec.id, page_size); }, wait));
    if (out.wait.outcome != WaitOutcome::succeeded) {
        return out; // the caller reports it; the old deployment stays
    }
    std::string etag = old_config.value("etag", "*");
    log("deleting deployment " + old_id);
    if (auto r = delete_deployment(hub, old_id, etag, SeenBefore::yes); !r) {
        return unexpected(std::move(r).error().context(spec.id + " is rolled out, but deleting " + old_id + " failed"));
    }
    out.old_deleted = true;
    return out;
}

} // namespace edgeship::iothub
