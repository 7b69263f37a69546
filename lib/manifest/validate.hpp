#pragma once
// Deployment manifest validation: JSON Schema (written from reference/iothub.md §3–§4) plus
// semantic checks (routes, createOptions chunks, twin limits, registry credentials, unresolved
// placeholders). See reference/iothub.md §3, §4, §11.2.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace edgeship::manifest {

/// One problem found in a manifest. `path` is a JSON path rooted at `$`, e.g.
/// `$.modulesContent.$edgeAgent.properties.desired.modules.score.settings.image`.
/// `error` is false for warnings (the manifest is still deployable).
struct Finding {
    std::string path;
    std::string message;
    bool error;
};

/// All findings for one manifest, in a stable order (schema findings first, then semantic checks).
struct ValidationReport {
    std::vector<Finding> findings;
    /// True when no finding is an error (warnings allowed).
    bool ok() const;
};

/// Validates a complete deployment manifest (`{"modulesContent": {...}}`) or a layered deployment
/// manifest (`{"content": {"modulesContent": {...}}}` is not accepted here; pass modulesContent's
/// parent). Never throws; pure function of its input; thread-safe.
ValidationReport validate_manifest(const nlohmann::json& manifest);

}  // namespace edgeship::manifest
