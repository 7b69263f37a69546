#include "pipeline/ship_images.hpp"

#include "imagebuild/base.hpp"
#include "imagebuild/build.hpp"
#include "imagebuild/runtime_image.hpp"
#include "imagebuild/sources.hpp"
#include "oci/layer.hpp"
#include "oci/reference.hpp"
#include "pipeline/ship_actions.hpp"
#include "solution/layout.hpp"
#include "solution/scaffold.hpp"
#include "templates/source.hpp"

#include <map>
#include <mutex>

namespace edgeship::pipeline {

namespace fs = std::filesystem;

namespace {

// Registry clients by host, opened once per run (the push target and base registries).
class Clients {
public:
    explicit Clients(std::function<Result<std::unique_ptr<registry::Registry>>(const std::string&)> connect)
        : m_connect(std::move(connect)) {}

    Result<registry::Registry*> get(const std::string& host) {
        std::lock_guard lock(m_mutex);
        auto it = m_clients.find(host);
        if (it != m_clients.end()) {
            return it->second.get();
        }
        if (!m_connect) {
            return fail("no registry client is wired in this build");
        }
        EDGESHIP_TRY_ASSIGN(auto client, m_connect(host));
        auto* raw = client.get();
        m_clients.emplace(host, std::move(client));
        return raw;
    }

private:
    std::function<Result<std::unique_ptr<registry::Registry>>(const std::string&)> m_connect;
    std::mutex m_mutex;
    std::map<std::string, std::unique_ptr<registry::Registry>> m_clients;
};

Result<std::vector<imagebuild::RuntimeImage>> load_runtimes(const std::string& template_dir) {
    EDGESHIP_TRY_ASSIGN(auto source, templates::TemplateSource::open(template_dir));
    std::vector<imagebuild::RuntimeImage> out;
    for (const auto& name : solution::runtime_names(source)) {
        std::string what = "runtimes/" + name + "/runtime.json";
        EDGESHIP_TRY_ASSIGN(auto text, source.read(what));
        EDGESHIP_TRY_ASSIGN(auto rt, imagebuild::parse_runtime_image(text, what));
        out.push_back(std::move(rt));
    }
    return out;
}

// The same sequence as `edgeship build` for one platform: module.json → runtime → sources → base →
// model and app layers (staged under <solution>/.edgeship/blobs) → image.
Result<ShipImage> build_image(const BuildRequest& req, const ImageActionOptions& o, Clients& clients) {
    EDGESHIP_TRY_ASSIGN(auto senv, solution::load_env(req.solution, req.env));
    EDGESHIP_TRY_ASSIGN(auto module, solution::load_module(req.solution / "modules" / req.module, senv.vars));
    EDGESHIP_TRY_ASSIGN(auto runtimes, load_runtimes(o.template_dir));
    EDGESHIP_TRY_ASSIGN(const imagebuild::RuntimeImage* runtime, imagebuild::select_runtime(module, runtimes));
    EDGESHIP_TRY_ASSIGN(auto sources, imagebuild::collect_sources(module, *runtime, std::nullopt));
    EDGESHIP_TRY_ASSIGN(auto target, imagebuild::TargetPlatform::parse(req.platform));

    std::optional<std::string> flag;
    if (!req.base.empty()) {
        flag = req.base;
    }
    EDGESHIP_TRY_ASSIGN(auto base_text, imagebuild::base_ref_for(module, req.platform, flag, *runtime));
    EDGESHIP_TRY_ASSIGN(auto base_ref, imagebuild::BaseRef::parse(base_text));

    fs::path staging = req.solution / ".edgeship" / "blobs";
    std::error_code ec;
    fs::remove_all(staging, ec);
    fs::create_directories(staging, ec);
    if (ec) {
        return fail(staging.string() + ": cannot create directory: " + ec.message());
    }
    oci::LocalImage base;
    if (base_ref.kind == imagebuild::BaseRef::Kind::registry) {
        EDGESHIP_TRY_ASSIGN(auto* client, clients.get(base_ref.reference.api_host()));
        auto remote = client->get_image(base_ref.reference, target.platform);
        if (!remote) {
            return unexpected(std::move(remote).error().context("base image " + base_text));
        }
        base = std::move(*remote);
    } else {
        EDGESHIP_TRY_ASSIGN(base, imagebuild::load_local_base(base_ref, target.platform, staging));
    }

    oci::LayerOptions lo;
    const std::string epoch = senv.get("SOURCE_DATE_EPOCH");
    if (!epoch.empty()) {
        EDGESHIP_TRY_ASSIGN(lo.source_date_epoch, oci::parse_source_date_epoch(epoch));
    }
    EDGESHIP_TRY_ASSIGN(auto layers, imagebuild::build_module_layers(sources, staging, lo));

    const std::string container_tag = senv.get("CONTAINER_TAG");
    imagebuild::ImageRequest ir;
    ir.module = &module;
    ir.runtime = runtime;
    ir.sources = &sources;
    ir.layers = &layers;
    ir.platform = target;
    ir.base = &base;
    ir.base_name = base_text;
    ir.version = module.version + (container_tag.empty() ? "" : "-" + container_tag);
    ir.source_date_epoch = lo.source_date_epoch;
    EDGESHIP_TRY_ASSIGN(auto built, imagebuild::assemble_module_image(ir));
    EDGESHIP_TRY_ASSIGN(auto ref, imagebuild::platform_reference(module, req.platform, container_tag));
    if (ref.str() != req.reference) {
        o.log.debug("ship: build reference " + ref.str() + " (planned " + req.reference + ")");
    }
    ShipImage img;
    img.platform = req.platform;
    img.reference = req.reference;
    img.digest = built.image.manifest.descriptor.digest.str();
    img.image = std::make_shared<const oci::LocalImage>(std::move(built.image));
    o.log.debug("ship: built " + req.reference + " " + img.digest + " (" + std::to_string(built.base_layers) +
                " base layers + model + app)");
    return img;
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

Result<PushOutcome> push_to_registry(const ShipImage& img, const ImageActionOptions& o, Clients& clients) {
    if (!img.image) {
        return fail("push: image " + img.reference + " was not built in this run");
    }
    EDGESHIP_TRY_ASSIGN(auto ref, oci::Reference::parse(img.reference));
    EDGESHIP_TRY_ASSIGN(auto* client, clients.get(ref.api_host()));
    EDGESHIP_TRY_ASSIGN(auto report, client->push_image(*img.image, ref, o.events));
    PushOutcome out;
    out.digest = report.digest.str();
    out.bytes_uploaded = report.bytes_uploaded;
    out.bytes_skipped = report.bytes_skipped;
    for (const auto& b : report.blobs) {
        std::string method = b.outcome == registry::BlobResult::Outcome::uploaded ? "PUT"
                             : b.outcome == registry::BlobResult::Outcome::mounted ? "POST"
                                                                                   : "HEAD";
        out.operations.push_back({"registry", method, "/v2/" + ref.repository + "/blobs/" + b.blob.digest.str(),
                                  std::string(outcome_name(b.outcome)) + ", " + std::to_string(b.blob.size) +
                                      " bytes" + (b.bytes_sent ? ", " + std::to_string(b.bytes_sent) + " sent" : "")});
    }
    out.operations.push_back({"registry", "PUT", "/v2/" + ref.repository + "/manifests/" + ref.tag, out.digest});
    return out;
}

Result<std::optional<std::string>> registry_digest(const std::string& reference, const ImageActionOptions& o,
                                                   Clients& clients) {
    EDGESHIP_TRY_ASSIGN(auto ref, oci::Reference::parse(reference));
    EDGESHIP_TRY_ASSIGN(auto* client, clients.get(ref.api_host()));
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

} // namespace

void add_image_actions(ShipActions& a, const ShipOptions& options, const ImageActionOptions& o) {
    auto clients = std::make_shared<Clients>(o.connect);
    a.build = [o, clients](const BuildRequest& req) { return build_image(req, o, *clients); };
    if (options.image_target == ImageTarget::oci_layout) {
        add_oci_layout_actions(a, options.oci_layout);
        return;
    }
    a.push = [o, clients](const ShipImage& img) { return push_to_registry(img, o, *clients); };
    a.pushed_digest = [o, clients](const std::string& ref) { return registry_digest(ref, o, *clients); };
}

} // namespace edgeship::pipeline
