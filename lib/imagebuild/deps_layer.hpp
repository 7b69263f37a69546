#pragma once
// The dependencies layer (docs/build.md, "The dependencies layer"): the runtime's packages installed by
// build itself with the user's own tools, for the target platform, without running package code and
// without a container: `npm ci --omit=dev --ignore-scripts --os --cpu` from the module's lockfile, or
// `pip install --target --platform --python-version --implementation cp --only-binary=:all:` from its
// requirements. The layer sits between the base and the model (ordered by change rate) and is cached
// by what it depends on — the dependency files, the tool and its version, the platform, the Python
// version, the tool's configuration in the environment, the epoch and the compression — so a model-only
// or code-only change neither rebuilds nor uploads it.

#include "core/cancel.hpp"
#include "core/env.hpp"
#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "imagebuild/runtime_image.hpp"
#include "oci/layer.hpp"
#include "oci/platform.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::imagebuild {

/// The tools that install dependencies: a name looked up on PATH or a path (--npm / --pip, settings
/// `npm` / `pip`, EDGESHIP_NPM / EDGESHIP_PIP).
struct DepsTools {
    std::string npm = "npm";
    std::string pip = "pip3";
};

struct DepsLayerRequest {
    const DepsRecipe* recipe = nullptr;
    std::string runtime;                 ///< runtime name, for messages
    std::filesystem::path context;       ///< the module's build context (the recipe's files are read here)
    oci::Platform platform;              ///< the image's platform (linux/amd64, linux/arm64)
    std::string python_version;          ///< pip: X.Y of the base's Python (required)
    DepsTools tools;
    core::Environment environment;       ///< the tools run with it (PATH, HOME, npm/pip configuration)
    oci::LayerOptions layer;             ///< epoch and compression of the layer
    std::filesystem::path cache_dir;     ///< <cache>/deps; empty: no cache (the layer goes to blobs_dir)
    std::filesystem::path blobs_dir;     ///< where an uncached layer is written
    std::filesystem::path scratch_parent;///< the install runs in a temporary directory made here
    core::Logger log;
    const core::CancelToken* cancel = &core::CancelToken::global();
};

struct DepsLayer {
    oci::LayerBlob blob;
    std::string key;          ///< the cache key (hex)
    bool from_cache = false;  ///< not rebuilt
    std::string tool_version; ///< "npm 10.8.2", "pip 23.2.1"
    /// The installed tree, still on disk after a fresh build: removing 13,000 files of node_modules takes
    /// seconds, so the caller decides when (build_images removes it on a thread beside the rest of the
    /// build). Removed with this object otherwise.
    std::optional<core::TempDir> scratch;
};

/// "x64"/"arm64" (npm --cpu) and "x86_64"/"aarch64" (wheel tags) for an OCI architecture; "" when the
/// tool has no build for it.
std::string npm_cpu(const oci::Platform& p);
std::string wheel_arch(const oci::Platform& p);

/// The --platform tags pip is given for runtime.json's `pip_platform` ("manylinux_2_36_{arch}"): that
/// tag and every older manylinux tag the same glibc runs (down to manylinux_2_17, then manylinux2014,
/// and for x86_64 manylinux2010 and manylinux1), newest first.
std::vector<std::string> pip_platform_tags(const std::string& pattern, const std::string& arch);

/// Builds (or finds in the cache) the dependencies layer. Errors are one line naming the runtime, the
/// platform and, when the tool says which, the package; with a hint saying what to do: a missing tool
/// or dependency file, a lockfile out of sync with package.json, a package or version the registry does
/// not have, no build (wheel) for the platform or the base's Python, an unreachable package registry.
/// Exit 1; Ctrl-C 130. Nothing is left in blobs_dir or the cache on error.
Result<DepsLayer> build_deps_layer(const DepsLayerRequest& request);

/// The one-line summary of a failed npm or pip run from its stderr (exposed for tests): the tool's
/// own error lines without its log-file noise, and the hint that fits its error code.
struct ToolFailure {
    std::string message;
    std::string hint;
};
ToolFailure explain_npm_failure(const std::string& stderr_text, const std::string& platform, const std::string& dir);
ToolFailure explain_pip_failure(const std::string& stderr_text, const std::string& platform, const std::string& python_version);

} // namespace edgeship::imagebuild
