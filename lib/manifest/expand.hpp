#pragma once
// Variable expansion for solution files (deployment templates, module.json) with iotedgedev's
// semantics (docs/design/iothub.md §2.2) but JSON-safe: values are substituted inside decoded JSON
// strings after parsing, never by text replacement of the raw file, so a value with a quote,
// backslash or newline cannot break the JSON (Azure/iotedgedev#414).

#include "core/env.hpp"
#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace edgeship::manifest {

/// The variables templates see: the process environment over the .env file
/// (docs/design/iothub.md §1.1: variables already in the environment win).
core::Environment merge_variables(const core::Environment& dotenv, const core::Environment& process_env);

/// A `$NAME` / `${NAME}` reference that names no variable. It is left verbatim (§2.2).
struct UndefinedVariable {
    std::string name;     ///< "REGISTRY" (without $ and braces)
    std::string location; ///< "deployment.template.json:12:20" (original file, 1-based)
};

/// True for references that are manifest syntax or later placeholders and so are never expanded:
/// $edgeAgent, $edgeHub, $upstream, $schema…, ${MODULES.…}, ${MODULEDIR<…>} (§2.2 "Derived"), and the
/// route query language's system properties ($body, $connectionModuleId, …). iotedgedev would
/// expand these if a variable of that name existed; edgeship never does.
bool is_reserved_reference(std::string_view name);

/// Expands `$NAME` (longest run of [A-Za-z0-9_]) and `${ANY}` in `text`: defined names are replaced
/// by their raw value, undefined and reserved ones stay as written, no recursion, `$$A` is `$` + A.
/// Undefined names are appended to `undefined` when given.
std::string expand_string(std::string_view text, const core::Environment& vars,
                          std::vector<std::string>* undefined = nullptr);

enum class StrictVariables { no, yes };

/// "undefined variables (--strict): file:1:2 $A, …" with a hint.
Error undefined_error(const std::vector<UndefinedVariable>& undefined);

/// A JSON file after expansion. Key order is the file's order.
struct ExpandedJson {
    nlohmann::ordered_json value;
    std::vector<UndefinedVariable> undefined;
};

/// Expands a JSON file's text and parses it, JSON-safely:
///  * inside strings (keys and values), references are expanded after parsing, in the decoded text;
///  * outside strings (an unquoted `"startupOrder": ${ORDER}`), the raw value is spliced in, as
///    iotedgedev does, and must form JSON by itself.
/// When the result is not JSON the error names `source`:line:column of the ORIGINAL text (exit 1).
/// With StrictVariables::yes any undefined reference fails first (undefined_error).
Result<ExpandedJson> expand_json(std::string_view text, const std::string& source, const core::Environment& vars,
                                 StrictVariables strict = StrictVariables::no);

/// 1-based line and column (in bytes) of `offset` in `text`.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset);

} // namespace edgeship::manifest
