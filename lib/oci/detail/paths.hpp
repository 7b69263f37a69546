#pragma once

// Path rules for layer entries (docs/design/registry.md §8.1, image-spec layer.md): relative, no "..",
// symlinks resolve inside the root. Shared by the layer builder and the layer reader.

#include "core/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace edgeship::oci::detail {

/// Normalizes a path inside an image: strips "./" components, repeated and trailing slashes.
/// Refuses empty paths, absolute paths, ".." components and NUL bytes; errors name `what` and the path.
Result<std::string> normalize_entry_path(std::string_view path, std::string_view what);

/// Same rules, but a leading "/" is tolerated and stripped (for image-absolute prefixes such as "/app").
Result<std::string> normalize_image_dir(std::string_view path, std::string_view what);

/// True if a symlink at `link_path` (normalized) with `target` resolves, lexically, outside the image
/// root. Absolute targets resolve from the image root and never escape; relative ones escape when ".."
/// climbs above the root.
bool symlink_escapes(std::string_view link_path, std::string_view target);

/// Components of a normalized path.
std::vector<std::string_view> split_path(std::string_view path);

/// Orders paths so that parents come before children and siblings sort byte-wise by component.
bool path_less(std::string_view a, std::string_view b);

} // namespace edgeship::oci::detail
