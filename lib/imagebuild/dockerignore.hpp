#pragma once
// .dockerignore with Docker's semantics (moby/patternmatcher): one pattern per line, '#' comments,
// leading '/' and "./" ignored, '*' '?' '[…]' within one path component, '**' across components,
// '!' re-includes, the last matching pattern wins, and a pattern matching a directory excludes
// everything under it. Note: "*.pyc" matches only at the context root, as in Docker.

#include "core/result.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::imagebuild {

class DockerIgnore {
public:
    /// Parses the text of a .dockerignore.
    static DockerIgnore parse(std::string_view text);
    /// Reads `<context>/.dockerignore`; a missing file excludes nothing.
    static Result<DockerIgnore> load(const std::filesystem::path& context_dir);

    /// True if `path` (relative to the build context, '/'-separated, no leading "./") is excluded.
    bool excluded(std::string_view path) const;

private:
    struct Pattern {
        std::vector<std::string> parts;
        bool negate = false;
    };
    std::vector<Pattern> m_patterns;
};

} // namespace edgeship::imagebuild
