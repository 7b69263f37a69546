#pragma once

// The model's feature names: the one metadata_props key that carries them (`edgeship.feature_names`,
// a JSON array of strings), written by every converter and read by the scaffold, which lists them in the
// module's app/signature.json so the scoring module accepts rows as objects keyed by name. Writer and
// reader live here together so the two cannot drift apart again (issue 13: the converter wrote
// `edgeship.feature_names` while the scaffold read `features`, and named rows were refused).

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::model {

inline constexpr const char* feature_names_key = "edgeship.feature_names";

/// The metadata value for `names` (a JSON array).
std::string encode_feature_names(const std::vector<std::string>& names);

/// The names recorded in `metadata` (metadata_props), when the key is present, holds a JSON array of
/// distinct non-empty strings and lists exactly `width` names (the single input's last dimension;
/// pass nullopt when it is symbolic or unknown). nullopt otherwise: the module then takes lists only.
std::optional<std::vector<std::string>> read_feature_names(const std::map<std::string, std::string>& metadata,
                                                           std::optional<std::int64_t> width);

} // namespace edgeship::model
