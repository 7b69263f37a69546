#pragma once
// Where templates come from: a user template directory (--template-dir) first, then the copy
// embedded in the binary. A user directory may override any single file and add new ones.

#include "core/result.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::templates {

/// Looks templates up by their path relative to templates/ ("runtimes/node-onnxruntime/runtime.json").
/// Immutable after construction; safe to share between threads.
class TemplateSource {
public:
    /// Embedded templates only.
    TemplateSource() = default;
    /// `user_dir` overrides the embedded files it contains. It must exist (checked by open()).
    explicit TemplateSource(std::filesystem::path user_dir) : m_user_dir(std::move(user_dir)) {}

    /// A source over `user_dir` (empty = embedded only); fails when the directory is missing.
    static Result<TemplateSource> open(const std::filesystem::path& user_dir);

    /// The file's content; errors name the template and where it was looked for.
    Result<std::string> read(std::string_view name) const;
    /// True when `name` exists in the user directory or the embedded table.
    bool exists(std::string_view name) const;
    /// Every file below `prefix` ("runtimes/python-onnxruntime/"), user and embedded merged,
    /// sorted, as full names.
    std::vector<std::string> list(std::string_view prefix) const;
    /// Where `name` comes from, for messages: "embedded" or the user file path.
    std::string origin(std::string_view name) const;

private:
    std::optional<std::filesystem::path> m_user_dir;
};

} // namespace edgeship::templates
