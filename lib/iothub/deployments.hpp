#pragma once

// Deployments on IoT Hub (docs/design/iothub.md §5, §7.2, §8, §9, §12): manifests, configuration
// objects, create/update/delete with etags, rollout polling (one request per query page, never one per
// device) and the bounded wait used by --wait and --replace.

#include "core/result.hpp"
#include "iothub/client.hpp"
#include "iothub/rollout.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace edgeship::iothub {

/// Reads a deployment manifest: `{"modulesContent": …}` or `{"content": {"modulesContent": …}}` (both
/// accepted by az, docs/design/iothub.md §4.3). Returns `{"modulesContent": …}`. Errors name the file.
Result<nlohmann::json> load_manifest(const std::filesystem::path& path);

/// True when $edgeAgent's keys are dotted `properties.desired.<path>` keys (a layered deployment, §5).
bool is_layered(const nlohmann::json& manifest);

struct DeploymentSpec {
    std::string id; ///< already checked with check_deployment_id()
    nlohmann::json manifest; ///< {"modulesContent": …}
    std::string target_condition;
    int priority = 0;
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> metrics; ///< name → query
};

/// The configuration object sent on create (docs/design/iothub.md §7.3 / §8): id, schemaVersion "2.0",
/// labels, content.modulesContent, metrics.queries, targetCondition, priority.
nlohmann::json configuration_body(const DeploymentSpec& spec);

/// True when `existing` (from the hub) carries the same content, target condition, priority, labels
/// and metric queries as `sent` — how a retried create that meets 409 recognises its own deployment.
bool same_deployment(const nlohmann::json& sent, const nlohmann::json& existing);

/// `"<etag>"` for If-Match (docs/design/iothub.md §8: unquoted in bodies, quoted in headers); "*" stays "*".
std::string quote_etag(std::string_view etag);

struct CreateOutcome {
    nlohmann::json configuration;         ///< as returned by the hub (with etag)
    bool confirmed_after_conflict = false; ///< a retry met 409 and the existing one is ours
};

/// PUT /configurations/{id} without If-Match (§12.6). 409 on the first attempt: "already exists"
/// (exit 1, with the --replace hint). 409 after a retried attempt: GET it and compare (same_deployment).
Result<CreateOutcome> create_deployment(HubClient& hub, const DeploymentSpec& spec);

/// PUT with `If-Match: <quoted etag or *>` resending the whole configuration (only mutable fields
/// should differ). 412 → GET: when the hub's copy already holds what was sent (an earlier attempt landed and
/// its answer was lost) that copy is returned; otherwise a "changed since it was read" error.
Result<nlohmann::json> update_deployment(HubClient& hub, const nlohmann::json& configuration,
                                         const std::string& if_match);

/// Whether the caller saw the deployment on the hub just before deleting it (it read its etag).
enum class SeenBefore { no, yes };

/// DELETE /configurations/{id} with `If-Match`; 204 expected. A 404 is success when the request was retried
/// (an earlier attempt deleted it and its answer was lost) or when `seen` is yes: libcurl itself resends a
/// request whose reused keep-alive connection died before any answer, so a lost answer can also come back as
/// a first-attempt 404. Either way the deployment is gone, which is what was asked.
Result<void> delete_deployment(HubClient& hub, const std::string& id, const std::string& if_match,
                               SeenBefore seen = SeenBefore::no);

/// The fleet query: every $edgeAgent module twin that names the deployment in `configurations`.
std::string fleet_query(const std::string& deployment_id);

/// One poll of a deployment's fleet: ceil(devices / page_size) query requests.
Result<FleetSummary> poll_deployment(HubClient& hub, const std::string& deployment_id, int page_size);

/// One poll of one device: GET /twins/{id}/modules/$edgeAgent.
Result<FleetSummary> poll_device(HubClient& hub, const std::string& device_id);

/// Runs each custom metric query of a configuration and counts the rows (all pages).
Result<std::map<std::string, std::size_t>> count_metrics(HubClient& hub, const nlohmann::json& configuration,
                                                         int page_size);

enum class WaitOutcome { succeeded, failed, timed_out };

struct WaitOptions {
    std::chrono::milliseconds timeout{std::chrono::minutes(10)};
    std::chrono::milliseconds interval{std::chrono::seconds(5)};
    /// Called after every poll with the summary and the time waited so far.
    std::function<void(const FleetSummary&, std::chrono::milliseconds)> progress;
    const core::CancelToken* cancel = &core::CancelToken::global();
    /// Waits between polls; returns false when cancelled. Default: cancellable sleep.
    std::function<bool(std::chrono::milliseconds)> sleep;
    std::function<std::chrono::steady_clock::time_point()> clock; ///< default steady_clock::now
};

struct WaitResult {
    FleetSummary summary;
    WaitOutcome outcome = WaitOutcome::timed_out;
    std::chrono::milliseconds elapsed{0};
    int polls = 0;
};

/// Polls until nothing is pending, something is targeted and (for a deployment) the targeted count is the
/// same as at the previous poll, or the timeout passes. Bounded: at most timeout / interval + 2 polls. Errors from `poll` stop the wait; Ctrl-C returns exit 130.
Result<WaitResult> wait_for_rollout(const std::function<Result<FleetSummary>()>& poll, const WaitOptions& options);

/// The one-line error for a wait that did not succeed, naming devices and modules (at most 5 devices).
Error rollout_error(const WaitResult& result, std::string_view what);

struct ReplaceResult {
    CreateOutcome created;
    WaitResult wait;
    bool old_deleted = false;
};

/// Safe replacement (docs/design/iothub.md §5 immutability; Azure/azure-cli-extensions#1988): creates `spec`
/// (its priority must be higher than the old one's), waits until it has succeeded on every targeted device,
/// then deletes `old_id` with the etag read at the start. If the wait does not succeed the old
/// deployment is kept and an error says so. `log` receives one line per phase.
Result<ReplaceResult> replace_deployment(HubClient& hub, const DeploymentSpec& spec, const nlohmann::json& old_config,
                                         const WaitOptions& wait, int page_size,
                                         const std::function<void(const std::string&)>& log);

} // namespace edgeship::iothub
