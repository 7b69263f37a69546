#pragma once

#include "core/env.hpp"
#include "core/result.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::core {

/// Where a setting's value came from, highest precedence first.
enum class Origin { flag, environment, solution_file, config_file, default_value };

/// One known setting: its key, the flag that sets it, the environment/.env names that set it (first
/// match wins; EDGESHIP_* first, then established names such as CONTAINER_REGISTRY_SERVER), and its
/// default. Secret settings are never shown by describe(). Each library module declares its own
/// (iothub::settings_keys(), imagebuild::settings_keys()); the CLI's catalogue is their union.
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
    /// "flag --color", "env EDGESHIP_COLOR", "solution/.env EDGESHIP_COLOR", ".env EDGESHIP_COLOR", "default"
    std::string source;
};

/// The one configuration of a run, layered as
///   flags > environment > the solution's .env > the global .env (--env-file or ./.env) > defaults,
/// each value with its origin. CLI11's own precedence puts a config file above the environment
/// (STYLE.md §6), so CLI11 parses flags only and the layering happens here.
///
/// Only declared keys exist: reading or setting another key is a programming error and throws
/// std::logic_error (the CLI reports it as an internal error). Reads are recorded, so describe() lists
/// exactly the values this run used, for `-v`.
///
/// The layers are set on the command's thread (resolve(), then set_flag() / set_solution_layer() as a
/// command learns its flags and its solution); reads may come from several threads.
class Config {
public:
    Config();

    /// `flags` maps setting keys to values given on the command line (global flags); `dotenv_name`
    /// names the global .env file in origins (".env", or the --env-file path).
    static Config resolve(const std::vector<SettingDef>& defs, const std::map<std::string, std::string>& flags,
                          const Environment& env, const Environment& dotenv, const std::string& dotenv_name);

    /// A command's own flag for `key` (e.g. --hub-url for iothub_endpoint): the top layer. An empty
    /// value means the flag was not given and changes nothing. `flag` names it in origins; empty = the
    /// declared flag.
    void set_flag(const std::string& key, const std::string& value, const std::string& flag = "");

    /// The .env of the solution this command works on, between the environment and the global .env;
    /// `name` names it in origins ("sol/.env"). A second call replaces the first.
    void set_solution_layer(const Environment& dotenv, const std::string& name);

    /// The solution .env's variables (empty before set_solution_layer()).
    const Environment& solution_env() const { return m_solution; }

    /// The value of `key`, or nullopt when unset and without default. Marks `key` as used.
    /// Throws std::logic_error for an undeclared key.
    std::optional<std::string> get(const std::string& key) const;
    /// The value and its origin, or nullptr when unset. Marks `key` as used. Valid until the next
    /// set_flag() / set_solution_layer(). Throws std::logic_error for an undeclared key.
    const SettingValue* find(const std::string& key) const;

    /// Whether `key` is declared.
    bool declared(const std::string& key) const;

    /// One line per value this run read, in declaration order: "(env EDGESHIP_COLOR) color = never";
    /// secrets as "<redacted>".
    std::vector<std::string> describe() const;

private:
    const SettingDef& def(const std::string& key) const;
    void recompute();

    std::vector<SettingDef> m_defs;
    std::map<std::string, SettingValue> m_flags; ///< key → value with its "flag --x" source
    Environment m_env;
    Environment m_solution;
    std::string m_solution_name;
    Environment m_dotenv;
    std::string m_dotenv_name;
    std::map<std::string, SettingValue> m_values;
    /// What each read returned (a later layer may change a value after it was used).
    mutable std::map<std::string, std::optional<SettingValue>> m_used;
    std::unique_ptr<std::mutex> m_used_lock;
};

} // namespace edgeship::core
