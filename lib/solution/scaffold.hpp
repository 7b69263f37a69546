#pragma once
// Scaffolding: `edgeship init` (a new solution in the iotedgedev layout) and `edgeship module add`
// (one more module in an existing solution, inserted textually so the user's formatting survives).
// Both build an immutable plan first (files and their bytes), then apply it; --dry-run prints the plan.

#include "core/env.hpp"
#include "core/result.hpp"
#include "templates/source.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::solution {

inline constexpr const char* k_default_runtime = "python-onnxruntime";

/// A runtime as described by templates/runtimes/<name>/runtime.json.
struct Runtime {
    std::string name;
    std::string language;  ///< iotedgedev language: "python", "nodejs" (debug createOptions, §1.3)
    std::string summary;
    int port = 8080;
    int debug_port = 0;
    std::vector<std::pair<std::string, std::string>> platforms;         ///< platform -> base image
    std::vector<std::pair<std::string, std::string>> refused_platforms; ///< platform -> reason
    std::vector<std::string> debug_platforms;
};

/// Reads runtime `name`; unknown names fail listing the runtimes available (exit 2).
Result<Runtime> load_runtime(const templates::TemplateSource& source, const std::string& name);
/// Names of every runtime in `source`.
std::vector<std::string> runtime_names(const templates::TemplateSource& source);

/// The module to scaffold.
struct ModuleSpec {
    std::string name;
    std::optional<std::filesystem::path> model; ///< copied to modules/<name>/model/model.onnx
    std::string runtime = k_default_runtime;
    std::vector<std::string> platforms = {"amd64"};
};

struct InitOptions {
    std::filesystem::path dir;
    ModuleSpec module;
    std::string registry = "localhost:5000";
    std::string edge_runtime_version = "1.4";
};

/// One file of a plan: its path relative to the solution root and its bytes (or a file to copy).
struct PlannedFile {
    std::filesystem::path path;
    std::string content;
    std::optional<std::filesystem::path> copy_from;
    bool replaces_existing = false;
};

struct ScaffoldPlan {
    std::filesystem::path root;
    std::string module;
    std::string runtime;
    std::vector<std::string> platforms;
    std::vector<PlannedFile> files; ///< sorted by path
};

/// Plans a new solution in `options.dir`, which must not exist or be empty. Errors: bad module
/// name (2), unknown runtime (2), a platform the runtime refuses (2, with the reason), an unreadable
/// or invalid model (1).
Result<ScaffoldPlan> plan_init(const InitOptions& options, const templates::TemplateSource& source);

/// Plans adding `spec` to the solution at `root`: modules/<name>/… plus the module and its route
/// inserted into deployment.template.json and deployment.debug.template.json (when present),
/// keeping every other byte of those files. Errors: no template, the module or route exists.
Result<ScaffoldPlan> plan_module_add(const std::filesystem::path& root, const ModuleSpec& spec,
                                     const templates::TemplateSource& source);

/// Writes a plan. New solutions are staged in a sibling directory and renamed into place; for
/// `module add` the module directory is staged and renamed and each template rewritten atomically.
/// Nothing is left half-written on error.
Result<void> apply_plan(const ScaffoldPlan& plan);

/// Keeps a module's generated app/signature.json in step with the model it now serves (ship replacing a
/// retrained model): rewritten atomically, in the bytes init writes, when the model's inputs, outputs,
/// features or opsets differ from what the code was generated for — the scoring code refuses to serve a
/// model whose inputs do not match it. Returns whether the file changed; false, untouched, when the module
/// has no such file (not edgeship's scoring code). Errors: an unreadable model, a write failure.
Result<bool> refresh_signature(const std::filesystem::path& module_dir, const std::filesystem::path& model);

} // namespace edgeship::solution
