#pragma once
// The "image" section of templates/runtimes/<name>/runtime.json: what the final stage of the runtime's
// Dockerfile does (ENV, WORKDIR, USER, EXPOSE, CMD, COPY), as data, so a daemonless build can reproduce it
// without parsing Dockerfiles. RUN steps cannot be reproduced: the base image must already hold the
// runtime ("requires").

#include "core/result.hpp"
#include "solution/layout.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeship::imagebuild {

/// One COPY of the Dockerfile: `from` is relative to the module's build context ("app/"), `to` is the
/// absolute destination in the image ("/app/app/"). A directory source copies its contents, as COPY does.
struct CopyRule {
    std::string from;
    std::string to;
    bool model = false; ///< "layer": "model" — goes into the separate model layer
};

/// The runtime's dependencies, installed by build itself into a layer of their own (between the base and
/// the model: they change less often than either), so the base needs only the language runtime.
/// runtime.json "image": {"deps": {...}}.
struct DepsRecipe {
    std::string tool;               ///< "npm" (npm ci from the lockfile) or "pip" (wheels only, --target)
    std::vector<std::string> files; ///< context-relative files that define the dependencies: the cache key
    std::string to;                 ///< absolute directory in the image ("/app/node_modules")
    /// npm: directories (globs relative to node_modules) laid out as <os>/<cpu>/ that ship prebuilt
    /// binaries for every platform; only the target's own <os>/<cpu> is kept in the layer.
    std::vector<std::string> platform_dirs;
    /// pip: the wheel platform tag, "{arch}" replaced by x86_64 / aarch64 (e.g. manylinux_2_36_{arch}).
    std::string pip_platform;
};

/// How to tell that a base image holds the language runtime: a config Env naming its version (set by
/// the official images), else one of `files` in its layers. `version_dirs` (regex over layer paths with
/// one capture group) gives the language version when the Env does not (pip needs X.Y).
struct RuntimeProbe {
    std::string version_env;            ///< "NODE_VERSION", "PYTHON_VERSION"
    std::vector<std::string> files;     ///< "usr/bin/node", "usr/local/bin/node"
    std::string version_dir_regex;      ///< "^usr/(?:local/)?lib/python(3\\.[0-9]+)/"
};

/// Container settings of one flavour (release or debug).
struct ImageSettings {
    std::vector<std::pair<std::string, std::string>> env; ///< in order; values already substituted except {{MODEL_FILE}}
    std::vector<std::string> expose;                      ///< "8080" or "8080/tcp"
    std::vector<std::string> cmd;
};

/// A runtime's image recipe. Placeholders {{PORT}} and {{DEBUG_PORT}} are substituted when parsed;
/// {{MODEL_FILE}} when the model is known (settings_for).
struct RuntimeImage {
    std::string runtime;  ///< runtime.json "name"
    std::string language; ///< module.json "language" this runtime scaffolds ("python", "nodejs")
    std::string requires_text; ///< what the base image must hold (used in the "no base image" error)
    std::string workdir;
    std::string user;
    std::vector<CopyRule> copy;
    std::optional<DepsRecipe> deps;       ///< image.deps
    RuntimeProbe probe;                   ///< image.runtime_probe
    /// The official base image per platform ("node:20-bookworm-slim"): runtime.json "platforms".
    std::map<std::string, std::string> default_bases;
    ImageSettings release;
    /// Debug flavour ("<platform>.debug"): release settings with these env overrides, expose and cmd.
    bool has_debug = false;
    ImageSettings debug;

    /// The settings for a flavour with {{MODEL_FILE}} replaced by `model_file`.
    ImageSettings settings_for(bool debug_flavour, const std::string& model_file) const;
};

/// Parses runtime.json text. `what` names it in errors ("runtimes/python-onnxruntime/runtime.json").
/// Errors: not JSON, no "image" section, missing or mistyped fields (named), no copy rule marked
/// "layer": "model" or more than one, a "to" that is not absolute.
Result<RuntimeImage> parse_runtime_image(std::string_view runtime_json, std::string_view what);

/// The runtime of a module: module.json "edgeship": {"runtime": NAME} when present, else the one runtime
/// whose language equals module.json "language". Errors name the module.json and list the runtimes.
Result<const RuntimeImage*> select_runtime(const solution::ModuleInfo& module, const std::vector<RuntimeImage>& runtimes);

} // namespace edgeship::imagebuild
