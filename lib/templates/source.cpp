#include "templates/source.hpp"

#include "core/fs.hpp"
#include "templates/embedded.hpp"

#include <algorithm>
#include <set>

namespace edgeship::templates {

namespace fs = std::filesystem;

Result<TemplateSource> TemplateSource::open(const fs::path& user_dir) {
    if (user_dir.empty()) {
        return TemplateSource();
    }
    std::error_code ec;
    if (!fs::is_directory(user_dir, ec)) {
        return fail(user_dir.string() + ": template directory does not exist", ExitCode::usage);
    }
    return TemplateSource(user_dir);
}

Result<std::string> TemplateSource::read(std::string_view name) const {
    if (m_user_dir) {
        fs::path p = *m_user_dir / fs::path(std::string(name));
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) {
            return core::read_file(p);
        }
    }
    if (auto e = find_embedded(name)) {
        return std::string(*e);
    }
    return fail("template '" + std::string(name) + "' not found" +
                (m_user_dir ? " in " + m_user_dir->string() + " or the embedded templates" : " in the embedded templates"));
}

bool TemplateSource::exists(std::string_view name) const {
    if (m_user_dir) {
        std::error_code ec;
        if (fs::is_regular_file(*m_user_dir / fs::path(std::string(name)), ec)) {
            return true;
        }
    }
    return find_embedded(name).has_value();
}

std::vector<std::string> TemplateSource::list(std::string_view prefix) const {
    std::set<std::string> names;
    for (const auto& f : embedded_files()) {
        if (f.name.starts_with(prefix)) {
            names.emplace(f.name);
        }
    }
    if (m_user_dir) {
        fs::path base = *m_user_dir;
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (it->is_regular_file(ec)) {
                std::string rel = fs::relative(it->path(), base, ec).generic_string();
                if (!ec && rel.starts_with(prefix)) {
                    names.insert(rel);
                }
            }
        }
    }
    return {names.begin(), names.end()};
}

std::string TemplateSource::origin(std::string_view name) const {
    if (m_user_dir) {
        fs::path p = *m_user_dir / fs::path(std::string(name));
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) {
            return p.string();
        }
    }
    return "embedded";
}

} // namespace edgeship::templates
