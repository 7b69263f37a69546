#pragma once
// createOptions serialization and chunking (docs/design/iothub.md §3).

#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace edgeship::manifest {

/// Chunk size and count of the tooling convention (§3: 512 characters, at most 8 chunks).
inline constexpr std::size_t k_create_options_chunk = 512;
inline constexpr std::size_t k_create_options_max_chunks = 8;

/// Splits `text` into runs of at most 512 code points (UTF-8 aware, §3 step 2).
std::vector<std::string> split_chunks(const std::string& text, std::size_t chunk = k_create_options_chunk);

/// "createOptions", "createOptions01", … for chunk `index` (§3 step 3).
std::string chunk_key(std::size_t index);

/// Converts one module's `settings`: an object createOptions is serialized compactly (key order kept,
/// non-ASCII as \uXXXX — byte-identical to iotedgedev), then split into createOptions,
/// createOptions01, … Strings are used verbatim and split the same way; "" stays "". Existing
/// createOptionsNN keys are replaced. More than 8 chunks fails naming `module`.
Result<void> convert_create_options(nlohmann::ordered_json& settings, const std::string& module);

} // namespace edgeship::manifest
