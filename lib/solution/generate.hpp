#pragma once
// Deployment template -> deployment manifest, with iotedgedev's semantics (docs/design/iothub.md §2)
// made JSON-safe: variables substituted inside parsed JSON strings, ${MODULES.<folder>[.<platform>|.debug]}
// image placeholders, the tag format, createOptions serialization and chunking (§3), $schema-template
// removed, layered templates, the output name of §2.7.

#include "core/env.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "manifest/expand.hpp"
#include "manifest/validate.hpp"
#include "solution/layout.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::solution {

enum class Strict { no, yes };
/// Whether generate_manifest() validates its result (`gen --no-validate` skips it).
enum class Validate { no, yes };

/// What `edgeship gen` was asked for. Relative paths are relative to the current directory.
struct GenerateOptions {
    std::filesystem::path solution_dir = ".";
    /// default: <solution>/<DEPLOYMENT_CONFIG_TEMPLATE_FILE or deployment.template.json>
    std::optional<std::filesystem::path> template_file;
    /// default: DEFAULT_PLATFORM or amd64 (§1.1, §2.3)
    std::optional<std::string> platform;
    /// default: <solution>/.env (or DOTENV_FILE)
    std::optional<std::filesystem::path> env_file;
    /// default: <solution>/<CONFIG_OUTPUT_DIR or config>
    std::optional<std::filesystem::path> output_dir;
    /// undefined variables are errors instead of warnings
    Strict strict = Strict::no;
    /// validate_manifest() the result; with Validate::no the report holds only gen's own warnings
    Validate validate = Validate::yes;
};

/// An image the manifest refers to through a placeholder: what `build`/`push` would produce.
struct ImageRef {
    std::string module;      ///< manifest module name
    std::string folder;      ///< modules/<folder>
    std::string platform;    ///< "amd64", "amd64.debug"
    std::string tag;         ///< localhost:5000/score:0.0.1-amd64
    std::string dockerfile;  ///< modules/<folder>/Dockerfile.amd64
};

/// A generated manifest, not yet written.
struct GeneratedManifest {
    nlohmann::ordered_json manifest;
    std::string text;                 ///< exact bytes to write (2-space indent, \uXXXX, no final newline)
    std::filesystem::path template_file;
    std::filesystem::path output_path;
    std::string platform;
    std::vector<ImageRef> images;
    std::vector<manifest::UndefinedVariable> undefined;
    manifest::ValidationReport report;         ///< gen's warnings (legacy keys), then validate_manifest() of the result
};

/// Generates the manifest in memory. Errors (exit 1): unreadable files, a template that is not JSON
/// after expansion (file:line:column of the original), ${MODULES.x} naming no folder (the message
/// names the template's file:line:column and the folder searched), a module.json
/// without image.repository, a platform missing from module.json, an invalid tag, undefined
/// variables with Strict::yes. createOptions over 8 chunks fails with exit 3. `log` gets debug lines.
Result<GeneratedManifest> generate_manifest(const GenerateOptions& options, const core::Environment& process_env,
                                            const core::Logger& log = {});

/// Writes `m.text` to `m.output_path` atomically, creating the directory.
Result<void> write_manifest(const GeneratedManifest& m);

/// The platform a solution builds, generates and deploys by default: DEFAULT_PLATFORM, else amd64
/// (iotedgedev's default). The one rule gen, build's export, deploy and ship share.
std::string default_platform(const SolutionEnv& env);

/// Where `gen` writes the manifest of the solution at `root` for `platform` (default: default_platform):
/// <root>/<CONFIG_OUTPUT_DIR or config>/<manifest_file_name of the template>. Reads the solution's .env
/// under `process_env` and the template's $schema-template; a missing template counts as the current
/// schema (deployment.<platform>.json). `deploy` without --manifest and `ship` use it, so a solution's
/// CONFIG_OUTPUT_DIR, DEFAULT_PLATFORM, DEPLOYMENT_CONFIG_TEMPLATE_FILE and DEPLOYMENT_CONFIG_FILE mean
/// the same to every command.
Result<std::filesystem::path> default_manifest_path(const std::filesystem::path& root,
                                                    const core::Environment& process_env,
                                                    const std::optional<std::string>& platform = std::nullopt);

/// The output file name of §2.7 for a template.
std::string manifest_file_name(const std::filesystem::path& template_file, const std::string& schema_template_version,
                               const std::string& platform, const std::string& deployment_config_file);

/// The bytes iotedgedev writes for a manifest (Python json.dump(indent=2), ensure_ascii, no newline).
std::string serialize_manifest(const nlohmann::ordered_json& manifest);

} // namespace edgeship::solution
