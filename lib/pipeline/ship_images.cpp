#include "pipeline/ship_images.hpp"

#include "imagebuild/base.hpp"
#include "imagebuild/build_images.hpp"
#include "imagebuild/runtime_image.hpp"
#include "oci/layout.hpp"
#include "oci/layer.hpp"
#include "oci/reference.hpp"
#include "pipeline/ship_actions.hpp"
#include "solution/layout.hpp"

#include <map>
#include <mutex>

namespace edgeship::pipeline {

namespace fs = std::filesystem;

namespace {

// What the build step built and the push step sends: the facade's images (and their staging
// directory, removed with the last reference) and which of them this run has pushed.
struct Session {
    std::shared_ptr<imagebuild::BuiltImages> built;
    std::map<const oci::LocalImage*, std::size_t> by_image; ///< ShipImage::image → index into built->images
    std::vector<bool> pushed;
};

// A registry client per host, as the caller connected it (registry::Clients in the CLI: one keychain).
using RegistryFor = std::function<Result<registry::Registry*>(const std::string& host)>;

Result<registry::Registry*> client_for(const RegistryFor& registry_for, const std::string& host) {
    if (!registry_for) {
        return fail("no registry client is wired in this build");
    }
    return registry_for(host);
}

struct Shared {
    explicit Shared(RegistryFor connected) : registry_for(std::move(connected)) {}
    RegistryFor registry_for;
    Session session;
    std::mutex mutex;
};

imagebuild::BuildCollaborators collaborators(const ImageActionOptions& o, Shared& shared) {
    imagebuild::BuildCollaborators c;
    c.registry_for = [&shared](const std::string& host) { return client_for(shared.registry_for, host); };
    c.log = o.log;
    if (o.events) {
        c.transfer = [events = o.events](imagebuild::TransferDirection) { return imagebuild::TransferHooks{events, {}}; };
    }
    return c;
}

// The build step: every requested platform in one facade call (the calls `edgeship build` makes).
Result<std::vector<ShipImage>> build_images(const BuildRequest& req, const ShipOptions& options,
                                            const ImageActionOptions& o, Shared& shared) {
    EDGESHIP_TRY_ASSIGN(auto senv, solution::load_env(req.solution, req.env));
    imagebuild::BuildImagesRequest br;
    br.solution = req.solution;
    br.modules = {req.module};
    br.platforms = req.platforms;
    if (!req.base.empty()) {
        br.base = req.base;
    }
    br.template_dir = o.template_dir;
    br.tools = o.tools;
    br.base_registry = o.base_registry;
    if (options.image_target == ImageTarget::registry) {
        br.destination = imagebuild::ImageDestination::registry;
    } else {
        // Built beside the layout (blobs are hard-linked into it); the push step writes it.
        br.destination = imagebuild::ImageDestination::oci_layout;
        br.output = options.oci_layout;
    }
    const std::string epoch = senv.get("SOURCE_DATE_EPOCH");
    if (!epoch.empty()) {
        EDGESHIP_TRY_ASSIGN(br.source_date_epoch, oci::parse_source_date_epoch(epoch));
    }
    br.environment = req.env;
    auto c = collaborators(o, shared);
    EDGESHIP_TRY_ASSIGN(auto built, imagebuild::build_images(br, c));
    if (built.images.size() != req.platforms.size()) {
        return fail("build: " + std::to_string(built.images.size()) + " images built for " +
                    std::to_string(req.platforms.size()) + " platforms");
    }
    auto set = std::make_shared<imagebuild::BuiltImages>(std::move(built));
    std::vector<ShipImage> out;
    Session session;
    session.built = set;
    session.pushed.assign(set->images.size(), false);
    for (std::size_t i = 0; i < set->images.size(); ++i) {
        auto& image = set->images[i];
        if (i < req.references.size() && image.reference.str() != req.references[i]) {
            // The step's planned reference wins (it is what gen writes into the manifest).
            o.log.debug("ship: build reference " + image.reference.str() + " (planned " + req.references[i] + ")");
            EDGESHIP_TRY_ASSIGN(image.reference, oci::Reference::parse(req.references[i]));
        }
        ShipImage img;
        img.platform = image.built.platform;
        img.reference = image.reference.str();
        img.digest = image.built.image.manifest.descriptor.digest.str();
        // Aliasing: the image keeps the whole set (and its staging directory) alive until it is pushed.
        img.image = std::shared_ptr<const oci::LocalImage>(set, &image.built.image);
        session.by_image.emplace(&image.built.image, i);
        o.log.debug("ship: built " + img.reference + " " + img.digest + " (" + std::to_string(image.built.base_layers) +
                    " base layers + model + app)");
        out.push_back(std::move(img));
    }
    std::lock_guard lock(shared.mutex);
    shared.session = std::move(session);
    return out;
}

std::string_view outcome_name(registry::BlobResult::Outcome o) {
    switch (o) {
    case registry::BlobResult::Outcome::uploaded:
        return "uploaded";
    case registry::BlobResult::Outcome::skipped_exists:
        return "already present";
    case registry::BlobResult::Outcome::mounted:
        return "mounted";
    case registry::BlobResult::Outcome::downloaded:
        return "downloaded";
    }
    return "";
}

void add_blob_operations(std::vector<Operation>& ops, const registry::TransferReport& report, const std::string& repository) {
    for (const auto& b : report.blobs) {
        std::string method = b.outcome == registry::BlobResult::Outcome::uploaded ? "PUT"
                             : b.outcome == registry::BlobResult::Outcome::mounted ? "POST"
                                                                                   : "HEAD";
        ops.push_back({"registry", method, "/v2/" + repository + "/blobs/" + b.blob.digest.str(),
                       std::string(outcome_name(b.outcome)) + ", " + std::to_string(b.blob.size) + " bytes" +
                           (b.bytes_sent ? ", " + std::to_string(b.bytes_sent) + " sent" : "")});
    }
}

// The push step, per image: the facade's push (the model layer uploaded during the build counted as
// uploaded); after the last image of the run's set, its index.
Result<PushOutcome> push_to_registry(const ShipImage& img, const ImageActionOptions& o, Shared& shared) {
    if (!img.image) {
        return fail("push: image " + img.reference + " was not built in this run");
    }
    std::lock_guard lock(shared.mutex);
    auto& session = shared.session;
    auto it = session.by_image.find(img.image.get());
    if (!session.built || it == session.by_image.end()) {
        return fail("push: image " + img.reference + " was not built in this run");
    }
    auto c = collaborators(o, shared);
    auto& out_image = session.built->images[it->second];
    EDGESHIP_TRY_ASSIGN(auto report, imagebuild::push_built_image(out_image, c));
    session.pushed[it->second] = true;
    const auto& ref = out_image.reference;
    PushOutcome out;
    out.digest = report.digest.str();
    out.bytes_uploaded = report.bytes_uploaded;
    out.bytes_skipped = report.bytes_skipped;
    add_blob_operations(out.operations, report, ref.repository);
    out.operations.push_back({"registry", "PUT", "/v2/" + ref.repository + "/manifests/" + ref.tag, out.digest});

    for (auto& index : session.built->indexes) {
        if (index.transfer) {
            continue;
        }
        bool all = true;
        for (auto i : index.images) {
            all = all && session.pushed[i];
        }
        if (!all) {
            continue;
        }
        EDGESHIP_TRY_ASSIGN(auto ir, imagebuild::push_built_index(index, *session.built, c));
        ShipIndex si;
        si.reference = index.reference.str();
        si.digest = ir.digest.str();
        si.platforms = index.platforms;
        si.bytes_uploaded = ir.bytes_uploaded;
        si.bytes_skipped = ir.bytes_skipped;
        add_blob_operations(out.operations, ir, index.reference.repository);
        out.operations.push_back({"registry", "PUT", "/v2/" + index.reference.repository + "/manifests/" + index.reference.tag,
                                  si.digest + " (index: " + std::to_string(index.platforms.size()) + " platforms)"});
        out.index = std::move(si);
    }
    return out;
}

Result<std::optional<std::string>> registry_digest(const std::string& reference, const ImageActionOptions& o,
                                                   const RegistryFor& registry_for) {
    EDGESHIP_TRY_ASSIGN(auto ref, oci::Reference::parse(reference));
    EDGESHIP_TRY_ASSIGN(auto* client, client_for(registry_for, ref.api_host()));
    auto manifest = client->get_manifest(ref);
    if (!manifest) {
        if (manifest.error().code() == ExitCode::auth || manifest.error().code() == ExitCode::interrupted) {
            return unexpected(std::move(manifest).error());
        }
        // Absent (404) or unreadable: the image is built and pushed again; the push HEAD-skips what exists.
        o.log.debug("ship: " + reference + " not found at the registry: " + manifest.error().what());
        return std::optional<std::string>();
    }
    return std::optional<std::string>(manifest->descriptor.digest.str());
}

// The identity of the base image a platform is built on, as of now: a layout tag's manifest digest, a
// docker-archive's size and modification time (reading a large archive whole on every run would cost more
// than the rebuild it saves), a registry reference's manifest digest (one GET of a small document).
Result<std::string> base_identity(const std::string& text, const RegistryFor& registry_for) {
    EDGESHIP_TRY_ASSIGN(auto base, imagebuild::parse_base_ref(text));
    switch (base.kind) {
    case imagebuild::BaseRef::Kind::oci_layout: {
        EDGESHIP_TRY_ASSIGN(auto layout, oci::OciLayout::open(base.path));
        EDGESHIP_TRY_ASSIGN(auto top, layout.find(base.tag));
        return top.digest.str();
    }
    case imagebuild::BaseRef::Kind::docker_archive: {
        std::error_code ec;
        auto size = fs::file_size(base.path, ec);
        auto mtime = fs::last_write_time(base.path, ec);
        if (ec) {
            return fail("base image " + text + ": " + ec.message());
        }
        return std::to_string(size) + "@" + std::to_string(mtime.time_since_epoch().count());
    }
    case imagebuild::BaseRef::Kind::registry: {
        EDGESHIP_TRY_ASSIGN(auto* client, client_for(registry_for, base.reference.api_host()));
        EDGESHIP_TRY_ASSIGN(auto manifest, client->get_manifest(base.reference));
        return manifest.descriptor.digest.str();
    }
    }
    return std::string();
}

// What an image is built from besides the module folder: the base's identity, the runtime templates
// (--template-dir) and SOURCE_DATE_EPOCH, so ship's up-to-date check rebuilds when any of them moved.
Result<std::string> build_inputs(const fs::path& solution_dir, const std::string& module, const std::string& platform,
                                 const core::Environment& env, const ImageActionOptions& o) {
    EDGESHIP_TRY_ASSIGN(auto senv, solution::load_env(solution_dir, env));
    std::string out = "epoch=" + senv.get("SOURCE_DATE_EPOCH") + "\n";
    if (!o.template_dir.empty()) {
        EDGESHIP_TRY_ASSIGN(auto templates, tree_sha256(o.template_dir));
        out += "templates=" + templates + "\n";
    }
    auto info = solution::load_module(solution_dir / senv.get("MODULES_PATH", "modules") / module, senv.vars);
    if (!info) {
        return out; // the build step reports an unreadable module.json
    }
    std::optional<std::string> flag;
    if (!o.base.empty()) {
        flag = o.base;
    }
    // The runtime decides the default base (its official image, through the base registry).
    imagebuild::RuntimeImage no_runtime;
    const imagebuild::RuntimeImage* runtime = &no_runtime;
    auto runtimes = imagebuild::load_runtime_images(o.template_dir);
    if (runtimes) {
        if (auto rt = imagebuild::select_runtime(*info, *runtimes); rt) {
            runtime = *rt;
        }
    }
    auto text = imagebuild::base_ref_for(*info, platform, flag, *runtime, o.base_registry);
    if (!text) {
        return out; // no base: the build step fails with the full explanation
    }
    auto identity = base_identity(*text, o.registry_for);
    if (!identity) {
        return unexpected(std::move(identity).error().context("base image " + *text));
    }
    return out + "base=" + *text + "@" + *identity + "\n";
}

} // namespace

void add_image_actions(ShipActions& a, const ShipOptions& options, const ImageActionOptions& o) {
    auto shared = std::make_shared<Shared>(o.registry_for);
    a.build = [options, o, shared](const BuildRequest& req) { return build_images(req, options, o, *shared); };
    a.build_inputs = [o](const fs::path& solution_dir, const std::string& module, const std::string& platform,
                         const core::Environment& env) { return build_inputs(solution_dir, module, platform, env, o); };
    if (options.image_target == ImageTarget::oci_layout) {
        add_oci_layout_actions(a, options.oci_layout);
        return;
    }
    a.push = [o, shared](const ShipImage& img) { return push_to_registry(img, o, *shared); };
    a.pushed_digest = [o, shared](const std::string& ref) { return registry_digest(ref, o, shared->registry_for); };
}

} // namespace edgeship::pipeline
