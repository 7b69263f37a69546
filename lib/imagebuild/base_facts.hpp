#pragma once
// What a daemonless build must know about its base image before it adds layers on top, without running
// it: does it hold the language runtime, which language version (pip installs wheels for one Python
// X.Y), and does the runtime's user exist. The config answers when the base is an official image
// (NODE_VERSION, PYTHON_VERSION in its Env); otherwise the layers' file lists do (read with libarchive,
// nothing unpacked).

#include "core/cancel.hpp"
#include "core/result.hpp"
#include "imagebuild/runtime_image.hpp"
#include "oci/image.hpp"

#include <optional>
#include <set>
#include <string>

namespace edgeship::imagebuild {

struct BaseFacts {
    bool has_runtime = false;
    std::string runtime_version;  ///< the probe Env's value ("3.11.9", "20.18.0") or "" when found by file
    std::string language_version; ///< "X.Y" when known (Env or a version directory)
    bool scanned = false;         ///< the layers were read (users below are meaningful)
    std::set<std::string> users;  ///< names in the top-most etc/passwd
};

/// The facts the config alone gives: runtime and version when the probe's Env is set.
BaseFacts facts_from_config(const oci::ImageConfig& config, const RuntimeProbe& probe);

/// The facts from the layers' file lists (every layer must be local: ImageLayer::path set). Whiteouts
/// are not applied: a base that deletes its runtime in an upper layer is not detected.
Result<BaseFacts> scan_base_layers(const oci::LocalImage& base, const RuntimeProbe& probe,
                                   const core::CancelToken* cancel = &core::CancelToken::global());

/// True when `user` ("node", "1000", "1000:1000", "app:app") can run without an etc/passwd entry
/// (numeric uid) or names a user of `facts` (only meaningful when scanned).
bool user_resolvable(const std::string& user, const BaseFacts& facts);

/// Whether the layers must be read: no Env answer, or pip needs X.Y the Env does not give, or a named
/// (non-numeric) user must be found in etc/passwd.
bool needs_layer_scan(const BaseFacts& from_config, const RuntimeImage& runtime);

} // namespace edgeship::imagebuild
