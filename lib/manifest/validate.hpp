#pragma once
// Deployment manifest validation: a JSON Schema (templates/schema/deployment-manifest.schema.json)
// plus semantic checks taken from the edge agent's and edgeHub's behaviour (routes, createOptions
// chunks, twin limits, registry credentials, unresolved placeholders). docs/validate.md lists them.

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

/// Validates a deployment manifest: `{"modulesContent": {...}}` or the configuration form
/// `{"content": {"modulesContent": {...}}}` (legacy `moduleContent` is read with a warning), full or
/// layered (layered = dotted `properties.desired.*` paths, or `"$edgeAgent": {}`). Paths in findings
/// are rooted at the document given. Never throws; pure function of its input; thread-safe.
ValidationReport validate_manifest(const nlohmann::json& manifest);

}  // namespace edgeship::manifest
