#include "imagebuild/base.hpp"

#include "oci/docker_archive.hpp"
#include "oci/layout.hpp"

namespace edgeship::imagebuild {

namespace fs = std::filesystem;

Result<BaseRef> parse_base_ref(std::string_view text) { return oci::ImageSource::parse(text, "base image"); }

Result<std::string> official_base_in(const std::string& official, const std::string& mirror) {
    if (mirror.empty()) {
        return official;
    }
    EDGESHIP_TRY_ASSIGN(auto ref, oci::Reference::parse(official));
    if (ref.registry != "docker.io") {
        return official;
    }
    std::string host = mirror;
    while (!host.empty() && host.back() == '/') {
        host.pop_back();
    }
    auto mirrored = oci::Reference::parse(host + "/" + ref.repository + (ref.tag.empty() ? "" : ":" + ref.tag) +
                                          (ref.digest ? "@" + ref.digest->str() : ""));
    if (!mirrored) {
        return unexpected(std::move(mirrored).error().context("base registry '" + mirror + "'"));
    }
    return mirrored->str();
}

Result<std::string> base_ref_for(const solution::ModuleInfo& module, const std::string& platform,
                                 const std::optional<std::string>& flag, const RuntimeImage& runtime,
                                 const std::string& base_registry) {
    if (flag && !flag->empty()) {
        return *flag;
    }
    const auto& j = module.json;
    if (j.contains("edgeship") && j["edgeship"].is_object() && j["edgeship"].contains("baseImage")) {
        const auto& b = j["edgeship"]["baseImage"];
        if (!b.is_object()) {
            return fail(module.module_json.string() + ": edgeship.baseImage: must be an object platform -> image reference");
        }
        std::vector<std::string> keys = {platform};
        if (auto dot = platform.find('.'); dot != std::string::npos) {
            keys.push_back(platform.substr(0, dot));
        }
        for (const auto& k : keys) {
            if (b.contains(k)) {
                if (!b[k].is_string() || b[k].get<std::string>().empty()) {
                    return fail(module.module_json.string() + ": edgeship.baseImage." + k + ": must be a non-empty string");
                }
                return b[k].get<std::string>();
            }
        }
    }
    const std::string release = platform.substr(0, platform.find('.'));
    if (auto it = runtime.default_bases.find(release); it != runtime.default_bases.end()) {
        return official_base_in(it->second, base_registry);
    }
    return unexpected(Error("module " + module.folder + ": runtime " + runtime.runtime + " names no base image for platform " +
                            platform)
                          .hint("pass --base REF (oci:DIR[:TAG], docker-archive:FILE or registry/repo:tag), or set "
                                "\"edgeship\": {\"baseImage\": {\"" + platform + "\": \"REF\"}} in " +
                                module.module_json.string()));
}

Result<void> check_base_platform(const oci::LocalImage& base, const oci::Platform& wanted, std::string_view name) {
    const auto have = base.platform();
    const bool variant_ok = wanted.variant.empty() || have.variant.empty() || wanted.variant == have.variant;
    if (have.os != wanted.os || have.architecture != wanted.architecture || !variant_ok) {
        return fail("base image " + std::string(name) + " is " + have.str() + ", not " + wanted.str());
    }
    return {};
}

Result<oci::LocalImage> load_local_base(const BaseRef& ref, const oci::Platform& platform, const fs::path& staging_dir,
                                        const core::CancelToken* cancel) {
    oci::LocalImage image;
    if (ref.kind == BaseRef::Kind::oci_layout) {
        auto layout = oci::OciLayout::open(ref.path);
        if (!layout) {
            return unexpected(std::move(layout).error().context("base image " + ref.text));
        }
        oci::LoadOptions lo;
        lo.cancel = cancel;
        // A multi-platform index is resolved by platform; a single image is checked below.
        auto entry = layout->find(ref.tag);
        if (!entry) {
            return unexpected(std::move(entry).error().context("base image " + ref.text));
        }
        if (entry->media_type == oci::index_media_type(oci::ManifestFormat::oci) ||
            entry->media_type == oci::index_media_type(oci::ManifestFormat::docker)) {
            lo.platform = platform;
        }
        auto loaded = layout->load_image(ref.tag, lo);
        if (!loaded) {
            return unexpected(std::move(loaded).error().context("base image " + ref.text));
        }
        image = std::move(*loaded);
    } else if (ref.kind == BaseRef::Kind::docker_archive) {
        oci::DockerArchiveReadOptions ro;
        ro.cancel = cancel;
        auto read = oci::read_docker_archive(ref.path, staging_dir, ro);
        if (!read) {
            return unexpected(std::move(read).error().context("base image " + ref.text));
        }
        image = std::move(read->image);
    } else {
        return fail("base image " + ref.text + ": a registry image is read through the registry client, not locally");
    }
    EDGESHIP_TRY(check_base_platform(image, platform, ref.text));
    return image;
}

} // namespace edgeship::imagebuild
