#pragma once
// Template rendering: a thin adapter over Google's ctemplate (Debian libctemplate-dev). Templates use
// ctemplate syntax: {{NAME}} values, {{#SECTION}}…{{/SECTION}} repeated or optional blocks,
// {{!comment}}, {{=<% %>=}} to change delimiters. Values are inserted as given: callers pass text
// already encoded for its destination (e.g. a JSON literal for Python or JavaScript source).

#include "core/result.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::templates {

/// The data for one rendering: named values and sections (each section a list of child
/// dictionaries; a section with no children is hidden). Plain value type.
class Dictionary {
public:
    /// Sets {{name}} to `value`.
    Dictionary& set(const std::string& name, std::string value);
    /// Adds one repetition of {{#name}}…{{/name}} and returns its dictionary (stable reference
    /// until this Dictionary is destroyed). Names not set in a child resolve in its parents.
    Dictionary& add_section(const std::string& name);
    /// Shows {{#name}} once with no values of its own (shorthand for add_section).
    Dictionary& show_section(const std::string& name);

    const std::map<std::string, std::string>& values() const { return m_values; }
    const std::vector<std::pair<std::string, std::unique_ptr<Dictionary>>>& sections() const { return m_sections; }

private:
    std::map<std::string, std::string> m_values;
    std::vector<std::pair<std::string, std::unique_ptr<Dictionary>>> m_sections;
};

/// Renders template `text` with `data`. `name` identifies the template in errors
/// ("runtimes/node-onnxruntime/app/server.js: ctemplate: No ending '}}' …"). Whitespace is kept
/// exactly. Not safe to call concurrently from several threads (ctemplate reports syntax errors on
/// std::cerr, which is captured while parsing).
Result<std::string> render(std::string_view name, std::string_view text, const Dictionary& data);

} // namespace edgeship::templates
