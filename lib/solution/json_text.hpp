#pragma once
// Editing JSON files as text so a user's formatting, key order and comments-free layout survive:
// `module add` inserts members into objects without re-serializing the rest of the file.

#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::solution {

/// Byte span [begin, end) of a JSON value in a text (begin at its first character).
struct TextSpan {
    std::size_t begin = 0;
    std::size_t end = 0;
};

/// The span of the value at `path` (object keys from the root), or nullopt when a key is missing or
/// a step is not an object. `text` must be valid JSON (callers parse it first); fails otherwise.
Result<std::optional<TextSpan>> find_value(std::string_view text, const std::vector<std::string>& path);

/// Inserts `"key": value` as the last member of the object at `path`, indenting `value` like the
/// file (the indent unit is detected from the text: two spaces, four spaces, a tab…). The rest of
/// the text is kept byte for byte. Fails when the path is missing, is not an object, or already has
/// `key`.
Result<std::string> insert_member(std::string_view text, const std::vector<std::string>& path, const std::string& key,
                                  const nlohmann::ordered_json& value);

} // namespace edgeship::solution
