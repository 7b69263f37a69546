#pragma once

#include "core/env.hpp"
#include "core/result.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::core {

/// Where a setting's value came from, highest precedence first.
enum class Origin { flag, environment, config_file, default_value };

/// One known setting: its key, the flag that sets it, the environment/.env names that set it (first
/// match wins; EDGESHIP_* first, then established names such as CONTAINER_REGISTRY_SERVER), and its
/// default. Secret settings are never shown by describe().
struct SettingDef {
    std::string key;
    std::string flag;                   ///< e.g. "--color"; empty when there is no flag
    std::vector<std::string> env_names; ///< e.g. {"EDGESHIP_COLOR"}
    std::optional<std::string> default_value;
    std::string description;
    bool secret = false;
};

struct SettingValue {
    std::string value;
    Origin origin = Origin::default_value;
    std::string source; ///< "flag --color", "env EDGESHIP_COLOR", ".env EDGESHIP_COLOR", "default"
};

/// Settings layered as flags > environment > .env/config file > defaults.
/// CLI11's own precedence puts the config file above the environment (STYLE.md §6), so CLI11 parses
/// flags only and the layering happens here, recording each value's origin for `-v`.
/// Immutable after resolve(); safe to read from several threads.
class Settings {
public:
    /// `flags` maps setting keys to values given on the command line; `dotenv_name` names the .env
    /// file in origins ("solution/.env").
    static Settings resolve(const std::vector<SettingDef>& defs, const std::map<std::string, std::string>& flags,
                            const Environment& env, const Environment& dotenv, const std::string& dotenv_name);

    /// The value of `key`, or nullopt when unset and without default.
    std::optional<std::string> get(const std::string& key) const;
    const SettingValue* find(const std::string& key) const;

    /// One line per set value: "(env EDGESHIP_COLOR) color = never"; secrets as "<redacted>".
    std::vector<std::string> describe() const;

private:
    std::vector<SettingDef> m_defs;
    std::map<std::string, SettingValue> m_values;
};

} // namespace edgeship::core
