#include "imagebuild/build_images.hpp"

#include "imagebuild/base.hpp"
#include "imagebuild/base_facts.hpp"
#include "imagebuild/deps_layer.hpp"
#include "imagebuild/layer_cache.hpp"
#include "imagebuild/runtime_image.hpp"
#include "imagebuild/sources.hpp"
#include "oci/docker_archive.hpp"
#include "oci/layout.hpp"
#include "solution/layout.hpp"
#include "solution/scaffold.hpp"
#include "templates/source.hpp"
#include "core/fs.hpp"
#include "core/sha256.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <stdlib.h>

namespace edgeship::imagebuild {

namespace fs = std::filesystem;

/// A temporary directory removed on every exit path: layers are built here first, so a failed build
/// writes nothing to the requested layout or archive.
class StagingDirectory {
public:
    StagingDirectory() = default;
    StagingDirectory(const StagingDirectory&) = delete;
    StagingDirectory& operator=(const StagingDirectory&) = delete;
    ~StagingDirectory() {
        for (auto& t : m_removers) {
            t.join();
        }
    }
    Result<void> create(const fs::path& parent) {
        EDGESHIP_TRY_ASSIGN(auto dir, core::TempDir::create(parent, ".edgeship-build-"));
        std::error_code ec;
        fs::create_directories(dir.path() / "blobs", ec);
        if (ec) {
            return fail(dir.path().string() + ": " + ec.message());
        }
        m_dir.emplace(std::move(dir));
        return {};
    }
    const fs::path& dir() const { return m_dir->path(); }
    /// Removes `dir` on a thread of its own (an installed node_modules: seconds of unlink calls), joined
    /// before the staging directory itself goes, so the rest of the build and the push overlap it.
    void remove_later(core::TempDir dir) {
        m_removers.emplace_back([d = std::move(dir)]() mutable { core::TempDir gone(std::move(d)); });
    }

private:
    std::optional<core::TempDir> m_dir;
    std::vector<std::thread> m_removers; // declared after m_dir: joined (destructor body) before it goes
};

namespace {

// Same filesystem as the layout when possible, so blobs are hard-linked into it rather than copied.
fs::path staging_parent(const BuildImagesRequest& r) {
    std::error_code ec;
    if (r.destination == ImageDestination::oci_layout && !r.output.empty()) {
        auto parent = fs::absolute(r.output, ec).parent_path();
        if (!ec && fs::is_directory(parent, ec)) {
            return parent;
        }
    }
    auto tmp = fs::temp_directory_path(ec);
    return ec ? fs::path("/tmp") : tmp;
}

struct PlannedImage {
    TargetPlatform platform;
    oci::Reference reference;
    std::string base_text;
    BaseRef base;
};

struct ModulePlan {
    const solution::ModuleInfo* module = nullptr;
    const RuntimeImage* runtime = nullptr;
    oci::Reference index_reference;
    std::string version; // version[-CONTAINER_TAG]
    std::vector<PlannedImage> images;
};

} // namespace

Result<std::vector<RuntimeImage>> load_runtime_images(const std::string& template_dir) {
    EDGESHIP_TRY_ASSIGN(auto source, templates::TemplateSource::open(template_dir));
    std::vector<RuntimeImage> out;
    for (const auto& name : solution::runtime_names(source)) {
        const std::string file = "runtimes/" + name + "/runtime.json";
        EDGESHIP_TRY_ASSIGN(auto text, source.read(file));
        EDGESHIP_TRY_ASSIGN(auto rt, parse_runtime_image(text, file));
        out.push_back(std::move(rt));
    }
    return out;
}

namespace {

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) {
        s += (s.empty() ? "" : ", ") + x;
    }
    return s;
}

TransferHooks begin_transfer(const BuildCollaborators& c, TransferDirection d) {
    return c.transfer ? c.transfer(d) : TransferHooks{};
}

void end_transfer(const TransferHooks& h) {
    if (h.done) {
        h.done();
    }
}

Result<registry::Registry*> registry_for(const BuildCollaborators& c, const std::string& host) {
    if (!c.registry_for) {
        return fail("registry " + host + ": no registry client is wired in this build");
    }
    return c.registry_for(host);
}

Result<void> check_cancel(const BuildCollaborators& c) {
    if (c.cancel != nullptr && c.cancel->cancelled()) {
        return unexpected(core::cancelled_error());
    }
    return {};
}

// The model layer of a registry build, uploaded on a second thread while it is compressed (docs/design/
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

// Plan: every module, platform, tag and base reference, checked before anything is built.
Result<std::vector<ModulePlan>> plan_modules(const BuildImagesRequest& req, const std::vector<solution::ModuleInfo>& modules,
                                             const fs::path& modules_dir, const std::vector<RuntimeImage>& runtimes,
                                             const std::string& container_tag) {
    std::vector<const solution::ModuleInfo*> selected;
    for (const auto& name : req.modules) {
        auto it = std::find_if(modules.begin(), modules.end(), [&](const auto& m) { return m.folder == name; });
        if (it == modules.end()) {
            std::vector<std::string> have;
            for (const auto& m : modules) {
                have.push_back(m.folder);
            }
            return fail("build: no module '" + name + "' in " + modules_dir.string() + " (have: " + joined(have) + ")");
        }
        if (std::find(selected.begin(), selected.end(), &*it) == selected.end()) {
            selected.push_back(&*it);
        }
    }
    if (req.modules.empty()) {
        for (const auto& m : modules) {
            selected.push_back(&m);
        }
    }
    std::vector<ModulePlan> plans;
    for (const auto* m : selected) {
        ModulePlan plan;
        plan.module = m;
        auto rt = select_runtime(*m, runtimes);
        if (!rt) {
            return unexpected(std::move(rt).error().context("build " + m->folder));
        }
        plan.runtime = *rt;
        EDGESHIP_TRY_ASSIGN(plan.index_reference, index_reference(*m, container_tag));
        plan.version = m->version + (container_tag.empty() ? "" : "-" + container_tag);
        std::vector<std::string> platforms = req.platforms;
        std::vector<std::string> have;
        for (const auto& [p, dockerfile] : m->platforms) {
            have.push_back(p);
            if (req.platforms.empty() && p.find('.') == std::string::npos) {
                platforms.push_back(p);
            }
        }
        for (const auto& p : platforms) {
            if (std::find(have.begin(), have.end(), p) == have.end()) {
                return fail("build " + m->folder + ": " + m->module_json.string() + " has no platform '" + p +
                            "' (has: " + joined(have) + ")");
            }
            PlannedImage pi;
            EDGESHIP_TRY_ASSIGN(pi.platform, TargetPlatform::parse(p));
            EDGESHIP_TRY_ASSIGN(pi.reference, platform_reference(*m, p, container_tag));
            auto base_text = base_ref_for(*m, p, req.base, *plan.runtime, req.base_registry);
            if (!base_text) {
                return unexpected(std::move(base_text).error().context("build"));
            }
            pi.base_text = *base_text;
            EDGESHIP_TRY_ASSIGN(pi.base, parse_base_ref(pi.base_text));
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
    if (req.destination == ImageDestination::docker_archive && total != 1) {
        return unexpected(Error("build: --archive holds one image, and " + std::to_string(total) + " were asked for",
                                ExitCode::usage)
                              .hint("name one module and one --platform (or use 'edgeship export MODULE --archive FILE')"));
    }
    if (req.destination == ImageDestination::oci_layout) {
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
                    return unexpected(Error("build: two images would be tagged '" + t + "' in " + req.output.string())
                                          .hint("build one module per layout, or give the modules different versions"));
                }
            }
        }
    }
    return plans;
}

// Base images resolved once per (REF, platform): local ones read and verified, registry ones kept remote
// for a registry destination (a push to the same registry HEAD-skips or mounts their layers) or pulled.
class BaseResolver {
public:
    BaseResolver(const BuildImagesRequest& req, const BuildCollaborators& c, const fs::path& staging)
        : m_req(req), m_c(c), m_staging(staging) {}

    Result<const oci::LocalImage*> resolve(const PlannedImage& pi) {
        const std::string key = pi.base_text + "|" + pi.platform.platform.str();
        if (auto it = m_bases.find(key); it != m_bases.end()) {
            return &it->second;
        }
        oci::LocalImage image;
        if (pi.base.kind != BaseRef::Kind::registry) {
            const fs::path dir = next_dir();
            std::error_code ec;
            fs::create_directories(dir, ec);
            if (ec) {
                return fail(dir.string() + ": " + ec.message());
            }
            EDGESHIP_TRY_ASSIGN(image, load_local_base(pi.base, pi.platform.platform, dir, m_c.cancel));
            // docker save layers are plain tars: gzip them (one pass) unless they go back into an archive
            const bool plain = std::any_of(image.layers.begin(), image.layers.end(), [](const auto& l) {
                return l.descriptor.media_type.find("gzip") == std::string::npos;
            });
            if (plain && m_req.destination != ImageDestination::docker_archive) {
                oci::BlobWriterOptions bo;
                bo.sync = false;
                bo.cancel = m_c.cancel;
                EDGESHIP_TRY_ASSIGN(image, oci::compress_layers(image, dir, image.format(), bo));
            }
        } else {
            EDGESHIP_TRY_ASSIGN(auto* reg, registry_for(m_c, pi.base.reference.api_host()));
            if (m_req.destination == ImageDestination::registry) {
                auto remote = reg->get_image(pi.base.reference, pi.platform.platform);
                if (!remote) {
                    return unexpected(std::move(remote).error().context("base image " + pi.base_text));
                }
                image = std::move(*remote);
            } else {
                // A layout or archive needs the layers on disk: download them once, verified.
                const fs::path dir = next_dir();
                EDGESHIP_TRY_ASSIGN(auto layout, oci::OciLayout::create(dir));
                auto hooks = begin_transfer(m_c, TransferDirection::pull);
                auto pulled = reg->pull_to_layout(pi.base.reference, layout, pi.platform.platform, "base", hooks.events);
                end_transfer(hooks);
                if (!pulled) {
                    return unexpected(std::move(pulled).error().context("base image " + pi.base_text));
                }
                EDGESHIP_TRY_ASSIGN(auto reopened, oci::OciLayout::open(dir));
                oci::LoadOptions lo;
                lo.platform = pi.platform.platform;
                EDGESHIP_TRY_ASSIGN(image, reopened.load_image("base", lo));
            }
            EDGESHIP_TRY(check_base_platform(image, pi.platform.platform, pi.base_text));
        }
        auto [it, inserted] = m_bases.emplace(key, std::move(image));
        return &it->second;
    }

    /// What the base holds for `runtime` (docs/build.md, "The base image"): the config's answer when it
    /// has one, else its layers' file lists, read from disk or (a registry base kept remote) downloaded
    /// once into the staging directory; remembered per manifest digest in the cache directory.
    Result<BaseFacts> facts(const PlannedImage& pi, const oci::LocalImage& base, const RuntimeImage& rt) {
        BaseFacts f = facts_from_config(base.parsed_config, rt.probe);
        if (!needs_layer_scan(f, rt)) {
            return f;
        }
        const std::string digest = base.manifest.descriptor.digest.hex();
        const fs::path memo = m_cache.empty() ? fs::path() : m_cache / "base-facts" / (digest + "-" + core::sha256_hex(
            rt.probe.version_env + "|" + rt.probe.version_dir_regex + "|" + [&] {
                std::string x;
                for (const auto& p : rt.probe.files) {
                    x += p + ",";
                }
                return x;
            }()).substr(0, 16) + ".json");
        if (!memo.empty()) {
            if (auto text = core::read_file(memo)) {
                auto j = nlohmann::json::parse(*text, nullptr, false);
                if (j.is_object()) {
                    BaseFacts c;
                    c.scanned = true;
                    c.has_runtime = j.value("has_runtime", false);
                    c.runtime_version = j.value("runtime_version", "");
                    c.language_version = j.value("language_version", "");
                    for (const auto& u : j.value("users", nlohmann::json::array())) {
                        if (u.is_string()) {
                            c.users.insert(u.get<std::string>());
                        }
                    }
                    return c;
                }
            }
        }
        const bool local = std::all_of(base.layers.begin(), base.layers.end(), [](const auto& l) { return l.local_file() != nullptr; });
        BaseFacts scanned;
        if (local) {
            EDGESHIP_TRY_ASSIGN(scanned, scan_base_layers(base, rt.probe, m_c.cancel));
        } else {
            const fs::path dir = next_dir();
            EDGESHIP_TRY_ASSIGN(auto layout, oci::OciLayout::create(dir));
            EDGESHIP_TRY_ASSIGN(auto* reg, registry_for(m_c, pi.base.reference.api_host()));
            auto hooks = begin_transfer(m_c, TransferDirection::pull);
            auto pulled = reg->pull_to_layout(pi.base.reference, layout, pi.platform.platform, "base", hooks.events);
            end_transfer(hooks);
            if (!pulled) {
                return unexpected(std::move(pulled).error().context("base image " + pi.base_text + ": reading its files"));
            }
            EDGESHIP_TRY_ASSIGN(auto reopened, oci::OciLayout::open(dir));
            oci::LoadOptions lo;
            lo.platform = pi.platform.platform;
            EDGESHIP_TRY_ASSIGN(auto full, reopened.load_image("base", lo));
            EDGESHIP_TRY_ASSIGN(scanned, scan_base_layers(full, rt.probe, m_c.cancel));
        }
        if (!memo.empty()) {
            nlohmann::json j;
            j["has_runtime"] = scanned.has_runtime;
            j["runtime_version"] = scanned.runtime_version;
            j["language_version"] = scanned.language_version;
            j["users"] = scanned.users;
            std::error_code ec;
            fs::create_directories(memo.parent_path(), ec);
            (void)core::write_file_atomic(memo, j.dump() + "\n");
        }
        return scanned;
    }

    void set_cache(fs::path dir) { m_cache = std::move(dir); }

private:
    fs::path next_dir() { return m_staging / ("base-" + std::to_string(m_count++)); }

    const BuildImagesRequest& m_req;
    const BuildCollaborators& m_c;
    fs::path m_staging;
    fs::path m_cache;
    std::map<std::string, oci::LocalImage> m_bases;
    std::size_t m_count = 0;
};

} // namespace

const char* layer_role(const BuiltImage& b, std::size_t i) {
    if (i < b.base_layers) {
        return "base";
    }
    if (b.has_deps && i == b.base_layers) {
        return "deps";
    }
    return i == b.model_layer() ? "model" : "app";
}

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

Result<BuiltImages> build_images(const BuildImagesRequest& req, const BuildCollaborators& c) {
    EDGESHIP_TRY_ASSIGN(auto runtimes, load_runtime_images(req.template_dir));
    auto env = solution::load_env(req.solution, req.environment);
    if (!env) {
        return unexpected(std::move(env).error().context("build"));
    }
    const fs::path modules_dir = req.solution / env->get("MODULES_PATH", "modules");
    auto modules = solution::load_modules(modules_dir, env->vars);
    if (!modules) {
        return unexpected(std::move(modules).error().context("build"));
    }
    if (modules->empty()) {
        return unexpected(Error("build: " + modules_dir.string() + ": no modules (no <folder>/module.json)")
                              .hint("run 'edgeship init DIR --model model.onnx', or pass --solution DIR"));
    }
    EDGESHIP_TRY_ASSIGN(auto plans, plan_modules(req, *modules, modules_dir, runtimes, env->get("CONTAINER_TAG")));

    // Build: layers into a staging directory, base images resolved once per (REF, platform).
    auto staging = std::make_shared<StagingDirectory>();
    EDGESHIP_TRY(staging->create(staging_parent(req)));
    const fs::path blobs = staging->dir() / "blobs";
    BaseResolver bases(req, c, staging->dir());

    const fs::path edgeship_cache = layer_cache_dir(req.environment).parent_path(); // …/edgeship ("" without HOME)
    if (!edgeship_cache.empty()) {
        bases.set_cache(edgeship_cache);
    }

    // Every base is resolved (read, verified, or its manifest fetched) and checked for the runtime
    // before any layer is built.
    std::vector<std::vector<const oci::LocalImage*>> plan_bases;
    std::vector<std::vector<BaseFacts>> plan_facts;
    for (const auto& plan : plans) {
        plan_bases.emplace_back();
        plan_facts.emplace_back();
        for (const auto& pi : plan.images) {
            const std::string where = "build " + plan.module->folder + " " + pi.platform.name;
            auto base = bases.resolve(pi);
            if (!base) {
                return unexpected(std::move(base).error().context(where));
            }
            const RuntimeImage& rt = *plan.runtime;
            auto facts = bases.facts(pi, **base, rt);
            if (!facts) {
                return unexpected(std::move(facts).error().context(where));
            }
            const bool probe_defined = !rt.probe.version_env.empty() || !rt.probe.files.empty();
            if (probe_defined && !facts->has_runtime) {
                std::string files;
                for (const auto& f : rt.probe.files) {
                    files += (files.empty() ? "/" : ", /") + f;
                }
                return unexpected(Error(where + ": base image " + pi.base_text + " has no " + rt.language + " runtime (no " +
                                        rt.probe.version_env + " in its Env, none of " + files + " in its layers)")
                                      .hint("a daemonless build adds layers and cannot install the runtime: use the "
                                            "runtime's official image (drop --base) or a base that holds " + rt.language));
            }
            if (facts->scanned && !user_resolvable(rt.user, *facts)) {
                return unexpected(Error(where + ": base image " + pi.base_text + " has no user '" + rt.user +
                                        "' (not in its /etc/passwd), which the " + rt.runtime + " runtime runs as")
                                      .hint("use a base that has the user, or a numeric user in the runtime's image.user"));
            }
            plan_bases.back().push_back(*base);
            plan_facts.back().push_back(std::move(*facts));
        }
    }

    BuiltImages out;
    out.destination = req.destination;
    out.output = req.output;
    const bool to_registry = req.destination == ImageDestination::registry;
    const fs::path cache_dir = to_registry ? layer_cache_dir(req.environment) : fs::path();
    for (std::size_t k = 0; k < plans.size(); ++k) {
        const auto& plan = plans[k];
        const auto& m = *plan.module;
        EDGESHIP_TRY(check_cancel(c));
        auto sources = collect_sources(m, *plan.runtime, req.model, /*hash_model=*/false);
        if (!sources) {
            return unexpected(std::move(sources).error().context("build " + m.folder));
        }
        oci::LayerOptions lo;
        lo.source_date_epoch = req.source_date_epoch;
        lo.blob.sync = false; // the staging directory is discarded on failure; the layout write syncs index.json
        lo.blob.cancel = c.cancel;
        // The dependencies layer of each platform (one per OCI platform: amd64 and amd64.debug share it),
        // first: a missing tool or a package without a build fails before the large model layer is read.
        std::map<std::string, DepsLayer> deps_by_platform;
        if (plan.runtime->deps) {
            for (std::size_t n = 0; n < plan.images.size(); ++n) {
                const auto& pi = plan.images[n];
                const std::string pkey = pi.platform.platform.str();
                if (deps_by_platform.count(pkey) != 0) {
                    continue;
                }
                EDGESHIP_TRY(check_cancel(c));
                DepsLayerRequest dr;
                dr.recipe = &*plan.runtime->deps;
                dr.runtime = plan.runtime->runtime;
                dr.context = sources->context;
                dr.platform = pi.platform.platform;
                dr.python_version = plan_facts[k][n].language_version;
                dr.tools = req.tools;
                dr.environment = req.environment;
                dr.layer = lo;
                dr.cache_dir = edgeship_cache.empty() ? fs::path() : edgeship_cache / "deps";
                dr.blobs_dir = blobs;
                dr.scratch_parent = staging->dir();
                dr.log = c.log;
                dr.cancel = c.cancel;
                auto deps = build_deps_layer(dr);
                if (!deps) {
                    return unexpected(std::move(deps).error().context("build " + m.folder + " " + pi.platform.name));
                }
                if (c.on_deps_built) {
                    c.on_deps_built(m.folder, pi.platform.name, *deps);
                }
                if (deps->scratch) {
                    staging->remove_later(std::move(*deps->scratch));
                    deps->scratch.reset();
                }
                deps_by_platform.emplace(pkey, std::move(*deps));
            }
        }
        oci::LayerOptions model_lo = lo;
        std::optional<oci::LayerBlob> cached_model;
        std::unique_ptr<ModelStream> stream;
        std::string cache_key;
        std::optional<oci::RemoteBlob> model_source; // the repository the model layer is already in (cache hit)
        // All platforms of a module share one repository (repo:version-platform).
        const auto& ref0 = plan.images.front().reference;
        const bool one_repo = std::all_of(plan.images.begin(), plan.images.end(), [&](const PlannedImage& pi) {
            return pi.reference.api_host() == ref0.api_host() && pi.reference.repository == ref0.repository;
        });
        const bool use_cache = to_registry && one_repo && !cache_dir.empty();
        // The model's sha256 (its label, the cache key), read as few times as possible: from the digest memo
        // when the file is unchanged (not read at all); in a pass of its own before the build when a cached
        // layer may exist (this file was built before); otherwise from the model layer's own read of the
        // file, on a thread beside the compressor (a first build: no pass that delays the upload).
        bool hash_in_layer = true;
        if (use_cache) {
            auto memo = recall_file_sha256(cache_dir, sources->model.source);
            if (memo.sha256) {
                sources->model.sha256 = *memo.sha256;
                hash_in_layer = false;
                c.log.debug(m.folder + ": model sha256 from the digest memo (" + sources->model.source.string() +
                            " unchanged, not read)");
            } else if (memo.seen) {
                EDGESHIP_TRY_ASSIGN(sources->model.sha256, core::sha256_file(sources->model.source));
                hash_in_layer = false;
            }
        }
        if (hash_in_layer) {
            model_lo.hash_sources = {sources->model.source};
        }
        if (to_registry) {
            EDGESHIP_TRY_ASSIGN(auto* reg, registry_for(c, ref0.api_host()));
            // A model layer built before (same inputs, same codec and level: §8.2, §11.9) that the registry
            // holds (HEAD) is neither rebuilt nor uploaded.
            if (use_cache && !hash_in_layer) {
                if (auto key = model_layer_key(*sources, lo); key) {
                    cache_key = *key;
                    if (auto hit = load_cached_layer(cache_dir, cache_key)) {
                        auto there = reg->blob_exists(ref0.repository, hit->digest);
                        if (there && *there) {
                            cached_model = std::move(hit);
                            model_source = oci::RemoteBlob{ref0.api_host(), ref0.repository};
                            c.log.debug(m.folder + ": model layer " + cached_model->digest.short_str() +
                                        " from the layer cache, present in " + model_source->str());
                        }
                    }
                } else {
                    c.log.debug("layer cache: " + key.error().message());
                }
            }
            if (!cached_model) {
                stream = std::make_unique<ModelStream>(*reg, ref0.repository);
                stream->hook(model_lo.blob);
            }
        }
        auto layers = build_module_layers(*sources, blobs, lo, model_lo, cached_model);
        std::optional<registry::BlobResult> streamed;
        if (stream) {
            auto up = stream->done(layers ? &layers->model : nullptr);
            if (up) {
                streamed = std::move(*up);
            } else if (layers) {
                // Not fatal: push_image finds the blob missing and uploads it the ordinary way.
                c.log.debug("uploading the model layer while building it failed: " + up.error().message());
            }
        }
        if (!layers) {
            return unexpected(std::move(layers).error().context("build " + m.folder));
        }
        if (hash_in_layer) {
            auto hashed = layers->model.source_sha256.find(sources->model.source);
            if (hashed == layers->model.source_sha256.end()) {
                return fail("build " + m.folder + ": the model layer did not read " + sources->model.source.string());
            }
            sources->model.sha256 = hashed->second;
            if (use_cache) {
                if (auto key = model_layer_key(*sources, lo); key) {
                    cache_key = *key;
                } else {
                    c.log.debug("layer cache: " + key.error().message());
                }
            }
        }
        if (!cached_model && !cache_key.empty()) {
            if (auto stored = store_cached_layer(cache_dir, cache_key, layers->model); !stored) {
                c.log.debug("layer cache: " + stored.error().message());
            }
        }
        if (use_cache) {
            const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
            if (auto r = remember_file_sha256(cache_dir, sources->model.source, sources->model.sha256, now); !r) {
                c.log.debug("digest memo: " + r.error().message());
            }
        }
        if (c.on_layers_built) {
            c.on_layers_built(m.folder, *layers);
        }
        const std::size_t first = out.images.size();
        for (std::size_t n = 0; n < plan.images.size(); ++n) {
            const auto& pi = plan.images[n];
            ImageRequest ir;
            ir.module = &m;
            ir.runtime = plan.runtime;
            ir.sources = &*sources;
            ir.layers = &*layers;
            if (auto d = deps_by_platform.find(pi.platform.platform.str()); d != deps_by_platform.end()) {
                ir.deps = &d->second.blob;
                const auto& recipe = *plan.runtime->deps;
                ir.deps_text = recipe.tool == "npm"
                                   ? "RUN npm ci --omit=dev --ignore-scripts --os=" + pi.platform.platform.os + " --cpu=" +
                                         npm_cpu(pi.platform.platform) + " (" + d->second.tool_version + ") -> " + recipe.to
                                   : "RUN pip install --only-binary=:all: --python-version " +
                                         plan_facts[k][n].language_version + " (" + d->second.tool_version + ") -> " + recipe.to;
            }
            ir.platform = pi.platform;
            ir.base = plan_bases[k][n];
            ir.base_name = pi.base_text;
            // A local base's path would make the digest depend on where the base lies: only its digest is kept.
            ir.base_origin = pi.base.kind == BaseRef::Kind::registry ? BaseOrigin::registry : BaseOrigin::local;
            ir.version = plan.version;
            ir.source_date_epoch = req.source_date_epoch;
            ir.format = req.format;
            auto built = assemble_module_image(ir);
            if (!built) {
                return unexpected(std::move(built).error().context("build " + m.folder));
            }
            if (auto* file = std::get_if<oci::LocalFile>(&built->image.layers[built->model_layer()].source);
                file != nullptr && model_source) {
                file->also_in = model_source; // HEAD-checked at push
            }
            BuiltImageOutput o;
            for (std::size_t i = 0; i < built->image.layers.size(); ++i) {
                o.layer_roles.emplace_back(layer_role(*built, i));
            }
            o.built = std::move(*built);
            o.reference = pi.reference;
            if (n == 0 && streamed) {
                o.streamed_model = streamed;
            }
            out.images.push_back(std::move(o));
        }
        if (plan.images.size() >= 2) {
            BuiltIndexOutput idx;
            std::vector<const oci::LocalImage*> ptrs;
            for (std::size_t i = first; i < out.images.size(); ++i) {
                ptrs.push_back(&out.images[i].built.image);
                idx.platforms.push_back(out.images[i].built.platform);
                idx.images.push_back(i);
            }
            auto index = oci::make_index(ptrs, req.format);
            if (!index) {
                return unexpected(std::move(index).error().context("build " + m.folder + ": index"));
            }
            idx.reference = plan.index_reference;
            idx.blob = std::move(*index);
            out.indexes.push_back(std::move(idx));
        }
    }
    out.staging = std::move(staging);
    return out;
}

Result<registry::TransferReport> push_built_image(BuiltImageOutput& o, const BuildCollaborators& c) {
    EDGESHIP_TRY(check_cancel(c));
    EDGESHIP_TRY_ASSIGN(auto* reg, registry_for(c, o.reference.api_host()));
    auto hooks = begin_transfer(c, TransferDirection::push);
    auto report = reg->push_image(o.built.image, o.reference, hooks.events);
    end_transfer(hooks);
    if (!report) {
        return unexpected(std::move(report).error().context("pushing " + o.reference.str()));
    }
    if (o.streamed_model) {
        account_streamed(*report, *o.streamed_model);
    }
    if (c.on_pushed) {
        c.on_pushed(*report);
    }
    o.transfer = *report;
    return std::move(*report);
}

Result<registry::TransferReport> push_built_index(BuiltIndexOutput& idx, const BuiltImages& built,
                                                  const BuildCollaborators& c) {
    EDGESHIP_TRY(check_cancel(c));
    std::vector<const oci::LocalImage*> ptrs;
    for (auto i : idx.images) {
        if (i >= built.images.size()) {
            return fail("pushing " + idx.reference.str() + ": the index names an image that was not built");
        }
        ptrs.push_back(&built.images[i].built.image);
    }
    EDGESHIP_TRY_ASSIGN(auto* reg, registry_for(c, idx.reference.api_host()));
    auto hooks = begin_transfer(c, TransferDirection::push);
    auto report = reg->push_index(ptrs, idx.blob, idx.reference, hooks.events);
    end_transfer(hooks);
    if (!report) {
        return unexpected(std::move(report).error().context("pushing " + idx.reference.str()));
    }
    idx.transfer = *report;
    return std::move(*report);
}

Result<void> publish_images(BuiltImages& b, const BuildCollaborators& c) {
    if (b.images.empty()) {
        return fail("build: nothing was built");
    }
    EDGESHIP_TRY(check_cancel(c));
    // Everything was built, so the destination is touched only now.
    switch (b.destination) {
    case ImageDestination::oci_layout: {
        EDGESHIP_TRY_ASSIGN(auto layout, oci::OciLayout::create(b.output));
        for (const auto& o : b.images) {
            EDGESHIP_TRY(layout.write_image(o.built.image));
        }
        for (const auto& i : b.indexes) {
            EDGESHIP_TRY(layout.write_blob(i.blob));
        }
        for (const auto& o : b.images) {
            EDGESHIP_TRY(layout.set_tag(o.built.image.manifest.descriptor, o.reference.tag));
        }
        for (const auto& i : b.indexes) {
            EDGESHIP_TRY(layout.set_tag(i.blob.descriptor, i.reference.tag));
        }
        return {};
    }
    case ImageDestination::docker_archive: {
        const auto& o = b.images.front();
        oci::DockerArchiveWriteOptions wo;
        wo.repo_tags = {o.reference.familiar()};
        auto written = oci::write_docker_archive(o.built.image, b.output, wo);
        if (!written) {
            return unexpected(std::move(written).error().context("build: writing " + b.output.string()));
        }
        return {};
    }
    case ImageDestination::registry:
        break;
    }
    // Per module: its images, then its index (which names them by digest).
    std::size_t next_index = 0;
    for (std::size_t i = 0; i < b.images.size(); ++i) {
        EDGESHIP_TRY(push_built_image(b.images[i], c));
        if (next_index < b.indexes.size() && b.indexes[next_index].images.back() == i) {
            EDGESHIP_TRY(push_built_index(b.indexes[next_index], b, c));
            ++next_index;
        }
    }
    return {};
}

} // namespace edgeship::imagebuild
