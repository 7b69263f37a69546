#include "cli/build_commands.hpp"

#include "cli/format.hpp"
#include "cli/registry_progress.hpp"
#include "imagebuild/base.hpp"
#include "imagebuild/build.hpp"
#include "imagebuild/layer_cache.hpp"
#include "oci/docker_archive.hpp"
#include "oci/layout.hpp"
#include "registry/client.hpp"
#include "solution/scaffold.hpp"
#include "templates/source.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <stdlib.h>

namespace edgeship::cli {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

/// A temporary directory removed on every exit path: layers are built here first, so a failed build
/// writes nothing to the requested layout or archive.
struct Staging {
    fs::path dir;
    Staging() = default;
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
    ~Staging() {
        if (!dir.empty()) {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    }
    Result<void> create(const fs::path& parent) {
        std::string tmpl = (parent / ".edgeship-build-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            return fail(parent.string() + ": cannot create a staging directory: " + std::strerror(errno));
        }
        dir = tmpl;
        std::error_code ec;
        fs::create_directories(dir / "blobs", ec);
        if (ec) {
            return fail(dir.string() + ": " + ec.message());
        }
        return {};
    }
};

// Same filesystem as the layout when possible, so blobs are hard-linked into it rather than copied.
fs::path staging_parent(const std::string& oci_layout) {
    std::error_code ec;
    if (!oci_layout.empty()) {
        auto parent = fs::absolute(oci_layout, ec).parent_path();
        if (!ec && fs::is_directory(parent, ec)) {
            return parent;
        }
    }
    auto tmp = fs::temp_directory_path(ec);
    return ec ? fs::path("/tmp") : tmp;
}

struct PlannedImage {
    const solution::ModuleInfo* module = nullptr;
    imagebuild::TargetPlatform platform;
    oci::Reference reference;
    std::string base_text;
    imagebuild::BaseRef base;
};

struct ModulePlan {
    const solution::ModuleInfo* module = nullptr;
    const imagebuild::RuntimeImage* runtime = nullptr;
    oci::Reference index_reference;
    std::string version; // version[-CONTAINER_TAG]
    std::vector<PlannedImage> images;
};

struct Output {
    imagebuild::BuiltImage built;
    oci::Reference reference;
    std::optional<registry::TransferReport> transfer;
    std::optional<registry::BlobResult> streamed_model; ///< the model layer, uploaded while it was built
};

/// Counts a model layer uploaded during the build as uploaded in the push report (push_image found it
/// present and counted it as skipped).
void account_streamed(registry::TransferReport& report, const registry::BlobResult& streamed) {
    for (auto& b : report.blobs) {
        if (b.blob.digest == streamed.blob.digest && b.outcome == registry::BlobResult::Outcome::skipped_exists) {
            b.outcome = registry::BlobResult::Outcome::uploaded;
            b.bytes_sent = streamed.bytes_sent;
            report.bytes_skipped -= std::min<std::uint64_t>(report.bytes_skipped, static_cast<std::uint64_t>(b.blob.size));
            report.bytes_uploaded += streamed.bytes_sent;
            return;
        }
    }
}

struct IndexOutput {
    oci::Reference reference;
    oci::Blob blob;
    std::optional<registry::TransferReport> transfer;
    std::vector<std::string> platforms;
};

Result<std::vector<imagebuild::RuntimeImage>> load_runtimes(const std::string& template_dir) {
    EDGESHIP_TRY_ASSIGN(auto source, templates::TemplateSource::open(template_dir));
    std::vector<imagebuild::RuntimeImage> out;
    for (const auto& name : solution::runtime_names(source)) {
        const std::string file = "runtimes/" + name + "/runtime.json";
        EDGESHIP_TRY_ASSIGN(auto text, source.read(file));
        EDGESHIP_TRY_ASSIGN(auto rt, imagebuild::parse_runtime_image(text, file));
        out.push_back(std::move(rt));
    }
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) {
        s += (s.empty() ? "" : ", ") + x;
    }
    return s;
}

const char* layer_role(const imagebuild::BuiltImage& b, std::size_t i) {
    if (i < b.base_layers) {
        return "base";
    }
    return i == b.base_layers ? "model" : "app";
}

ordered_json image_json(const Output& o) {
    const auto& img = o.built.image;
    ordered_json j;
    j["module"] = o.built.module;
    j["platform"] = o.built.platform;
    j["reference"] = o.reference.str();
    j["digest"] = img.manifest.descriptor.digest.str();
    j["media_type"] = img.manifest.descriptor.media_type;
    j["config_digest"] = img.config.descriptor.digest.str();
    j["layers"] = ordered_json::array();
    for (std::size_t i = 0; i < img.layers.size(); ++i) {
        const auto& l = img.layers[i];
        j["layers"].push_back({{"role", layer_role(o.built, i)},
                               {"digest", l.descriptor.digest.str()},
                               {"size", l.descriptor.size},
                               {"media_type", l.descriptor.media_type}});
    }
    j["model"] = {{"file", o.built.model.file}, {"sha256", o.built.model.sha256}, {"size", o.built.model.size}};
    if (o.transfer) {
        j["bytes_uploaded"] = o.transfer->bytes_uploaded;
        j["bytes_skipped"] = o.transfer->bytes_skipped;
    }
    return j;
}

// The model layer of a `build --push`, uploaded on a second thread while it is compressed (reference/
// registry.md §9.8); the destructor stops and joins the uploader on every path out of the build.
class ModelStream {
public:
    ModelStream(registry::Registry& reg, std::string repo) : m_reg(reg), m_repo(std::move(repo)) {
        m_thread = std::thread([this] { m_result.emplace(m_reg.push_growing_blob(m_repo, m_blob)); });
    }
    ModelStream(const ModelStream&) = delete;
    ModelStream& operator=(const ModelStream&) = delete;
    ~ModelStream() {
        if (m_thread.joinable()) {
            m_blob.abort();
            m_thread.join();
        }
    }
    /// Hooks for the model layer's LayerBlobWriter.
    void hook(oci::BlobWriterOptions& o) {
        o.on_temp_file = [this](const fs::path& p) { m_blob.open(p); };
        o.progress = [this](const oci::Progress& p) { m_blob.grew(p.bytes_out); };
    }
    /// Ends the upload: finish() with the built layer, or abort() when it failed. Returns the upload's result.
    Result<registry::BlobResult> done(const oci::LayerBlob* built) {
        if (built != nullptr) {
            m_blob.finish(built->digest, built->size, built->path);
        } else {
            m_blob.abort();
        }
        m_thread.join();
        return std::move(*m_result);
    }

private:
    registry::Registry& m_reg;
    std::string m_repo;
    registry::GrowingBlob m_blob;
    std::optional<Result<registry::BlobResult>> m_result;
    std::thread m_thread;
};

// Registries by host, connected once (credentials resolved once, --password-stdin read once).
class Registries {
public:
    Registries(Context& ctx, const RegistryFlags& flags, const core::Environment* dotenv)
        : m_ctx(ctx), m_flags(flags), m_dotenv(dotenv) {}

    Result<registry::Registry*> get(const std::string& host) {
        if (auto it = m_connected.find(host); it != m_connected.end()) {
            return it->second.get();
        }
        EDGESHIP_TRY_ASSIGN(auto options, registry_options(m_ctx, m_flags, host, m_dotenv));
        // A base layer that stays in another registry is read from it with that host's own credential.
        RegistryFlags other = m_flags;
        other.username.clear();
        other.password_stdin = false;
        Context* ctx = &m_ctx;
        const core::Environment* dotenv = m_dotenv;
        options.options_for_host = [ctx, other, dotenv](const std::string& h) { return registry_options(*ctx, other, h, dotenv); };
        EDGESHIP_TRY_ASSIGN(auto reg, registry::Registry::connect(std::move(options)));
        auto* p = reg.get();
        m_connected.emplace(host, std::move(reg));
        return p;
    }

private:
    Context& m_ctx;
    const RegistryFlags& m_flags;
    const core::Environment* m_dotenv;
    std::map<std::string, std::unique_ptr<registry::Registry>> m_connected;
};

} // namespace

void register_build(CLI::App& parent, Context& ctx, Runner<BuildOptions> run) {
    auto opts = std::make_shared<BuildOptions>();
    auto* sub = parent.add_subcommand(
        "build", "Build module images without a Docker daemon: base image + model layer + app layer, per platform");
    sub->add_option("MODULE", opts->modules, "Module folders under modules/ (default: all)");
    sub->add_option("--solution", opts->solution, "The solution directory")->capture_default_str();
    sub->add_option("--platform", opts->platforms,
                    "Platform to build (repeatable; amd64, arm64v8, amd64.debug…; default: module.json's, without .debug)");
    sub->add_option("--base", opts->base,
                    "Runtime base image: oci:DIR[:TAG], docker-archive:FILE or a registry reference "
                    "(default: module.json edgeship.baseImage.<platform>)");
    sub->add_option("--model", opts->model, "Serve this .onnx instead of the one in the module's model/ directory");
    auto* push = sub->add_flag("--push", opts->push, "Push the images (and a multi-platform index) to their registry");
    auto* layout = sub->add_option("--oci-layout", opts->oci_layout, "Write the images (and index) into this OCI layout");
    auto* archive = sub->add_option("--archive", opts->archive, "Write a docker-archive (docker load) of one image");
    push->excludes(layout)->excludes(archive);
    layout->excludes(archive);
    sub->add_option("--format", opts->format, "Manifest format: oci or docker (schema 2)")
        ->check(CLI::IsMember({"oci", "docker"}))
        ->capture_default_str();
    sub->add_option("--template-dir", opts->template_dir, "Read runtimes/<name>/runtime.json from DIR over the embedded ones");
    sub->add_flag("--json", opts->json, "Print every image (reference, digest, platform, layers, model, bytes) as JSON");
    add_registry_flags(*sub, opts->registry);
    sub->footer("Examples:\n"
                "  edgeship build --base oci:runtime-layout:3.11 --oci-layout out/images\n"
                "  edgeship build scoring --platform amd64 --platform arm64v8 --push\n"
                "  edgeship build scoring --model retrained.onnx --push --json\n"
                "  edgeship build scoring --platform amd64 --archive scoring.tar   # then: docker load -i scoring.tar\n\n"
                "Tags follow iotedgedev: repo:version[-CONTAINER_TAG]-platform (from module.json and .env); several\n"
                "platforms also get an index tagged repo:version[-CONTAINER_TAG]. The base image must already hold the\n"
                "runtime (the Dockerfile's RUN steps cannot run without a daemon): pass --base or set module.json\n"
                "\"edgeship\": {\"baseImage\": {\"amd64\": \"REF\"}}. Base layers are never downloaded when pushing to\n"
                "the registry that holds them. SOURCE_DATE_EPOCH sets every timestamp (default 1970-01-01T00:00:01Z).\n"
                "Exit codes: 0 built, 1 failure (nothing written or tagged), 2 usage, 4 authentication, 130 interrupted.");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_build(const BuildOptions& opts, Context& ctx) {
    const int outputs = (opts.push ? 1 : 0) + (opts.oci_layout.empty() ? 0 : 1) + (opts.archive.empty() ? 0 : 1);
    if (outputs != 1) {
        return fail("build: choose one output: --push, --oci-layout DIR or --archive FILE", ExitCode::usage);
    }
    const auto format = opts.format == "docker" ? oci::ManifestFormat::docker : oci::ManifestFormat::oci;

    // Plan: every module, platform, tag and base reference, checked before anything is built.
    EDGESHIP_TRY_ASSIGN(auto runtimes, load_runtimes(opts.template_dir));
    auto env = solution::load_env(opts.solution, ctx.env);
    if (!env) {
        return unexpected(std::move(env).error().context("build"));
    }
    const fs::path modules_dir = fs::path(opts.solution) / env->get("MODULES_PATH", "modules");
    auto modules = solution::load_modules(modules_dir, env->vars);
    if (!modules) {
        return unexpected(std::move(modules).error().context("build"));
    }
    if (modules->empty()) {
        return unexpected(Error("build: " + modules_dir.string() + ": no modules (no <folder>/module.json)")
                              .hint("run 'edgeship init DIR --model model.onnx', or pass --solution DIR"));
    }
    std::vector<const solution::ModuleInfo*> selected;
    for (const auto& name : opts.modules) {
        auto it = std::find_if(modules->begin(), modules->end(), [&](const auto& m) { return m.folder == name; });
        if (it == modules->end()) {
            std::vector<std::string> have;
            for (const auto& m : *modules) {
                have.push_back(m.folder);
            }
            return fail("build: no module '" + name + "' in " + modules_dir.string() + " (have: " + joined(have) + ")");
        }
        if (std::find(selected.begin(), selected.end(), &*it) == selected.end()) {
            selected.push_back(&*it);
        }
    }
    if (opts.modules.empty()) {
        for (const auto& m : *modules) {
            selected.push_back(&m);
        }
    }
    const std::string container_tag = env->get("CONTAINER_TAG");
    std::optional<std::int64_t> epoch;
    if (auto it = ctx.env.find("SOURCE_DATE_EPOCH"); it != ctx.env.end() && !it->second.empty()) {
        EDGESHIP_TRY_ASSIGN(epoch, oci::parse_source_date_epoch(it->second));
    }
    std::optional<fs::path> model_override;
    if (!opts.model.empty()) {
        model_override = fs::path(opts.model);
    }
    const std::optional<std::string> base_flag = opts.base.empty() ? std::nullopt : std::optional<std::string>(opts.base);

    std::vector<ModulePlan> plans;
    for (const auto* m : selected) {
        ModulePlan plan;
        plan.module = m;
        auto rt = imagebuild::select_runtime(*m, runtimes);
        if (!rt) {
            return unexpected(std::move(rt).error().context("build " + m->folder));
        }
        plan.runtime = *rt;
        EDGESHIP_TRY_ASSIGN(plan.index_reference, imagebuild::index_reference(*m, container_tag));
        plan.version = m->version + (container_tag.empty() ? "" : "-" + container_tag);
        std::vector<std::string> platforms = opts.platforms;
        std::vector<std::string> have;
        for (const auto& [p, dockerfile] : m->platforms) {
            have.push_back(p);
            if (opts.platforms.empty() && p.find('.') == std::string::npos) {
                platforms.push_back(p);
            }
        }
        for (const auto& p : platforms) {
            if (std::find(have.begin(), have.end(), p) == have.end()) {
                return fail("build " + m->folder + ": " + m->module_json.string() + " has no platform '" + p +
                            "' (has: " + joined(have) + ")");
            }
            PlannedImage pi;
            pi.module = m;
            EDGESHIP_TRY_ASSIGN(pi.platform, imagebuild::TargetPlatform::parse(p));
            EDGESHIP_TRY_ASSIGN(pi.reference, imagebuild::platform_reference(*m, p, container_tag));
            auto base_text = imagebuild::base_ref_for(*m, p, base_flag, *plan.runtime);
            if (!base_text) {
                return unexpected(std::move(base_text).error().context("build"));
            }
            pi.base_text = *base_text;
            EDGESHIP_TRY_ASSIGN(pi.base, imagebuild::BaseRef::parse(pi.base_text));
            plan.images.push_back(std::move(pi));
        }
        if (plan.images.empty()) {
            return fail("build " + m->folder + ": no platform to build");
        }
        plans.push_back(std::move(plan));
    }
    std::size_t total = 0;
    for (const auto& p : plans) {
        total += p.images.size();
    }
    if (!opts.archive.empty() && total != 1) {
        return unexpected(Error("build: --archive holds one image, and " + std::to_string(total) + " were asked for",
                                ExitCode::usage)
                              .hint("name one module and one --platform (or use 'edgeship export MODULE --archive FILE')"));
    }
    if (!opts.oci_layout.empty()) {
        // Layout tags are the tag part of each reference; two images must not claim the same one.
        std::set<std::string> tags;
        for (const auto& p : plans) {
            std::vector<std::string> names;
            for (const auto& i : p.images) {
                names.push_back(i.reference.tag);
            }
            if (p.images.size() > 1) {
                names.push_back(p.index_reference.tag);
            }
            for (const auto& t : names) {
                if (!tags.insert(t).second) {
                    return unexpected(Error("build: two images would be tagged '" + t + "' in " + opts.oci_layout)
                                          .hint("build one module per layout, or give the modules different versions"));
                }
            }
        }
    }

    // Build: layers into a staging directory, base images resolved once per (REF, platform).
    Staging staging;
    EDGESHIP_TRY(staging.create(staging_parent(opts.oci_layout)));
    const fs::path blobs = staging.dir / "blobs";
    Registries registries(ctx, opts.registry, &env->dotenv);
    std::map<std::string, oci::LocalImage> bases;
    std::size_t base_count = 0;
    auto resolve_base = [&](const PlannedImage& pi) -> Result<const oci::LocalImage*> {
        const std::string key = pi.base_text + "|" + pi.platform.platform.str();
        if (auto it = bases.find(key); it != bases.end()) {
            return &it->second;
        }
        oci::LocalImage image;
        if (pi.base.kind != imagebuild::BaseRef::Kind::registry) {
            const fs::path dir = staging.dir / ("base-" + std::to_string(base_count++));
            fs::create_directories(dir);
            EDGESHIP_TRY_ASSIGN(image, imagebuild::load_local_base(pi.base, pi.platform.platform, dir));
            // docker save layers are plain tars: gzip them (one pass) unless they go back into an archive
            const bool plain = std::any_of(image.layers.begin(), image.layers.end(), [](const auto& l) {
                return l.descriptor.media_type.find("gzip") == std::string::npos;
            });
            if (plain && opts.archive.empty()) {
                oci::BlobWriterOptions bo;
                bo.sync = false;
                EDGESHIP_TRY_ASSIGN(image, oci::compress_layers(image, dir, image.format(), bo));
            }
        } else {
            EDGESHIP_TRY_ASSIGN(auto* reg, registries.get(pi.base.reference.api_host()));
            if (opts.push) {
                // Layers stay in the registry: a push to the same registry HEAD-skips or mounts them.
                auto remote = reg->get_image(pi.base.reference, pi.platform.platform);
                if (!remote) {
                    return unexpected(std::move(remote).error().context("base image " + pi.base_text));
                }
                image = std::move(*remote);
            } else {
                // A layout or archive needs the layers on disk: download them once, verified.
                const fs::path dir = staging.dir / ("base-" + std::to_string(base_count++));
                EDGESHIP_TRY_ASSIGN(auto layout, oci::OciLayout::create(dir));
                TransferProgress progress(ctx, TransferDirection::pull, opts.json);
                auto pulled = reg->pull_to_layout(pi.base.reference, layout, pi.platform.platform, "base", progress.callback());
                progress.finish();
                if (!pulled) {
                    return unexpected(std::move(pulled).error().context("base image " + pi.base_text));
                }
                EDGESHIP_TRY_ASSIGN(auto reopened, oci::OciLayout::open(dir));
                oci::LoadOptions lo;
                lo.platform = pi.platform.platform;
                EDGESHIP_TRY_ASSIGN(image, reopened.load_image("base", lo));
            }
            EDGESHIP_TRY(imagebuild::check_base_platform(image, pi.platform.platform, pi.base_text));
        }
        auto [it, inserted] = bases.emplace(key, std::move(image));
        return &it->second;
    };

    // Every base is resolved (read, verified, or its manifest fetched) before any layer is built.
    std::vector<std::vector<const oci::LocalImage*>> plan_bases;
    for (const auto& plan : plans) {
        plan_bases.emplace_back();
        for (const auto& pi : plan.images) {
            auto base = resolve_base(pi);
            if (!base) {
                return unexpected(std::move(base).error().context("build " + plan.module->folder + " " + pi.platform.name));
            }
            plan_bases.back().push_back(*base);
        }
    }

    std::vector<Output> outputs_built;
    std::vector<std::pair<std::size_t, std::size_t>> module_ranges; // [first, last) into outputs_built
    std::vector<imagebuild::ModuleSources> all_sources;
    all_sources.reserve(plans.size());
    std::vector<imagebuild::ModuleLayers> all_layers;
    all_layers.reserve(plans.size());
    for (const auto& plan : plans) {
        const auto& m = *plan.module;
        auto sources = imagebuild::collect_sources(m, *plan.runtime, model_override);
        if (!sources) {
            return unexpected(std::move(sources).error().context("build " + m.folder));
        }
        all_sources.push_back(std::move(*sources));
        oci::LayerOptions lo;
        lo.source_date_epoch = epoch;
        lo.blob.sync = false; // the staging directory is discarded on failure; the layout write syncs index.json
        oci::LayerOptions model_lo = lo;
        std::optional<oci::LayerBlob> cached_model;
        std::unique_ptr<ModelStream> stream;
        std::string cache_key;
        std::string model_source; // host/repo the model layer is already in (cache hit)
        const fs::path cache_dir = opts.push ? imagebuild::layer_cache_dir(ctx.env) : fs::path();
        if (opts.push && !plan.images.empty()) {
            // All platforms of a module share one repository (repo:version-platform).
            const auto& ref0 = plan.images.front().reference;
            const bool one_repo = std::all_of(plan.images.begin(), plan.images.end(), [&](const PlannedImage& pi) {
                return pi.reference.api_host() == ref0.api_host() && pi.reference.repository == ref0.repository;
            });
            EDGESHIP_TRY_ASSIGN(auto* reg, registries.get(ref0.api_host()));
            // A model layer built before (same inputs, same codec and level: §8.2, §11.9) that the registry
            // holds (HEAD) is neither rebuilt nor uploaded.
            if (one_repo && !cache_dir.empty()) {
                if (auto key = imagebuild::model_layer_key(all_sources.back(), lo); key) {
                    cache_key = *key;
                    if (auto hit = imagebuild::load_cached_layer(cache_dir, cache_key)) {
                        auto there = reg->blob_exists(ref0.repository, hit->digest);
                        if (there && *there) {
                            cached_model = std::move(hit);
                            model_source = ref0.api_host() + "/" + ref0.repository;
                            ctx.console.debug(m.folder + ": model layer " + cached_model->digest.short_str() +
                                              " from the layer cache, present in " + model_source);
                        }
                    }
                } else {
                    ctx.console.debug("layer cache: " + key.error().message());
                }
            }
            if (!cached_model) {
                stream = std::make_unique<ModelStream>(*reg, ref0.repository);
                stream->hook(model_lo.blob);
            }
        }
        auto layers = imagebuild::build_module_layers(all_sources.back(), blobs, lo, model_lo, cached_model);
        std::optional<registry::BlobResult> streamed;
        if (stream) {
            auto up = stream->done(layers ? &layers->model : nullptr);
            if (up) {
                streamed = std::move(*up);
            } else if (layers) {
                // Not fatal: push_image below finds the blob missing and uploads it the ordinary way.
                ctx.console.debug("uploading the model layer while building it failed: " + up.error().message());
            }
        }
        if (!layers) {
            return unexpected(std::move(layers).error().context("build " + m.folder));
        }
        if (!cached_model && !cache_key.empty()) {
            if (auto stored = imagebuild::store_cached_layer(cache_dir, cache_key, layers->model); !stored) {
                ctx.console.debug("layer cache: " + stored.error().message());
            }
        }
        all_layers.push_back(std::move(*layers));
        ctx.console.info(m.folder + ": model layer " + all_layers.back().model.digest.short_str() + " (" +
                         human_bytes(all_layers.back().model.size) + "), app layer " +
                         all_layers.back().app.digest.short_str() + " (" + human_bytes(all_layers.back().app.size) + ")");
        const std::size_t first = outputs_built.size();
        for (std::size_t n = 0; n < plan.images.size(); ++n) {
            const auto& pi = plan.images[n];
            imagebuild::ImageRequest req;
            req.module = &m;
            req.runtime = plan.runtime;
            req.sources = &all_sources.back();
            req.layers = &all_layers.back();
            req.platform = pi.platform;
            req.base = plan_bases[&plan - plans.data()][n];
            req.base_name = pi.base_text;
            req.version = plan.version;
            req.source_date_epoch = epoch;
            req.format = format;
            auto built = imagebuild::assemble_module_image(req);
            if (!built) {
                return unexpected(std::move(built).error().context("build " + m.folder));
            }
            if (!model_source.empty()) {
                built->image.layers[built->base_layers].source_repository = model_source; // HEAD-checked at push
            }
            outputs_built.push_back({std::move(*built), pi.reference, std::nullopt, std::nullopt});
            if (n == 0 && streamed) {
                outputs_built.back().streamed_model = streamed;
            }
        }
        module_ranges.emplace_back(first, outputs_built.size());
    }
    std::vector<IndexOutput> indexes;
    for (std::size_t k = 0; k < plans.size(); ++k) {
        auto [first, last] = module_ranges[k];
        if (last - first < 2) {
            continue;
        }
        std::vector<const oci::LocalImage*> ptrs;
        IndexOutput io;
        for (std::size_t i = first; i < last; ++i) {
            ptrs.push_back(&outputs_built[i].built.image);
            io.platforms.push_back(outputs_built[i].built.platform);
        }
        auto index = oci::make_index(ptrs, format);
        if (!index) {
            return unexpected(std::move(index).error().context("build " + plans[k].module->folder + ": index"));
        }
        io.reference = plans[k].index_reference;
        io.blob = std::move(*index);
        indexes.push_back(std::move(io));
    }

    // Write: everything above succeeded, so the destination is touched only now.
    if (!opts.oci_layout.empty()) {
        EDGESHIP_TRY_ASSIGN(auto layout, oci::OciLayout::create(opts.oci_layout));
        for (const auto& o : outputs_built) {
            EDGESHIP_TRY(layout.write_image(o.built.image));
        }
        for (const auto& i : indexes) {
            EDGESHIP_TRY(layout.write_blob(i.blob));
        }
        for (const auto& o : outputs_built) {
            EDGESHIP_TRY(layout.set_tag(o.built.image.manifest.descriptor, o.reference.tag));
        }
        for (const auto& i : indexes) {
            EDGESHIP_TRY(layout.set_tag(i.blob.descriptor, i.reference.tag));
        }
    } else if (!opts.archive.empty()) {
        const auto& o = outputs_built.front();
        oci::DockerArchiveWriteOptions wo;
        wo.repo_tags = {o.reference.familiar()};
        auto written = oci::write_docker_archive(o.built.image, opts.archive, wo);
        if (!written) {
            return unexpected(std::move(written).error().context("build: writing " + opts.archive));
        }
    } else {
        std::size_t next_index = 0;
        for (std::size_t k = 0; k < plans.size(); ++k) {
            auto [first, last] = module_ranges[k];
            for (std::size_t i = first; i < last; ++i) {
                auto& o = outputs_built[i];
                EDGESHIP_TRY_ASSIGN(auto* reg, registries.get(o.reference.api_host()));
                TransferProgress progress(ctx, TransferDirection::push, opts.json);
                auto report = reg->push_image(o.built.image, o.reference, progress.callback());
                progress.finish();
                if (!report) {
                    return unexpected(std::move(report).error().context("pushing " + o.reference.str()));
                }
                if (o.streamed_model) {
                    account_streamed(*report, *o.streamed_model);
                }
                ctx.console.info(transfer_summary(*report, TransferDirection::push));
                o.transfer = std::move(*report);
            }
            if (last - first >= 2) {
                auto& idx = indexes[next_index++];
                std::vector<const oci::LocalImage*> ptrs;
                for (std::size_t i = first; i < last; ++i) {
                    ptrs.push_back(&outputs_built[i].built.image);
                }
                EDGESHIP_TRY_ASSIGN(auto* reg, registries.get(idx.reference.api_host()));
                TransferProgress progress(ctx, TransferDirection::push, opts.json);
                auto report = reg->push_index(ptrs, idx.blob, idx.reference, progress.callback());
                progress.finish();
                if (!report) {
                    return unexpected(std::move(report).error().context("pushing " + idx.reference.str()));
                }
                idx.transfer = std::move(*report);
            }
        }
    }

    // Report: REF@DIGEST per image and index on stdout (so commands compose), or JSON.
    if (opts.json) {
        ordered_json j;
        if (!opts.oci_layout.empty()) {
            j["oci_layout"] = opts.oci_layout;
        } else if (!opts.archive.empty()) {
            j["archive"] = opts.archive;
        } else {
            j["pushed"] = true;
        }
        j["images"] = ordered_json::array();
        for (const auto& o : outputs_built) {
            j["images"].push_back(image_json(o));
        }
        j["indexes"] = ordered_json::array();
        for (const auto& i : indexes) {
            ordered_json x;
            x["reference"] = i.reference.str();
            x["digest"] = i.blob.descriptor.digest.str();
            x["media_type"] = i.blob.descriptor.media_type;
            x["platforms"] = i.platforms;
            if (i.transfer) {
                x["bytes_uploaded"] = i.transfer->bytes_uploaded;
                x["bytes_skipped"] = i.transfer->bytes_skipped;
            }
            j["indexes"].push_back(std::move(x));
        }
        ctx.io.out << j.dump(2) << '\n';
        return {};
    }
    for (const auto& o : outputs_built) {
        ctx.io.out << o.reference.str() << "@" << o.built.image.manifest.descriptor.digest.str() << '\n';
    }
    for (const auto& i : indexes) {
        ctx.io.out << i.reference.str() << "@" << i.blob.descriptor.digest.str() << '\n';
    }
    std::string where = !opts.oci_layout.empty() ? "into " + opts.oci_layout
                        : !opts.archive.empty() ? "into " + opts.archive
                                                : "and pushed";
    ctx.console.info("built " + std::to_string(outputs_built.size()) + " image" + (outputs_built.size() == 1 ? "" : "s") +
                     (indexes.empty() ? "" : " and " + std::to_string(indexes.size()) + " index" +
                                                 (indexes.size() == 1 ? "" : "es")) +
                     " " + where);
    return {};
}

} // namespace edgeship::cli
