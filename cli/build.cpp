#include "cli/build_commands.hpp"

#include "cli/format.hpp"
#include "cli/registry_progress.hpp"
#include "imagebuild/base.hpp"
#include "imagebuild/build_images.hpp"
#include "imagebuild/settings.hpp"
#include "oci/layer.hpp"
#include "oci/reference.hpp"
#include "registry/client.hpp"
#include "solution/layout.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <memory>
#include <optional>

// `edgeship build`: flags → imagebuild::BuildImagesRequest → imagebuild::build_images / publish_images →
// stdout. The orchestration (plan, staging, bases, layer cache, early model upload, indexes, outputs)
// lives in lib/imagebuild/build_images.hpp, shared with `edgeship ship`.

namespace edgeship::cli {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

ordered_json image_json(const imagebuild::BuiltImageOutput& o) {
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
        j["layers"].push_back({{"role", o.layer_roles.at(i)},
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

// Registries by host, connected once (credentials resolved once, --password-stdin read once). The
// solution's .env (credentials may be set there) is read on the first connection.
class Registries {
public:
    Registries(Context& ctx, const RegistryFlags& flags, const BuildOptions& opts)
        : m_ctx(ctx), m_flags(flags), m_solution(opts.solution), m_modules(opts.modules), m_push(opts.push) {
        if (!opts.base.empty()) {
            m_base = opts.base;
        }
    }

    Result<registry::Registry*> get(const std::string& host) {
        if (!m_clients) {
            EDGESHIP_TRY_ASSIGN(auto env, solution::load_env(m_solution, m_ctx.env));
            std::string explicit_host;
            if (m_flags.password_stdin) {
                EDGESHIP_TRY_ASSIGN(explicit_host, this->explicit_host(env));
            }
            // run_build put the solution's .env in the configuration: the keychain reads it under the
            // environment.
            EDGESHIP_TRY_ASSIGN(m_clients, m_ctx.registries(m_flags, explicit_host));
        }
        return m_clients->get(host);
    }

private:
    // The one registry --username is for: the one the selected modules push to (their image.repository
    // hosts) with --push; else the one their base images come from (--base, or module.json's
    // edgeship.baseImage). Never any other registry: a base elsewhere is read with its own credential.
    Result<std::string> explicit_host(const solution::SolutionEnv& env) const {
        EDGESHIP_TRY_ASSIGN(auto modules, solution::load_modules(m_solution / env.get("MODULES_PATH", "modules"), env.vars));
        std::set<std::string> hosts;
        auto add_base = [&hosts](const std::string& text) {
            auto base = imagebuild::parse_base_ref(text);
            if (base && base->kind == imagebuild::BaseRef::Kind::registry) {
                hosts.insert(base->reference.registry);
            }
        };
        if (!m_push && m_base) {
            add_base(*m_base);
        }
        for (const auto& m : modules) {
            if (!m_modules.empty() && std::find(m_modules.begin(), m_modules.end(), m.folder) == m_modules.end()) {
                continue;
            }
            if (m_push) {
                if (auto ref = oci::Reference::parse(m.repository)) {
                    hosts.insert(ref->registry);
                }
            } else if (!m_base) {
                const auto* bases = m.json.contains("edgeship") ? &m.json["edgeship"] : nullptr;
                if (bases != nullptr && bases->is_object() && bases->contains("baseImage") &&
                    (*bases)["baseImage"].is_object()) {
                    for (const auto& [platform, ref] : (*bases)["baseImage"].items()) {
                        if (ref.is_string()) {
                            add_base(ref.get<std::string>());
                        }
                    }
                }
            }
        }
        if (hosts.size() > 1) {
            std::string names;
            for (const auto& h : hosts) {
                names += (names.empty() ? "" : ", ") + h;
            }
            return unexpected(Error("--username names one registry, but this build talks to " + names, ExitCode::usage)
                                  .hint("store each registry's credential with 'edgeship login REGISTRY' instead"));
        }
        if (hosts.empty()) {
            m_ctx.console.warning("--username: no registry of this build to use it for (it is used for the "
                                  "registry images are pushed to, or else the base images' registry)");
            return std::string();
        }
        return *hosts.begin();
    }

    Context& m_ctx;
    const RegistryFlags& m_flags;
    fs::path m_solution;
    std::vector<std::string> m_modules;
    bool m_push = false;
    std::optional<std::string> m_base;
    registry::Clients* m_clients = nullptr; // the run's (Context::registries)
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
                    "(default: module.json edgeship.baseImage.<platform>, else the runtime's official image)");
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
    add_image_tool_flags(sub, opts->tools);
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

void add_image_tool_flags(CLI::App* sub, ImageToolFlags& flags) {
    sub->add_option("--npm", flags.npm, "npm that installs the node runtime's dependencies layer (setting npm, EDGESHIP_NPM; default npm)");
    sub->add_option("--pip", flags.pip, "pip that installs the python runtime's dependencies layer (setting pip, EDGESHIP_PIP; default pip3)");
    sub->add_option("--base-registry", flags.base_registry,
                    "Registry HOST[:PORT] mirroring the runtimes' official base images (setting base_registry, "
                    "EDGESHIP_BASE_REGISTRY; default Docker Hub)");
}

ImageTools resolve_image_tools(Context& ctx, const ImageToolFlags& flags) {
    ctx.config.set_flag("npm", flags.npm);
    ctx.config.set_flag("pip", flags.pip);
    ctx.config.set_flag("base_registry", flags.base_registry);
    auto t = imagebuild::tool_settings(ctx.config);
    return {t.tools, t.base_registry};
}

Result<void> run_build(const BuildOptions& opts, Context& ctx) {
    const int outputs = (opts.push ? 1 : 0) + (opts.oci_layout.empty() ? 0 : 1) + (opts.archive.empty() ? 0 : 1);
    if (outputs != 1) {
        return fail("build: choose one output: --push, --oci-layout DIR or --archive FILE", ExitCode::usage);
    }
    imagebuild::BuildImagesRequest req;
    req.solution = opts.solution;
    req.modules = opts.modules;
    req.platforms = opts.platforms;
    if (!opts.base.empty()) {
        req.base = opts.base;
    }
    if (!opts.model.empty()) {
        req.model = fs::path(opts.model);
    }
    req.format = opts.format == "docker" ? oci::ManifestFormat::docker : oci::ManifestFormat::oci;
    req.template_dir = opts.template_dir;
    {
        // The solution's .env is a layer of the configuration (npm, pip, base_registry, registry
        // credentials may be set there).
        auto loaded = use_solution_env(ctx, opts.solution);
        if (!loaded) {
            return unexpected(std::move(loaded).error().context("build"));
        }
        auto tools = resolve_image_tools(ctx, opts.tools);
        req.tools = tools.tools;
        req.base_registry = tools.base_registry;
    }
    req.destination = opts.push                  ? imagebuild::ImageDestination::registry
                      : !opts.oci_layout.empty() ? imagebuild::ImageDestination::oci_layout
                                                 : imagebuild::ImageDestination::docker_archive;
    req.output = opts.push ? fs::path() : fs::path(!opts.oci_layout.empty() ? opts.oci_layout : opts.archive);
    {
        // SOURCE_DATE_EPOCH from the environment or the solution's .env, as ship reads it: one solution,
        // one digest, whichever command builds it.
        auto env = solution::load_env(opts.solution, ctx.env);
        if (!env) {
            return unexpected(std::move(env).error().context("build"));
        }
        if (std::string epoch = env->get("SOURCE_DATE_EPOCH"); !epoch.empty()) {
            EDGESHIP_TRY_ASSIGN(req.source_date_epoch, oci::parse_source_date_epoch(epoch));
        }
    }
    req.environment = ctx.env;

    Registries registries(ctx, opts.registry, opts);
    imagebuild::BuildCollaborators c;
    c.registry_for = [&registries](const std::string& host) { return registries.get(host); };
    c.log = ctx.console.logger();
    c.transfer = [&ctx, json = opts.json](imagebuild::TransferDirection d) {
        auto progress = std::make_shared<TransferProgress>(
            ctx, d == imagebuild::TransferDirection::pull ? TransferDirection::pull : TransferDirection::push, json);
        auto events = progress->callback();
        return imagebuild::TransferHooks{[progress, events](const registry::BlobEvent& e) { events(e); },
                                         [progress] { progress->finish(); }};
    };
    c.on_layers_built = [&ctx](const std::string& module, const imagebuild::ModuleLayers& l) {
        ctx.console.info(module + ": model layer " + l.model.digest.short_str() + " (" + human_bytes(l.model.size) +
                         "), app layer " + l.app.digest.short_str() + " (" + human_bytes(l.app.size) + ")");
    };
    c.on_deps_built = [&ctx](const std::string& module, const std::string& platform, const imagebuild::DepsLayer& d) {
        ctx.console.info(module + " " + platform + ": dependencies layer " + d.blob.digest.short_str() + " (" +
                         human_bytes(d.blob.size) + (d.from_cache ? ", cached" : ", " + d.tool_version) + ")");
    };
    c.on_pushed = [&ctx](const registry::TransferReport& report) {
        ctx.console.info(transfer_summary(report, TransferDirection::push));
    };

    EDGESHIP_TRY_ASSIGN(auto built, imagebuild::build_images(req, c));
    EDGESHIP_TRY(imagebuild::publish_images(built, c));

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
        for (const auto& o : built.images) {
            j["images"].push_back(image_json(o));
        }
        j["indexes"] = ordered_json::array();
        for (const auto& i : built.indexes) {
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
    for (const auto& o : built.images) {
        ctx.io.out << o.reference.str() << "@" << o.built.image.manifest.descriptor.digest.str() << '\n';
    }
    for (const auto& i : built.indexes) {
        ctx.io.out << i.reference.str() << "@" << i.blob.descriptor.digest.str() << '\n';
    }
    std::string where = !opts.oci_layout.empty() ? "into " + opts.oci_layout
                        : !opts.archive.empty() ? "into " + opts.archive
                                                : "and pushed";
    const auto n = built.images.size();
    const auto k = built.indexes.size();
    ctx.console.info("built " + std::to_string(n) + " image" + (n == 1 ? "" : "s") +
                     (k == 0 ? "" : " and " + std::to_string(k) + " index" + (k == 1 ? "" : "es")) + " " + where);
    return {};
}

} // namespace edgeship::cli
