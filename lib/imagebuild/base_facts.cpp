#include "imagebuild/base_facts.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <regex>
#include <sstream>

namespace edgeship::imagebuild {

namespace {

// "3.11.9" -> "3.11"
std::string major_minor(const std::string& v) {
    const auto a = v.find('.');
    if (a == std::string::npos) {
        return "";
    }
    const auto b = v.find('.', a + 1);
    return v.substr(0, b);
}

std::string normalize(std::string p) {
    while (p.rfind("./", 0) == 0) {
        p.erase(0, 2);
    }
    while (!p.empty() && p.front() == '/') {
        p.erase(p.begin());
    }
    return p;
}

std::set<std::string> passwd_names(const std::string& text) {
    std::set<std::string> names;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon != std::string::npos && colon > 0 && line[0] != '#') {
            names.insert(line.substr(0, colon));
        }
    }
    return names;
}

// "3.9" vs "3.11": compared as numbers, not strings.
std::string newer_version(const std::string& a, const std::string& b) {
    auto minor = [](const std::string& v) {
        const auto dot = v.find('.');
        return dot == std::string::npos ? -1 : std::atoi(v.c_str() + dot + 1);
    };
    return a.empty() || minor(b) > minor(a) ? b : a;
}

bool numeric(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

} // namespace

BaseFacts facts_from_config(const oci::ImageConfig& config, const RuntimeProbe& probe) {
    BaseFacts f;
    if (!probe.version_env.empty()) {
        if (auto v = config.config.env_value(probe.version_env); v && !v->empty()) {
            f.has_runtime = true;
            f.runtime_version = *v;
            f.language_version = major_minor(*v);
        }
    }
    return f;
}

bool user_resolvable(const std::string& user, const BaseFacts& facts) {
    if (user.empty()) {
        return true;
    }
    const std::string name = user.substr(0, user.find(':'));
    return numeric(name) || facts.users.count(name) > 0;
}

bool needs_layer_scan(const BaseFacts& f, const RuntimeImage& rt) {
    const bool probe_defined = !rt.probe.version_env.empty() || !rt.probe.files.empty();
    if (probe_defined && !f.has_runtime) {
        return true;
    }
    if (rt.deps && rt.deps->tool == "pip" && f.language_version.empty()) {
        return true;
    }
    const std::string name = rt.user.substr(0, rt.user.find(':'));
    return !name.empty() && !numeric(name);
}

Result<BaseFacts> scan_base_layers(const oci::LocalImage& base, const RuntimeProbe& probe, const core::CancelToken* cancel) {
    BaseFacts f = facts_from_config(base.parsed_config, probe);
    f.scanned = true;
    std::optional<std::regex> version_re;
    if (!probe.version_dir_regex.empty()) {
        try {
            version_re.emplace(probe.version_dir_regex);
        } catch (const std::regex_error& e) {
            return fail("runtime_probe.version_dir_regex: " + std::string(e.what()));
        }
    }
    std::string version_from_dirs;
    std::string passwd;
    for (std::size_t i = 0; i < base.layers.size(); ++i) {
        const auto& layer = base.layers[i];
        const auto* file = layer.local_file();
        if (file == nullptr) {
            return fail("base layer " + layer.descriptor.digest.short_str() + " is not on disk (cannot list its files)");
        }
        std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), &archive_read_free);
        archive_read_support_filter_all(a.get());
        archive_read_support_format_tar(a.get());
        if (archive_read_open_filename(a.get(), file->c_str(), 1 << 16) != ARCHIVE_OK) {
            return fail("base layer " + layer.descriptor.digest.short_str() + ": " + archive_error_string(a.get()));
        }
        std::size_t n = 0;
        for (;;) {
            archive_entry* e = nullptr;
            const int rc = archive_read_next_header(a.get(), &e);
            if (rc == ARCHIVE_EOF) {
                break;
            }
            // ARCHIVE_WARN: e.g. a non-ASCII name (ca-certificates has some) in the C locale: keep going.
            if (rc < ARCHIVE_WARN) {
                return fail("base layer " + layer.descriptor.digest.short_str() + ": " + archive_error_string(a.get()));
            }
            if (cancel != nullptr && (++n % 4096) == 0 && cancel->cancelled()) {
                return unexpected(core::cancelled_error());
            }
            const char* utf8 = archive_entry_pathname_utf8(e);
            const char* raw = archive_entry_pathname(e);
            const std::string path = normalize(utf8 != nullptr ? utf8 : (raw != nullptr ? raw : ""));
            if (!f.has_runtime && std::find(probe.files.begin(), probe.files.end(), path) != probe.files.end()) {
                f.has_runtime = true;
            }
            if (version_re) {
                std::smatch m;
                if (std::regex_search(path, m, *version_re) && m.size() > 1) {
                    version_from_dirs = newer_version(version_from_dirs, m[1].str());
                }
            }
            if (path == "etc/passwd" && archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) < (1 << 20)) {
                passwd.assign(static_cast<std::size_t>(archive_entry_size(e)), '\0');
                const auto got = archive_read_data(a.get(), passwd.data(), passwd.size());
                passwd.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
            }
        }
    }
    if (f.language_version.empty()) {
        f.language_version = version_from_dirs;
    }
    f.users = passwd_names(passwd);
    return f;
}

} // namespace edgeship::imagebuild
