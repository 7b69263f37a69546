#include "manifest/expand.hpp"

#include <algorithm>

namespace edgeship::manifest {

namespace {

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// One reference found at text[pos] == '$': [pos, end) covers it, `name` is what it names.
struct Reference {
    std::size_t end = 0;
    std::string name;
    bool braced = false;
};

// Python's posixpath.expandvars pattern: \$(\w+|\{[^}]*\}) (docs/design/iothub.md §2.2).
bool match_reference(std::string_view text, std::size_t pos, Reference& ref) {
    std::size_t i = pos + 1;
    if (i < text.size() && text[i] == '{') {
        auto close = text.find('}', i + 1);
        if (close == std::string_view::npos) {
            return false;
        }
        ref.name = std::string(text.substr(i + 1, close - i - 1));
        ref.end = close + 1;
        ref.braced = true;
        return true;
    }
    std::size_t j = i;
    while (j < text.size() && is_name_char(text[j])) {
        ++j;
    }
    if (j == i) {
        return false;
    }
    ref.name = std::string(text.substr(i, j - i));
    ref.end = j;
    ref.braced = false;
    return true;
}

// Where a substitution outside strings moved text, to map parse errors back to the original file.
struct Splice {
    std::size_t exp_begin, exp_end; // in the expanded text
    std::size_t orig_begin, orig_end;
    std::string name;
};

std::size_t to_original(std::size_t exp_offset, const std::vector<Splice>& splices, const Splice** inside) {
    std::ptrdiff_t delta = 0;
    *inside = nullptr;
    for (const auto& s : splices) {
        if (exp_offset < s.exp_begin) {
            break;
        }
        if (exp_offset < s.exp_end) {
            *inside = &s;
            return s.orig_begin;
        }
        delta = static_cast<std::ptrdiff_t>(s.orig_end) - static_cast<std::ptrdiff_t>(s.exp_end);
    }
    return static_cast<std::size_t>(static_cast<std::ptrdiff_t>(exp_offset) + delta);
}

void expand_strings_in(nlohmann::ordered_json& j, const core::Environment& vars) {
    if (j.is_string()) {
        j = expand_string(j.get_ref<const std::string&>(), vars);
    } else if (j.is_array()) {
        for (auto& e : j) {
            expand_strings_in(e, vars);
        }
    } else if (j.is_object()) {
        nlohmann::ordered_json out = nlohmann::ordered_json::object();
        for (auto& [k, v] : j.items()) {
            expand_strings_in(v, vars);
            out[expand_string(k, vars)] = std::move(v);
        }
        j = std::move(out);
    }
}

} // namespace

core::Environment merge_variables(const core::Environment& dotenv, const core::Environment& process_env) {
    core::Environment merged = dotenv;
    for (const auto& [k, v] : process_env) {
        merged[k] = v;
    }
    return merged;
}

bool is_reserved_reference(std::string_view name) {
    // manifest syntax, and the system properties of the IoT Edge route query language
    // ("FROM … WHERE $body.temperature > 20 INTO …")
    static constexpr std::string_view k_reserved[] = {
        "edgeAgent", "edgeHub", "upstream", "schema", "body", "connectionDeviceId", "connectionModuleId",
        "contentType", "contentEncoding", "messageId", "correlationId", "userId", "twin"};
    for (auto r : k_reserved) {
        if (name == r) {
            return true;
        }
    }
    return name.starts_with("MODULES.") || name.starts_with("MODULEDIR<");
}

std::string expand_string(std::string_view text, const core::Environment& vars, std::vector<std::string>* undefined) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        auto dollar = text.find('$', i);
        if (dollar == std::string_view::npos) {
            out.append(text.substr(i));
            break;
        }
        out.append(text.substr(i, dollar - i));
        Reference ref;
        if (!match_reference(text, dollar, ref)) {
            out.push_back('$');
            i = dollar + 1;
            continue;
        }
        const std::string* value = is_reserved_reference(ref.name) ? nullptr : core::find_env(vars, ref.name);
        if (value != nullptr) {
            out.append(*value);
        } else {
            out.append(text.substr(dollar, ref.end - dollar));
            if (undefined != nullptr && !is_reserved_reference(ref.name) && !ref.name.empty()) {
                undefined->push_back(ref.name);
            }
        }
        i = ref.end;
    }
    return out;
}

std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return {line, col};
}

Error undefined_error(const std::vector<UndefinedVariable>& undefined) {
    std::string list;
    for (const auto& u : undefined) {
        list += (list.empty() ? "" : ", ") + u.location + " $" + u.name;
    }
    return Error("undefined variable" + std::string(undefined.size() == 1 ? "" : "s") + " (--strict): " + list)
        .hint("define them in .env or the environment");
}

Result<ExpandedJson> expand_json(std::string_view text, const std::string& source, const core::Environment& vars,
                                 StrictVariables strict) {
    ExpandedJson result;
    std::string spliced;
    spliced.reserve(text.size());
    std::vector<Splice> splices;
    auto note_undefined = [&](const std::string& name, std::size_t at) {
        auto [l, c] = line_column(text, at);
        result.undefined.push_back({name, source + ":" + std::to_string(l) + ":" + std::to_string(c)});
    };

    std::vector<std::pair<std::size_t, std::string>> unquoted_undefined; // original offset, name
    // Pass 1 over the raw text: splice values outside strings; record undefined names everywhere.
    bool in_string = false;
    std::size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (in_string) {
            if (c == '\\' && i + 1 < text.size()) {
                spliced.append(text.substr(i, 2));
                i += 2;
                continue;
            }
            if (c == '"') {
                in_string = false;
            } else if (c == '$') {
                Reference ref;
                if (match_reference(text, i, ref) && !is_reserved_reference(ref.name) && !ref.name.empty() &&
                    core::find_env(vars, ref.name) == nullptr) {
                    note_undefined(ref.name, i);
                }
            }
            spliced.push_back(c);
            ++i;
            continue;
        }
        if (c == '"') {
            in_string = true;
            spliced.push_back(c);
            ++i;
            continue;
        }
        Reference ref;
        if (c == '$' && match_reference(text, i, ref)) {
            const std::string* value = is_reserved_reference(ref.name) ? nullptr : core::find_env(vars, ref.name);
            if (value != nullptr) {
                splices.push_back({spliced.size(), spliced.size() + value->size(), i, ref.end, ref.name});
                spliced.append(*value);
            } else {
                if (!is_reserved_reference(ref.name) && !ref.name.empty()) {
                    note_undefined(ref.name, i);
                    unquoted_undefined.emplace_back(i, ref.name);
                }
                spliced.append(text.substr(i, ref.end - i)); // verbatim: offsets unchanged
            }
            i = ref.end;
            continue;
        }
        spliced.push_back(c);
        ++i;
    }

    if (strict == StrictVariables::yes && !result.undefined.empty()) {
        return unexpected(undefined_error(result.undefined));
    }
    try {
        result.value = nlohmann::ordered_json::parse(spliced);
    } catch (const nlohmann::json::parse_error& e) {
        std::size_t exp_offset = e.byte > 0 ? e.byte - 1 : 0;
        const Splice* inside = nullptr;
        std::size_t orig = to_original(exp_offset, splices, &inside);
        auto [l, c] = line_column(text, orig);
        std::string what = e.what();
        // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error …" -> "syntax error …"
        if (auto p = what.find(": "); p != std::string::npos && what.find("parse error") != std::string::npos) {
            what = what.substr(p + 2);
        }
        std::string msg = source + ":" + std::to_string(l) + ":" + std::to_string(c) + ": not valid JSON";
        msg += splices.empty() ? "" : " after variable expansion";
        for (const auto& [at, name] : unquoted_undefined) {
            if (at == orig) {
                msg += " (undefined variable $" + name + ")";
            }
        }
        if (inside != nullptr && !inside->name.empty()) {
            msg += " (in the value of ${" + inside->name + "})";
        } else {
            // the error follows a substituted value with only whitespace between: name it too
            for (auto it = splices.rbegin(); it != splices.rend(); ++it) {
                if (it->exp_end <= exp_offset) {
                    auto between = std::string_view(spliced).substr(it->exp_end, exp_offset - it->exp_end);
                    if (between.find_first_not_of(" \t\r\n") == std::string_view::npos) {
                        msg += " (after the value of ${" + it->name + "})";
                    }
                    break;
                }
            }
        }
        return fail(msg + ": " + what);
    }
    expand_strings_in(result.value, vars);
    return result;
}

} // namespace edgeship::manifest
