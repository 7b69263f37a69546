#include "oci/json.hpp"

namespace edgeship::oci {

Result<std::string> canonical_json(const nlohmann::json& value, std::string_view what) {
    try {
        return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    } catch (const nlohmann::json::exception& e) {
        return fail(std::string(what) + ": cannot serialize JSON: " + e.what());
    }
}

Result<nlohmann::json> parse_json(std::string_view text, std::string_view what) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        return fail(std::string(what) + ": not valid JSON: " + e.what());
    }
}

} // namespace edgeship::oci
