#include "templates/engine.hpp"

#include <ctemplate/template.h>
#include <ctemplate/template_cache.h>
#include <ctemplate/template_dictionary.h>

#include <iostream>
#include <sstream>

namespace edgeship::templates {

Dictionary& Dictionary::set(const std::string& name, std::string value) {
    m_values[name] = std::move(value);
    return *this;
}

Dictionary& Dictionary::add_section(const std::string& name) {
    m_sections.emplace_back(name, std::make_unique<Dictionary>());
    return *m_sections.back().second;
}

Dictionary& Dictionary::show_section(const std::string& name) { return add_section(name); }

namespace {

void fill(const Dictionary& from, ctemplate::TemplateDictionary& to) {
    for (const auto& [k, v] : from.values()) {
        to.SetValue(k, ctemplate::TemplateString(v.data(), v.size()));
    }
    for (const auto& [name, child] : from.sections()) {
        fill(*child, *to.AddSectionDictionary(name));
    }
}

// ctemplate logs syntax errors on std::cerr; lib/ never prints, so capture them for the Error.
class CerrCapture {
public:
    CerrCapture() : m_old(std::cerr.rdbuf(m_buf.rdbuf())) {}
    ~CerrCapture() { std::cerr.rdbuf(m_old); }
    CerrCapture(const CerrCapture&) = delete;
    CerrCapture& operator=(const CerrCapture&) = delete;
    std::string text() const {
        std::string s = m_buf.str();
        // "ERROR: Template : ERROR: msg\n" -> "msg"
        if (auto p = s.rfind("ERROR: "); p != std::string::npos) {
            s = s.substr(p + 7);
        }
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
            s.pop_back();
        }
        return s;
    }

private:
    std::ostringstream m_buf;
    std::streambuf* m_old;
};

} // namespace

Result<std::string> render(std::string_view name, std::string_view text, const Dictionary& data) {
    ctemplate::TemplateCache cache;
    const std::string key(name.empty() ? "template" : name);
    {
        CerrCapture capture;
        if (!cache.StringToTemplateCache(key, ctemplate::TemplateString(text.data(), text.size()),
                                         ctemplate::DO_NOT_STRIP)) {
            std::string why = capture.text();
            return fail(key + ": template syntax error" + (why.empty() ? "" : ": " + why));
        }
    }
    ctemplate::TemplateDictionary dict(key);
    fill(data, dict);
    std::string out;
    CerrCapture capture;
    if (!cache.ExpandWithData(key, ctemplate::DO_NOT_STRIP, &dict, nullptr, &out)) {
        std::string why = capture.text();
        return fail(key + ": template expansion failed" + (why.empty() ? "" : ": " + why));
    }
    return out;
}

} // namespace edgeship::templates
