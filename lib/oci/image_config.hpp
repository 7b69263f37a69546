#pragma once

#include "core/result.hpp"
#include "oci/digest.hpp"
#include "oci/manifest.hpp"
#include "oci/platform.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::oci {

/// One "history" entry of an image config (OCI image-spec config.md).
struct HistoryEntry {
    std::string created; ///< RFC 3339, e.g. "1970-01-01T00:00:01Z"
    std::string created_by;
    std::string author;
    std::string comment;
    bool empty_layer = false; ///< true for config-only steps (no entry in rootfs.diff_ids)

    friend bool operator==(const HistoryEntry&, const HistoryEntry&) = default;
};

/// The runtime part of an image config ("config": Env, Cmd, ExposedPorts…). Keys edgeship does not
/// model are kept in `other` and written back unchanged, so a base image's settings survive.
struct ContainerConfig {
    std::string user;
    std::set<std::string> exposed_ports; ///< "8080/tcp"
    std::vector<std::string> env;        ///< "NAME=value", order kept
    std::optional<std::vector<std::string>> entrypoint;
    std::optional<std::vector<std::string>> cmd;
    std::set<std::string> volumes;
    std::string working_dir;
    std::map<std::string, std::string> labels;
    std::string stop_signal;
    nlohmann::json other = nlohmann::json::object();

    /// Sets NAME=value, replacing an existing NAME (Docker's ENV semantics).
    void set_env(std::string_view name, std::string_view value);
    /// The value of NAME, if set.
    std::optional<std::string> env_value(std::string_view name) const;
    /// Adds "8080" (as 8080/tcp), "8080/tcp" or "5000/udp". Errors on anything else.
    Result<void> expose(std::string_view port);
};

/// An image config (application/vnd.oci.image.config.v1+json, the same JSON as Docker's
/// application/vnd.docker.container.image.v1+json). Unknown top-level keys are kept in `other`.
/// Value type; not thread-safe for concurrent mutation.
struct ImageConfig {
    std::string created; ///< RFC 3339; empty ⇒ omitted
    std::string author;
    std::string architecture = "amd64";
    std::string os = "linux";
    std::string variant;
    std::string os_version;
    ContainerConfig config;
    std::vector<Digest> diff_ids; ///< rootfs.diff_ids: sha256 of each *uncompressed* layer, in order
    std::vector<HistoryEntry> history;
    nlohmann::json other = nlohmann::json::object();

    Platform platform() const;
    void set_platform(const Platform& p);
    /// Appends a layer's DiffID and a history entry for it (empty_layer forced to false).
    void append_layer(const Digest& diff_id, HistoryEntry history_entry);
    /// Number of history entries that are not empty_layer (must equal diff_ids.size() when present).
    std::size_t non_empty_history() const;

    nlohmann::json to_json() const;
    /// Canonical bytes + descriptor with the config media type of `format`.
    Result<Blob> to_blob(ManifestFormat format) const;
    /// Parses a config. Errors name `what` and the field. rootfs.type must be "layers".
    static Result<ImageConfig> parse(std::string_view bytes, std::string_view what);
};

/// "YYYY-MM-DDTHH:MM:SSZ" (UTC) of seconds since the epoch.
std::string format_rfc3339(std::int64_t epoch_seconds);

} // namespace edgeship::oci
