#include "core/settings.hpp"

namespace edgeship::core {

Settings Settings::resolve(const std::vector<SettingDef>& defs, const std::map<std::string, std::string>& flags,
                           const Environment& env, const Environment& dotenv, const std::string& dotenv_name) {
    Settings s;
    s.m_defs = defs;
    for (const auto& def : defs) {
        if (auto it = flags.find(def.key); it != flags.end()) {
            s.m_values[def.key] = {it->second, Origin::flag, "flag " + def.flag};
            continue;
        }
        bool found = false;
        for (const auto& name : def.env_names) {
            if (const auto* v = find_env(env, name)) {
                s.m_values[def.key] = {*v, Origin::environment, "env " + name};
                found = true;
                break;
            }
        }
        if (found) {
            continue;
        }
        for (const auto& name : def.env_names) {
            if (const auto* v = find_env(dotenv, name)) {
                s.m_values[def.key] = {*v, Origin::config_file, dotenv_name + " " + name};
                found = true;
                break;
            }
        }
        if (!found && def.default_value) {
            s.m_values[def.key] = {*def.default_value, Origin::default_value, "default"};
        }
    }
    return s;
}

std::optional<std::string> Settings::get(const std::string& key) const {
    if (const auto* v = find(key)) {
        return v->value;
    }
    return std::nullopt;
}

const SettingValue* Settings::find(const std::string& key) const {
    auto it = m_values.find(key);
    return it == m_values.end() ? nullptr : &it->second;
}

std::vector<std::string> Settings::describe() const {
    std::vector<std::string> lines;
    for (const auto& def : m_defs) {
        auto it = m_values.find(def.key);
        if (it == m_values.end()) {
            continue;
        }
        std::string shown = def.secret ? "<redacted>" : it->second.value;
        lines.push_back("(" + it->second.source + ") " + def.key + " = " + shown);
    }
    return lines;
}

} // namespace edgeship::core
