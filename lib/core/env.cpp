#include "core/env.hpp"

#include "core/fs.hpp"

#include <cctype>

namespace edgeship::core {

Environment environment_from(char** envp) {
    Environment env;
    for (char** p = envp; p != nullptr && *p != nullptr; ++p) {
        std::string_view kv(*p);
        auto eq = kv.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            continue;
        }
        env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    return env;
}

const std::string* find_env(const Environment& env, std::string_view name) {
    auto it = env.find(name);
    return it == env.end() ? nullptr : &it->second;
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return s;
}

bool valid_key(std::string_view key) {
    if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front()))) {
        return false;
    }
    for (char c : key) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
            return false;
        }
    }
    return true;
}

} // namespace

Result<Environment> parse_dotenv(std::string_view text, std::string_view source) {
    Environment env;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = (nl == std::string_view::npos) ? text.size() + 1 : nl + 1;
        ++line_no;
        auto where = [&] { return std::string(source) + ":" + std::to_string(line_no) + ": "; };

        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        if (line.starts_with("export ")) {
            line = trim(line.substr(7));
        }
        auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            return fail(where() + "expected KEY=VALUE");
        }
        std::string_view key = trim(line.substr(0, eq));
        if (!valid_key(key)) {
            return fail(where() + "invalid key '" + std::string(key) + "'");
        }
        std::string_view rest = trim(line.substr(eq + 1));
        std::string value;
        if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
            char quote = rest.front();
            std::size_t i = 1;
            bool closed = false;
            for (; i < rest.size(); ++i) {
                char c = rest[i];
                if (c == quote) {
                    closed = true;
                    break;
                }
                if (quote == '"' && c == '\\' && i + 1 < rest.size()) {
                    char n = rest[++i];
                    switch (n) {
                    case 'n': value.push_back('\n'); break;
                    case 't': value.push_back('\t'); break;
                    case 'r': value.push_back('\r'); break;
                    default: value.push_back(n); break;
                    }
                    continue;
                }
                value.push_back(c);
            }
            if (!closed) {
                return fail(where() + "unterminated " + std::string(1, quote) + "quoted value for " + std::string(key));
            }
            std::string_view after = trim(rest.substr(i + 1));
            if (!after.empty() && after.front() != '#') {
                return fail(where() + "unexpected text after the closing quote of " + std::string(key));
            }
        } else {
            // Unquoted: an inline comment starts at " #".
            auto hash = rest.find(" #");
            value = std::string(trim(rest.substr(0, hash)));
        }
        env[std::string(key)] = std::move(value);
    }
    return env;
}

Result<Environment> load_dotenv(const std::filesystem::path& path) {
    EDGESHIP_TRY_ASSIGN(auto text, read_file(path));
    return parse_dotenv(text, path.string());
}

} // namespace edgeship::core
