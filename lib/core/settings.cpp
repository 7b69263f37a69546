#include "core/settings.hpp"

#include <stdexcept>

namespace edgeship::core {

namespace {

std::optional<SettingValue> from_layer(const SettingDef& def, const Environment& layer, Origin origin,
                                       const std::string& prefix) {
    for (const auto& name : def.env_names) {
        if (const auto* v = find_env(layer, name)) {
            return SettingValue{*v, origin, prefix + name};
        }
    }
    return std::nullopt;
}

} // namespace

Config::Config() : m_used_lock(std::make_unique<std::mutex>()) {}

Config Config::resolve(const std::vector<SettingDef>& defs, const std::map<std::string, std::string>& flags,
                       const Environment& env, const Environment& dotenv, const std::string& dotenv_name) {
    Config c;
    c.m_defs = defs;
    c.m_env = env;
    c.m_dotenv = dotenv;
    c.m_dotenv_name = dotenv_name;
    for (const auto& [key, value] : flags) {
        const auto& d = c.def(key);
        c.m_flags[key] = {value, Origin::flag, "flag " + d.flag};
    }
    c.recompute();
    return c;
}

void Config::set_flag(const std::string& key, const std::string& value, const std::string& flag) {
    const auto& d = def(key);
    if (value.empty()) {
        return;
    }
    m_flags[key] = {value, Origin::flag, "flag " + (flag.empty() ? d.flag : flag)};
    recompute();
}

void Config::set_solution_layer(const Environment& dotenv, const std::string& name) {
    m_solution = dotenv;
    m_solution_name = name;
    recompute();
}

void Config::recompute() {
    m_values.clear();
    for (const auto& d : m_defs) {
        std::optional<SettingValue> v;
        if (auto it = m_flags.find(d.key); it != m_flags.end()) {
            v = it->second;
        }
        if (!v) {
            v = from_layer(d, m_env, Origin::environment, "env ");
        }
        if (!v) {
            v = from_layer(d, m_solution, Origin::solution_file, m_solution_name + " ");
        }
        if (!v) {
            v = from_layer(d, m_dotenv, Origin::config_file, m_dotenv_name + " ");
        }
        if (!v && d.default_value) {
            v = SettingValue{*d.default_value, Origin::default_value, "default"};
        }
        if (v) {
            m_values.emplace(d.key, std::move(*v));
        }
    }
}

const SettingDef& Config::def(const std::string& key) const {
    for (const auto& d : m_defs) {
        if (d.key == key) {
            return d;
        }
    }
    // A key no module declared is a programming error, not a user's mistake: fail loudly.
    throw std::logic_error("setting '" + key + "' is not declared");
}

bool Config::declared(const std::string& key) const {
    for (const auto& d : m_defs) {
        if (d.key == key) {
            return true;
        }
    }
    return false;
}

std::optional<std::string> Config::get(const std::string& key) const {
    if (const auto* v = find(key)) {
        return v->value;
    }
    return std::nullopt;
}

const SettingValue* Config::find(const std::string& key) const {
    def(key);
    auto it = m_values.find(key);
    const SettingValue* v = it == m_values.end() ? nullptr : &it->second;
    std::lock_guard lock(*m_used_lock);
    m_used[key] = v != nullptr ? std::optional<SettingValue>(*v) : std::nullopt;
    return v;
}

std::vector<std::string> Config::describe() const {
    std::vector<std::string> lines;
    std::lock_guard lock(*m_used_lock);
    for (const auto& d : m_defs) {
        auto it = m_used.find(d.key);
        if (it == m_used.end() || !it->second) {
            continue;
        }
        std::string shown = d.secret ? "<redacted>" : it->second->value;
        lines.push_back("(" + it->second->source + ") " + d.key + " = " + shown);
    }
    return lines;
}

} // namespace edgeship::core
