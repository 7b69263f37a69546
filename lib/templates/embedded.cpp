#include "templates/embedded.hpp"

#include <algorithm>

namespace edgeship::templates {

std::span<const EmbeddedFile> embedded_files() { return detail::embedded_table(); }

std::optional<std::string_view> find_embedded(std::string_view name) {
    auto table = detail::embedded_table();
    auto it = std::lower_bound(table.begin(), table.end(), name,
                               [](const EmbeddedFile& f, std::string_view n) { return f.name < n; });
    if (it != table.end() && it->name == name) {
        return it->content;
    }
    return std::nullopt;
}

} // namespace edgeship::templates
