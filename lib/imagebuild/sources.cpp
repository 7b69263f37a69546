#include "imagebuild/sources.hpp"

#include "core/fs.hpp"
#include "core/sha256.hpp"
#include "imagebuild/dockerignore.hpp"

#include <algorithm>

namespace edgeship::imagebuild {

namespace fs = std::filesystem;

namespace {

std::string strip_slashes(std::string s) {
    while (!s.empty() && s.back() == '/') {
        s.pop_back();
    }
    while (!s.empty() && s.front() == '/') {
        s.erase(s.begin());
    }
    return s;
}

// Walks `src` (context-relative `rel`) into entries under image directory `dest` (no leading '/').
Result<void> walk(const fs::path& context, const std::string& rel, const std::string& dest, const DockerIgnore& ignore,
                  std::vector<oci::LayerEntry>& out) {
    const fs::path src = context / rel;
    std::error_code ec;
    auto st = fs::symlink_status(src, ec);
    if (ec || !fs::exists(st)) {
        return fail(src.string() + ": no such file or directory (copied by the runtime's image.copy rules)");
    }
    if (fs::is_regular_file(st)) {
        if (!ignore.excluded(rel)) {
            out.push_back(oci::LayerEntry::file(dest, src));
        }
        return {};
    }
    if (!fs::is_directory(st)) {
        return fail(src.string() + ": not a regular file or directory");
    }
    out.push_back(oci::LayerEntry::directory(dest));
    std::vector<fs::directory_entry> children;
    for (fs::directory_iterator it(src, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        children.push_back(*it);
    }
    if (ec) {
        return fail(src.string() + ": cannot list: " + ec.message());
    }
    std::sort(children.begin(), children.end(), [](const auto& a, const auto& b) { return a.path() < b.path(); });
    for (const auto& c : children) {
        const std::string name = c.path().filename().string();
        const std::string crel = rel.empty() ? name : rel + "/" + name;
        if (ignore.excluded(crel)) {
            continue;
        }
        const std::string cdest = dest + "/" + name;
        auto cst = c.symlink_status(ec);
        if (ec) {
            return fail(c.path().string() + ": " + ec.message());
        }
        if (fs::is_symlink(cst)) {
            auto target = fs::read_symlink(c.path(), ec);
            if (ec) {
                return fail(c.path().string() + ": cannot read link: " + ec.message());
            }
            out.push_back(oci::LayerEntry::symlink(cdest, target.string()));
        } else if (fs::is_directory(cst)) {
            EDGESHIP_TRY(walk(context, crel, cdest, ignore, out));
        } else if (fs::is_regular_file(cst)) {
            out.push_back(oci::LayerEntry::file(cdest, c.path()));
        } else {
            return fail(c.path().string() + ": not a regular file, directory or symlink");
        }
    }
    return {};
}

bool is_model_file(const fs::path& p) { return p.extension() == ".onnx"; }

} // namespace

Result<ModuleSources> collect_sources(const solution::ModuleInfo& module, const RuntimeImage& runtime,
                                      const std::optional<fs::path>& model_override, bool hash_model) {
    ModuleSources s;
    std::string context_path = ".";
    if (module.json.contains("image") && module.json["image"].contains("contextPath") &&
        module.json["image"]["contextPath"].is_string()) {
        context_path = module.json["image"]["contextPath"].get<std::string>();
    }
    s.context = (module.dir / context_path).lexically_normal();
    std::error_code ec;
    if (!fs::is_directory(s.context, ec)) {
        return fail(module.module_json.string() + ": image.contextPath: " + s.context.string() + " is not a directory");
    }
    EDGESHIP_TRY_ASSIGN(auto ignore, DockerIgnore::load(s.context));

    if (model_override) {
        if (!fs::is_regular_file(*model_override, ec)) {
            return fail("--model " + model_override->string() + ": no such file");
        }
    }
    for (const auto& rule : runtime.copy) {
        const std::string rel = strip_slashes(rule.from);
        const std::string dest = strip_slashes(rule.to);
        auto& entries = rule.model ? s.model_entries : s.app_entries;
        if (!rule.model) {
            EDGESHIP_TRY(walk(s.context, rel, dest, ignore, entries));
            continue;
        }
        // The model rule: the one *.onnx directly in the source directory is the model.
        const fs::path dir = s.context / rel;
        const bool dir_exists = fs::is_directory(dir, ec);
        if (dir_exists) {
            EDGESHIP_TRY(walk(s.context, rel, dest, ignore, entries));
        } else if (!model_override) {
            return unexpected(Error(dir.string() + ": no model directory").hint("put the .onnx model there, or pass --model FILE"));
        } else {
            entries.push_back(oci::LayerEntry::directory(dest));
        }
        std::vector<std::size_t> models;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const auto& e = entries[i];
            if (e.type == oci::LayerEntry::Type::file && fs::path(e.path).parent_path() == fs::path(dest) &&
                is_model_file(e.path)) {
                models.push_back(i);
            }
        }
        if (models.size() > 1 && !model_override) {
            return unexpected(Error(dir.string() + ": several .onnx models; the image serves one")
                                  .hint("keep one model in " + dir.string() + ", or pass --model FILE"));
        }
        if (models.size() > 1) {
            return fail(dir.string() + ": several .onnx models; --model cannot tell which one it replaces");
        }
        if (models.empty() && !model_override) {
            return unexpected(Error(dir.string() + ": no .onnx model").hint("copy the model there, or pass --model FILE"));
        }
        if (model_override) {
            if (models.empty()) {
                s.model.file = model_override->filename().string();
                entries.push_back(oci::LayerEntry::file(dest + "/" + s.model.file, *model_override));
            } else {
                auto& e = entries[models.front()];
                s.model.file = fs::path(e.path).filename().string();
                e = oci::LayerEntry::file(e.path, *model_override);
            }
            s.model.source = *model_override;
        } else {
            const auto& e = entries[models.front()];
            s.model.file = fs::path(e.path).filename().string();
            s.model.source = e.source_file;
        }
        s.model.image_path = "/" + dest + "/" + s.model.file;
    }
    if (hash_model) {
        EDGESHIP_TRY_ASSIGN(s.model.sha256, core::sha256_file(s.model.source));
    }
    EDGESHIP_TRY_ASSIGN(s.model.size, core::regular_file_size(s.model.source));
    return s;
}

} // namespace edgeship::imagebuild
