#pragma once
// The templates/ tree compiled into the binary (cmake/EmbedTemplates.cmake generates the table).

#include <optional>
#include <span>
#include <string_view>

namespace edgeship::templates {

/// One embedded file: its path relative to templates/ ("runtimes/python-onnxruntime/app/main.py")
/// and its exact bytes. Static storage; safe to use from any thread.
struct EmbeddedFile {
    std::string_view name;
    std::string_view content;
};

/// Every embedded file, sorted by name.
std::span<const EmbeddedFile> embedded_files();

/// The embedded file `name`, or nullopt.
std::optional<std::string_view> find_embedded(std::string_view name);

namespace detail {
/// Defined in the generated embedded_templates.cpp.
std::span<const EmbeddedFile> embedded_table();
} // namespace detail

} // namespace edgeship::templates
