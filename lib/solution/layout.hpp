#pragma once
// Reading an IoT Edge solution in the established iotedgedev layout (docs/design/iothub.md §1):
// .env, deployment.template.json, deployment.debug.template.json, modules/<folder>/module.json,
// modules/<folder>/Dockerfile.<platform>.

#include "core/env.hpp"
#include "core/result.hpp"
#include "manifest/expand.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::solution {

/// Module names `solution add`/`module add` accept (§1): ^[a-zA-Z0-9_]+$, not starting or ending
/// with '_'. Returns an error naming the rule, or nothing.
Result<void> check_module_name(const std::string& name);

/// The solution's variables: .env (when present) under the process environment.
struct SolutionEnv {
    std::filesystem::path env_file;   ///< the .env that was read (may not exist)
    bool env_file_found = false;
    core::Environment dotenv;
    core::Environment vars;           ///< merged: environment wins (§1.1)

    /// A setting: the variable when set and not blank after stripping (§1.1 "an empty value counts
    /// as unset"), else `fallback`.
    std::string get(const std::string& name, const std::string& fallback = "") const;
};

/// Reads `env_file` (default: `<root>/<DOTENV_FILE or .env>`, §1.1) and merges it under
/// `process_env`. A missing default .env is fine; a missing explicit one is an error.
Result<SolutionEnv> load_env(const std::filesystem::path& root, const core::Environment& process_env,
                             const std::optional<std::filesystem::path>& env_file = std::nullopt);

/// One modules/<folder>/module.json, environment-expanded then parsed (§1.2).
struct ModuleInfo {
    std::string folder;
    std::filesystem::path dir;
    std::filesystem::path module_json;
    nlohmann::ordered_json json;
    std::string repository; ///< image.repository, expanded
    std::string version;    ///< image.tag.version (default 0.0.0)
    std::vector<std::pair<std::string, std::string>> platforms; ///< platform -> Dockerfile, file order
    std::string language;
    std::vector<manifest::UndefinedVariable> undefined;

    /// The Dockerfile for `platform`, or nullptr.
    const std::string* dockerfile(const std::string& platform) const;
};

/// Reads and checks one module.json: not JSON (file:line:column), image.repository missing or
/// empty, image.tag.platforms missing or not an object of strings — errors naming the file.
Result<ModuleInfo> load_module(const std::filesystem::path& module_dir, const core::Environment& vars);

/// Every <modules_dir>/<folder>/module.json, sorted by folder. A missing modules_dir is empty.
Result<std::vector<ModuleInfo>> load_modules(const std::filesystem::path& modules_dir, const core::Environment& vars);

/// The image tag of §2.4: lower(repository) ":" version ["-" container_tag] "-" platform.
std::string image_tag(const ModuleInfo& module, const std::string& platform, const std::string& container_tag);

/// True when the tag part after the last ':' (after the registry host) satisfies the registry tag
/// grammar [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127} (docs/design/registry.md §1.2; docs/design/iothub.md §2.4).
bool valid_tag_part(const std::string& tag);

} // namespace edgeship::solution
