#include "imagebuild/build.hpp"

#include "imagebuild/base.hpp"

#include <algorithm>

namespace edgeship::imagebuild {

Result<TargetPlatform> TargetPlatform::parse(const std::string& name) {
    TargetPlatform t;
    t.name = name;
    std::string base = name;
    if (auto dot = name.find('.'); dot != std::string::npos) {
        if (name.substr(dot) != ".debug") {
            return fail("platform '" + name + "': only the '.debug' suffix is known (e.g. amd64.debug)", ExitCode::usage);
        }
        base = name.substr(0, dot);
        t.debug = true;
    }
    auto p = oci::Platform::parse(base);
    if (!p) {
        return unexpected(Error(p.error().message(), ExitCode::usage));
    }
    t.platform = *p;
    return t;
}

Result<oci::Reference> platform_reference(const solution::ModuleInfo& module, const std::string& platform,
                                          const std::string& container_tag) {
    const std::string text = solution::image_tag(module, platform, container_tag);
    auto ref = oci::Reference::parse(text);
    if (!ref) {
        return unexpected(std::move(ref).error().context(module.module_json.string() + ": image tag"));
    }
    return *ref;
}

Result<oci::Reference> index_reference(const solution::ModuleInfo& module, const std::string& container_tag) {
    std::string repo = module.repository;
    std::transform(repo.begin(), repo.end(), repo.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string text = repo + ":" + module.version + (container_tag.empty() ? "" : "-" + container_tag);
    auto ref = oci::Reference::parse(text);
    if (!ref) {
        return unexpected(std::move(ref).error().context(module.module_json.string() + ": image tag"));
    }
    return *ref;
}

Result<ModuleLayers> build_module_layers(const ModuleSources& sources, const std::filesystem::path& blobs_dir,
                                         const oci::LayerOptions& options) {
    return build_module_layers(sources, blobs_dir, options, options, std::nullopt);
}

Result<ModuleLayers> build_module_layers(const ModuleSources& sources, const std::filesystem::path& blobs_dir,
                                         const oci::LayerOptions& options, const oci::LayerOptions& model_options,
                                         const std::optional<oci::LayerBlob>& cached_model) {
    ModuleLayers l;
    if (cached_model) {
        l.model = *cached_model;
    } else {
        auto model = oci::build_layer(sources.model_entries, blobs_dir, model_options);
        if (!model) {
            return unexpected(std::move(model).error().context("building the model layer"));
        }
        l.model = std::move(*model);
    }
    auto app = oci::build_layer(sources.app_entries, blobs_dir, options);
    if (!app) {
        return unexpected(std::move(app).error().context("building the app layer"));
    }
    l.app = std::move(*app);
    return l;
}

namespace {

std::string copy_text(const RuntimeImage& rt, bool model) {
    std::string s;
    for (const auto& c : rt.copy) {
        if (c.model == model) {
            s += (s.empty() ? "" : "; ") + std::string("COPY ") + c.from + " " + c.to;
        }
    }
    return s;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string s;
    for (const auto& x : v) {
        s += (s.empty() ? "" : sep) + x;
    }
    return s;
}

} // namespace

Result<BuiltImage> assemble_module_image(const ImageRequest& r) {
    const auto& module = *r.module;
    const auto& rt = *r.runtime;
    const auto& src = *r.sources;
    const auto& base = *r.base;
    EDGESHIP_TRY(check_base_platform(base, r.platform.platform, r.base_name));
    const auto settings = rt.settings_for(r.platform.debug, src.model.file);
    const std::int64_t epoch = r.source_date_epoch.value_or(oci::k_default_epoch);
    const std::string created = oci::format_rfc3339(epoch);

    // The base as the image names it: a registry REF, or (local base) its manifest digest, never a path.
    const std::string label_name = r.base_origin == BaseOrigin::registry ? r.base_name : std::string();
    const std::string base_label = label_name.empty() ? base.manifest.descriptor.digest.str() : label_name;
    oci::ImageConfig cfg = base.parsed_config;
    if (cfg.diff_ids.size() != base.layers.size()) {
        return fail("base image " + r.base_name + ": config lists " + std::to_string(cfg.diff_ids.size()) +
                    " layers, manifest " + std::to_string(base.layers.size()));
    }
    if (cfg.non_empty_history() != cfg.diff_ids.size()) {
        // A base without (consistent) history: one entry per layer keeps history aligned with diff_ids.
        std::vector<oci::HistoryEntry> h;
        for (std::size_t i = 0; i < cfg.diff_ids.size(); ++i) {
            h.push_back({cfg.created, "base layer " + std::to_string(i) + " of " + base_label, "", "", false});
        }
        cfg.history = std::move(h);
    }
    cfg.created = created;
    if (r.deps != nullptr) {
        cfg.append_layer(r.deps->diff_id, {created, r.deps_text + " # edgeship build: dependencies", "", "", false});
    }
    // docs/design/registry.md §8.5: weights below the code, so a code change re-ships (and devices
    // re-pull) only the small app layer, and a new model only the model layer.
    cfg.append_layer(r.layers->model.diff_id,
                     {created, copy_text(rt, true) + " # edgeship build: model " + src.model.file + " sha256:" + src.model.sha256,
                      "", "", false});
    cfg.append_layer(r.layers->app.diff_id, {created, copy_text(rt, false) + " # edgeship build: app", "", "", false});
    auto& c = cfg.config;
    for (const auto& [k, v] : settings.env) {
        c.set_env(k, v);
    }
    for (const auto& p : settings.expose) {
        if (auto e = c.expose(p); !e) {
            return unexpected(std::move(e).error().context(rt.runtime + " image.expose"));
        }
    }
    if (!rt.workdir.empty()) {
        c.working_dir = rt.workdir;
    }
    if (!rt.user.empty()) {
        c.user = rt.user;
    }
    if (!settings.cmd.empty()) {
        c.cmd = settings.cmd;
    }
    std::string description = module.json.contains("description") && module.json["description"].is_string()
                                  ? module.json["description"].get<std::string>()
                                  : std::string();
    c.labels["org.opencontainers.image.title"] = module.folder;
    c.labels["org.opencontainers.image.version"] = r.version;
    c.labels["org.opencontainers.image.created"] = created;
    if (!description.empty()) {
        c.labels["org.opencontainers.image.description"] = description;
    } else {
        c.labels.erase("org.opencontainers.image.description"); // the base's would describe the base
    }
    if (!label_name.empty()) {
        c.labels["org.opencontainers.image.base.name"] = label_name;
    } else {
        c.labels.erase("org.opencontainers.image.base.name"); // the base's own would name the base's base
    }
    c.labels["org.opencontainers.image.base.digest"] = base.manifest.descriptor.digest.str();
    c.labels[k_label_model_sha256] = src.model.sha256;
    c.labels[k_label_model_file] = src.model.file;
    c.labels[k_label_runtime] = rt.runtime;
    std::vector<std::string> env_names;
    for (const auto& [k, v] : settings.env) {
        env_names.push_back(k + "=" + v);
    }
    cfg.history.push_back({created,
                           "ENV " + join(env_names, " ") + "; WORKDIR " + rt.workdir + "; USER " + rt.user + "; EXPOSE " +
                               join(settings.expose, " ") + "; CMD [" + join(settings.cmd, ", ") + "] # edgeship build",
                           "", "", true});

    std::vector<oci::ImageLayer> layers = base.layers;
    if (r.deps != nullptr) {
        layers.push_back(oci::ImageLayer::from_blob(*r.deps, r.format));
    }
    layers.push_back(oci::ImageLayer::from_blob(r.layers->model, r.format));
    layers.push_back(oci::ImageLayer::from_blob(r.layers->app, r.format));
    std::map<std::string, std::string> annotations;
    if (r.format == oci::ManifestFormat::oci) {
        annotations["org.opencontainers.image.base.digest"] = base.manifest.descriptor.digest.str();
        if (!label_name.empty()) {
            annotations["org.opencontainers.image.base.name"] = label_name;
        }
        annotations["org.opencontainers.image.created"] = created;
        annotations["org.opencontainers.image.title"] = module.folder;
        annotations["org.opencontainers.image.version"] = r.version;
    }
    auto image = oci::assemble_image(cfg, std::move(layers), r.format, annotations);
    if (!image) {
        return unexpected(std::move(image).error().context("assembling " + module.folder + " for " + r.platform.name));
    }
    BuiltImage out;
    out.module = module.folder;
    out.platform = r.platform.name;
    out.image = std::move(*image);
    out.model = src.model;
    out.base_layers = base.layers.size();
    out.has_deps = r.deps != nullptr;
    return out;
}

} // namespace edgeship::imagebuild
