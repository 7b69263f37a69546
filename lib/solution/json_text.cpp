#include "solution/json_text.hpp"

namespace edgeship::solution {

namespace {

// A skimming reader over text already known to be JSON: finds value boundaries and object members.
class Skimmer {
public:
    explicit Skimmer(std::string_view t) : m_t(t) {}

    std::size_t skip_ws(std::size_t i) const {
        while (i < m_t.size() && (m_t[i] == ' ' || m_t[i] == '\t' || m_t[i] == '\n' || m_t[i] == '\r')) {
            ++i;
        }
        return i;
    }
    std::size_t end_of_string(std::size_t i) const { // i at the opening quote
        ++i;
        while (i < m_t.size() && m_t[i] != '"') {
            i += (m_t[i] == '\\') ? 2 : 1;
        }
        return i + 1;
    }
    std::size_t end_of_value(std::size_t i) const {
        i = skip_ws(i);
        if (i >= m_t.size()) {
            return i;
        }
        char c = m_t[i];
        if (c == '"') {
            return end_of_string(i);
        }
        if (c == '{' || c == '[') {
            int depth = 0;
            while (i < m_t.size()) {
                char d = m_t[i];
                if (d == '"') {
                    i = end_of_string(i);
                    continue;
                }
                if (d == '{' || d == '[') {
                    ++depth;
                } else if (d == '}' || d == ']') {
                    if (--depth == 0) {
                        return i + 1;
                    }
                }
                ++i;
            }
            return i;
        }
        while (i < m_t.size() && m_t[i] != ',' && m_t[i] != '}' && m_t[i] != ']' && m_t[i] != ' ' && m_t[i] != '\n' &&
               m_t[i] != '\r' && m_t[i] != '\t') {
            ++i;
        }
        return i;
    }
    struct Member {
        std::string key;
        std::size_t key_begin;
        TextSpan value;
    };
    // Members of the object starting at `open` ('{').
    std::vector<Member> members(std::size_t open) const {
        std::vector<Member> out;
        std::size_t i = skip_ws(open + 1);
        while (i < m_t.size() && m_t[i] == '"') {
            std::size_t kend = end_of_string(i);
            std::string key = nlohmann::json::parse(m_t.substr(i, kend - i)).get<std::string>();
            std::size_t colon = skip_ws(kend);
            std::size_t vbegin = skip_ws(colon + 1);
            std::size_t vend = end_of_value(vbegin);
            out.push_back({key, i, {vbegin, vend}});
            i = skip_ws(vend);
            if (i < m_t.size() && m_t[i] == ',') {
                i = skip_ws(i + 1);
            }
        }
        return out;
    }
    char at(std::size_t i) const { return i < m_t.size() ? m_t[i] : '\0'; }

private:
    std::string_view m_t;
};

std::string line_indent(std::string_view text, std::size_t pos) {
    std::size_t start = text.rfind('\n', pos == 0 ? 0 : pos - 1);
    start = (start == std::string_view::npos) ? 0 : start + 1;
    std::size_t end = start;
    while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) {
        ++end;
    }
    return std::string(text.substr(start, end - start));
}

std::string indent_unit(std::string_view text) {
    std::size_t pos = 0;
    while ((pos = text.find('\n', pos)) != std::string_view::npos) {
        ++pos;
        std::size_t e = pos;
        while (e < text.size() && (text[e] == ' ' || text[e] == '\t')) {
            ++e;
        }
        if (e > pos && e < text.size() && text[e] != '\n' && text[e] != '\r') {
            return std::string(text.substr(pos, e - pos));
        }
    }
    return "  ";
}

// Serializes `value` with `unit` indentation, every line after the first prefixed by `base`.
std::string serialize_indented(const nlohmann::ordered_json& value, const std::string& unit, const std::string& base) {
    // dump with a placeholder indent of one '\x01' per level, then swap in the unit
    std::string raw = value.dump(1, '\x01', true);
    std::string out;
    out.reserve(raw.size() * 2);
    bool line_start = false;
    for (char c : raw) {
        if (c == '\n') {
            out.push_back('\n');
            out += base;
            line_start = true;
            continue;
        }
        if (line_start && c == '\x01') {
            out += unit;
            continue;
        }
        line_start = false;
        out.push_back(c);
    }
    return out;
}

} // namespace

Result<std::optional<TextSpan>> find_value(std::string_view text, const std::vector<std::string>& path) {
    try {
        if (!nlohmann::json::accept(text)) {
            (void)nlohmann::json::parse(text).is_null(); // throws with the position
        }
    } catch (const nlohmann::json::exception& e) {
        return fail(std::string("not valid JSON: ") + e.what());
    }
    Skimmer s(text);
    std::size_t begin = s.skip_ws(0);
    TextSpan span{begin, s.end_of_value(begin)};
    for (const auto& key : path) {
        if (s.at(span.begin) != '{') {
            return std::optional<TextSpan>();
        }
        bool found = false;
        for (const auto& m : s.members(span.begin)) {
            if (m.key == key) {
                span = m.value;
                found = true; // the last duplicate wins, as in nlohmann
            }
        }
        if (!found) {
            return std::optional<TextSpan>();
        }
    }
    return std::optional<TextSpan>(span);
}

Result<std::string> insert_member(std::string_view text, const std::vector<std::string>& path, const std::string& key,
                                  const nlohmann::ordered_json& value) {
    EDGESHIP_TRY_ASSIGN(auto span, find_value(text, path));
    std::string where;
    for (const auto& p : path) {
        where += (where.empty() ? "" : ".") + p;
    }
    if (!span || text[span->begin] != '{') {
        return fail("'" + where + "' is missing or not an object");
    }
    Skimmer s(text);
    auto members = s.members(span->begin);
    for (const auto& m : members) {
        if (m.key == key) {
            return fail("'" + where + "' already has '" + key + "'");
        }
    }
    const std::string unit = indent_unit(text);
    std::string out(text);
    if (members.empty()) {
        // the object's own indentation: the line it starts on
        std::string base = line_indent(text, span->begin);
        std::string child = base + unit;
        std::string inserted = "{\n" + child + nlohmann::json(key).dump(-1, ' ', true) + ": " +
                               serialize_indented(value, unit, child) + "\n" + base + "}";
        out.replace(span->begin, span->end - span->begin, inserted);
        return out;
    }
    std::string child = line_indent(text, members.front().key_begin);
    std::size_t after_last = members.back().value.end;
    std::string inserted = ",\n" + child + nlohmann::json(key).dump(-1, ' ', true) + ": " +
                           serialize_indented(value, unit, child);
    out.insert(after_last, inserted);
    return out;
}

} // namespace edgeship::solution
