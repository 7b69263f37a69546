#include "model/feature_names.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace edgeship::model {

std::string encode_feature_names(const std::vector<std::string>& names) { return nlohmann::json(names).dump(); }

std::optional<std::vector<std::string>> read_feature_names(const std::map<std::string, std::string>& metadata,
                                                           std::optional<std::int64_t> width) {
    const auto it = metadata.find(feature_names_key);
    if (it == metadata.end()) {
        return std::nullopt;
    }
    const auto j = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    if (!j.is_array() || j.empty()) {
        return std::nullopt;
    }
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (const auto& n : j) {
        if (!n.is_string() || n.get_ref<const std::string&>().empty() || !seen.insert(n.get<std::string>()).second) {
            return std::nullopt; // a name a row object cannot key uniquely: lists only
        }
        names.push_back(n.get<std::string>());
    }
    if (width && static_cast<std::int64_t>(names.size()) != *width) {
        return std::nullopt;
    }
    return names;
}

} // namespace edgeship::model
