#include "iothub/rollout.hpp"

namespace edgeship::iothub {

namespace {

using nlohmann::json;

const json* at(const json& j, std::initializer_list<std::string_view> path) {
    const json* cur = &j;
    for (auto key : path) {
        if (!cur->is_object()) {
            return nullptr;
        }
        auto it = cur->find(std::string(key));
        if (it == cur->end()) {
            return nullptr;
        }
        cur = &*it;
    }
    return cur;
}

std::string str(const json* j) { return (j != nullptr && j->is_string()) ? j->get<std::string>() : std::string(); }

std::int64_t num(const json* j, std::int64_t fallback) {
    if (j != nullptr && j->is_number_integer()) {
        return j->get<std::int64_t>();
    }
    if (j != nullptr && j->is_number()) {
        return static_cast<std::int64_t>(j->get<double>());
    }
    return fallback;
}

// The edge agent's restart policy: a module in "backoff" will be restarted; the agent reports "failed" once
// restartCount >= MaxRestartCount, default 20 (Azure/iotedge
// edge-agent/src/Microsoft.Azure.Devices.Edge.Agent.Core/RestartPolicyManager.cs:48-50,
// edge-agent/src/Microsoft.Azure.Devices.Edge.Agent.Service/appsettings_agent.json:7; see
// docs/design/iothub-edge-agent.md).
constexpr std::int64_t max_restart_count = 20;

// The image the agent creates the container from (Azure/iotedge
// edge-agent/src/Microsoft.Azure.Devices.Edge.Agent.Docker/DockerConfig.cs:93-114, ValidateAndGetImage): trimmed,
// ":latest" added when there is neither tag nor digest. "$upstream" is rewritten to the parent's host, so
// "$upstream:443/x:1" matches a reported image with any host and the same rest.
std::string normalize_image(std::string image) {
    auto first = image.find_first_not_of(" \t\r\n");
    auto last = image.find_last_not_of(" \t\r\n");
    image = first == std::string::npos ? std::string() : image.substr(first, last - first + 1);
    if (image.empty()) {
        return image;
    }
    auto slash = image.rfind('/');
    std::string_view name = std::string_view(image).substr(slash == std::string::npos ? 0 : slash + 1);
    if (name.find(':') == std::string_view::npos && image.find('@') == std::string::npos) {
        image += ":latest";
    }
    return image;
}

bool same_image(const std::string& desired, const std::string& reported) {
    std::string want = normalize_image(desired);
    std::string have = normalize_image(reported);
    if (want.rfind("$upstream", 0) == 0) {
        auto ws = want.find('/');
        auto hs = have.find('/');
        return ws != std::string::npos && hs != std::string::npos && want.substr(ws) == have.substr(hs);
    }
    return want == have;
}

// Checks one desired module against its reported state (Azure/iotedge doc/reported_states_during_deployment.md).
void check_module(const std::string& name, const json& desired, const json* reported, std::vector<ModuleStatus>& out) {
    std::string want_status = str(at(desired, {"status"}));
    if (want_status.empty()) {
        want_status = "running";
    }
    std::string want_image = str(at(desired, {"settings", "image"}));
    if (reported == nullptr || !reported->is_object()) {
        out.push_back({name, "not reported yet (wants " + want_image + ")", false});
        return;
    }
    std::string status = str(at(*reported, {"runtimeStatus"}));
    std::string image = str(at(*reported, {"settings", "image"}));
    if ((status == "backoff" || status == "failed" || status == "dead" || status == "unhealthy") &&
        want_status == "running") {
        std::string detail = status;
        std::int64_t restarts = num(at(*reported, {"restartCount"}), 0);
        std::string extra;
        if (const auto* ec = at(*reported, {"exitCode"}); ec != nullptr && ec->is_number()) {
            extra += "exit code " + std::to_string(num(ec, 0));
        }
        if (const auto* rc = at(*reported, {"restartCount"}); rc != nullptr && rc->is_number()) {
            extra += (extra.empty() ? "" : ", ") + std::to_string(num(rc, 0)) + " restarts";
        }
        if (!extra.empty()) {
            detail += " (" + extra + ")";
        }
        if (auto sd = str(at(*reported, {"statusDescription"})); !sd.empty()) {
            detail += ": " + sd;
        }
        // failed/dead are final; backoff is final only past the restart policy; unhealthy is shown, not final.
        bool final = status == "failed" || status == "dead" || (status == "backoff" && restarts >= max_restart_count);
        out.push_back({name, detail, final});
        return;
    }
    if (!want_image.empty() && !same_image(want_image, image)) {
        out.push_back({name, "runs image " + (image.empty() ? "(none)" : image) + ", wants " + want_image, false});
        return;
    }
    if (status != want_status) {
        out.push_back({name, (status.empty() ? "unknown" : status) + ", wants " + want_status, false});
    }
}

nlohmann::ordered_json device_json(const DeviceRollout& d) {
    nlohmann::ordered_json j;
    j["device_id"] = d.device_id;
    j["reason"] = d.reason;
    j["modules"] = nlohmann::ordered_json::array();
    for (const auto& m : d.modules) {
        nlohmann::ordered_json mj;
        mj["name"] = m.name;
        mj["problem"] = m.problem;
        mj["failed"] = m.failed;
        j["modules"].push_back(std::move(mj));
    }
    return j;
}

std::string module_names(const std::vector<ModuleStatus>& modules, bool failed_only) {
    std::string s;
    for (const auto& m : modules) {
        if (failed_only && !m.failed) {
            continue;
        }
        s += (s.empty() ? "" : ", ") + m.name + ": " + m.problem;
    }
    return s;
}

} // namespace

bool agent_older_than_1_2(std::string_view version) {
    int parts[2] = {0, 0};
    std::size_t i = 0;
    for (int& part : parts) {
        std::size_t start = i;
        while (i < version.size() && version[i] >= '0' && version[i] <= '9' && i - start < 6) {
            part = part * 10 + (version[i] - '0');
            ++i;
        }
        if (i == start) {
            return false; // not a version we can read: do not assume an old agent
        }
        if (&part == &parts[0]) {
            if (i >= version.size() || version[i] != '.') {
                return false;
            }
            ++i;
        }
    }
    return parts[0] < 1 || (parts[0] == 1 && parts[1] < 2);
}

std::string_view desired_status_name(long code) {
    switch (code) {
    case 200: return "OK";
    case 400: return "ConfigFormatError";
    case 406: return "Unknown (agent not connected)";
    case 412: return "InvalidSchemaVersion";
    case 417: return "ConfigEmptyError";
    case 500: return "Failed";
    default: return "unknown status";
    }
}

DeviceRollout evaluate_twin(const json& twin, std::optional<std::string_view> deployment_id) {
    DeviceRollout d;
    d.device_id = str(at(twin, {"deviceId"}));
    if (deployment_id) {
        const json* cfg = at(twin, {"configurations", *deployment_id});
        std::string status = cfg != nullptr ? str(at(*cfg, {"status"})) : "";
        if (cfg == nullptr) {
            d.targeted = false;
            d.applied = false;
            d.reason = "not targeted by deployment " + std::string(*deployment_id);
            return d;
        }
        if (status != "Applied") {
            d.applied = false;
            std::string other;
            if (const json* all = at(twin, {"configurations"}); all != nullptr && all->is_object()) {
                for (auto it = all->begin(); it != all->end(); ++it) {
                    if (it.key() != *deployment_id && str(at(it.value(), {"status"})) == "Applied") {
                        other = it.key();
                    }
                }
            }
            d.reason = other.empty() ? "deployment targeted but not applied yet"
                                     : "deployment targeted, but " + other + " is applied (higher priority)";
            return d;
        }
    }
    const json* desired = at(twin, {"properties", "desired"});
    const json* reported = at(twin, {"properties", "reported"});
    d.desired_version = num(desired != nullptr ? at(*desired, {"$version"}) : nullptr, -1);
    d.reported_version = num(reported != nullptr ? at(*reported, {"lastDesiredVersion"}) : nullptr, -1);
    d.last_desired_status = num(reported != nullptr ? at(*reported, {"lastDesiredStatus", "code"}) : nullptr, 0);
    std::string description = reported != nullptr ? str(at(*reported, {"lastDesiredStatus", "description"})) : "";
    d.agent_version = reported != nullptr ? str(at(*reported, {"version", "version"})) : "";

    // Module checks (used for failures and for naming what is still missing).
    if (desired != nullptr) {
        if (const json* mods = at(*desired, {"modules"}); mods != nullptr && mods->is_object()) {
            for (auto it = mods->begin(); it != mods->end(); ++it) {
                const json* rep = reported != nullptr ? at(*reported, {"modules", it.key()}) : nullptr;
                check_module(it.key(), it.value(), rep, d.modules);
            }
        }
        if (const json* hub = at(*desired, {"systemModules", "edgeHub"}); hub != nullptr && hub->is_object()) {
            const json* rep = reported != nullptr ? at(*reported, {"systemModules", "edgeHub"}) : nullptr;
            check_module("edgeHub", *hub, rep, d.modules);
        }
    }

    bool old_agent = agent_older_than_1_2(d.agent_version);
    // Agents before 1.2.0 keep lastDesiredVersion when a new desired version yields an empty reconcile plan (an
    // identical manifest re-applied): only a non-empty plan updated the agent's current config. Fixed in 1.2.0
    // (Azure/iotedge#4166, commit 087de0b; edge-agent/src/Microsoft.Azure.Devices.Edge.Agent.Core/Agent.cs:153-161,
    // docs/design/iothub-edge-agent.md). Such an agent reports 200 for the old version with every module as desired:
    // accept that, and say so.
    if (old_agent && d.reported_version >= 0 && d.reported_version < d.desired_version && d.last_desired_status == 200 &&
        d.modules.empty()) {
        d.state = DeviceState::succeeded;
        d.reason.clear();
        d.note = "edge agent " + d.agent_version + " (before 1.2.0) keeps lastDesiredVersion " +
                 std::to_string(d.reported_version) + " for an identical manifest (desired " +
                 std::to_string(d.desired_version) + "); accepted because every module runs as desired";
        return d;
    }
    if (d.reported_version < 0 || d.reported_version < d.desired_version) {
        d.state = DeviceState::pending;
        d.reason = d.reported_version < 0
                       ? "the edge agent has not reported yet (device offline or runtime not started)"
                       : "waiting for the edge agent to apply desired version " + std::to_string(d.desired_version) +
                             " (last applied " + std::to_string(d.reported_version) + ")";
        return d;
    }
    long code = d.last_desired_status;
    // 400/412 are final. 500 is one failed reconcile attempt (a pull over about a minute reports "The operation
    // was canceled") that the agent retries: in progress until the caller's timeout (Azure/iotedge
    // doc/reported_states_during_deployment.md:241-251 and :355-364).
    if (code == 500) {
        d.state = DeviceState::pending;
        d.reason = "edge agent reports 500 Failed, retrying" + (description.empty() ? "" : ": " + description);
        std::string mods = module_names(d.modules, false);
        if (!mods.empty()) {
            d.reason += " (" + mods + ")";
        }
        bool any_final = false;
        for (const auto& m : d.modules) {
            any_final = any_final || m.failed;
        }
        if (any_final) {
            d.state = DeviceState::failed;
            d.reason = "module failing: " + module_names(d.modules, true);
        }
        return d;
    }
    if (code == 400 || code == 412) { // failed
        d.state = DeviceState::failed;
        d.reason = "edge agent reports " + std::to_string(code) + " " + std::string(desired_status_name(code)) +
                   (description.empty() ? "" : ": " + description);
        return d;
    }
    if (code != 200) { // 406, 417 and anything unknown: not yet
        d.state = DeviceState::pending;
        d.reason = "edge agent reports " + std::to_string(code) + " " + std::string(desired_status_name(code));
        return d;
    }
    bool any_failed = false;
    for (const auto& m : d.modules) {
        any_failed = any_failed || m.failed;
    }
    if (any_failed) {
        d.state = DeviceState::failed;
        d.reason = "module failing: " + module_names(d.modules, true);
        return d;
    }
    if (!d.modules.empty()) { // backoff below MaxRestartCount, unhealthy, old image, not created yet
        d.state = DeviceState::pending;
        d.reason = "modules not ready: " + module_names(d.modules, false);
        return d;
    }
    d.state = DeviceState::succeeded;
    d.reason.clear();
    return d;
}

FleetSummary summarize(std::string deployment_id, const std::vector<DeviceRollout>& devices) {
    FleetSummary s;
    s.deployment_id = std::move(deployment_id);
    for (const auto& d : devices) {
        if (!d.targeted) {
            continue;
        }
        ++s.targeted;
        if (d.applied) {
            ++s.applied;
        }
        switch (d.state) {
        case DeviceState::succeeded:
            ++s.succeeded;
            if (!d.note.empty()) {
                s.notes.push_back(d.device_id + ": " + d.note);
            }
            break;
        case DeviceState::failed:
            ++s.failed;
            s.failures.push_back(d);
            break;
        case DeviceState::pending:
            ++s.pending;
            s.pending_devices.push_back(d);
            break;
        }
    }
    return s;
}

nlohmann::ordered_json summary_to_json(const FleetSummary& s) {
    nlohmann::ordered_json j;
    if (!s.deployment_id.empty()) {
        j["deployment"] = s.deployment_id;
    }
    j["targeted"] = s.targeted;
    j["applied"] = s.applied;
    j["succeeded"] = s.succeeded;
    j["failed"] = s.failed;
    j["pending"] = s.pending;
    j["complete"] = s.all_succeeded();
    j["failures"] = nlohmann::ordered_json::array();
    for (const auto& d : s.failures) {
        j["failures"].push_back(device_json(d));
    }
    j["pending_devices"] = nlohmann::ordered_json::array();
    for (const auto& d : s.pending_devices) {
        j["pending_devices"].push_back(device_json(d));
    }
    j["notes"] = s.notes;
    if (!s.targeting_settled) {
        j["targeting_settled"] = false;
    }
    return j;
}

std::string summary_line(const FleetSummary& s) {
    return std::to_string(s.succeeded) + "/" + std::to_string(s.targeted) + " succeeded, " +
           std::to_string(s.failed) + " failed, " + std::to_string(s.pending) + " pending (targeted " +
           std::to_string(s.targeted) + ", applied " + std::to_string(s.applied) + ")";
}

} // namespace edgeship::iothub
