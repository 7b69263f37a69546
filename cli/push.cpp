#include "cli/registry_progress.hpp"
#include "cli/transfer_commands.hpp"

#include "oci/docker_archive.hpp"
#include "oci/image_source.hpp"
#include "oci/layout.hpp"
#include "oci/media_types.hpp"
#include "oci/reference.hpp"
#include "registry/client.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdlib.h>

namespace edgeship::cli {

namespace {

// skopeo's transport syntax (oci/image_source.hpp). Unlike --base, a bare REF is refused: the source of
// a push names its transport, as skopeo's does, so a typo in a path is not taken for a Docker Hub image.
Result<oci::ImageSource> parse_push_source(const std::string& text) {
    auto source = oci::ImageSource::parse(text, "source");
    if (!source || !source->transport_given) {
        std::string why = source ? std::string() : ": " + source.error().message();
        return unexpected(Error("source \"" + text + "\": expected oci:DIR[:TAG], docker-archive:FILE or docker://REF" +
                                    (source ? std::string() : why),
                                ExitCode::usage)
                              .hint("to push a built module use 'edgeship build --push'"));
    }
    return source;
}

/// A temporary directory for docker-archive staging, removed on every exit path.
struct Staging {
    std::filesystem::path dir;
    ~Staging() {
        if (!dir.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    }
};

Result<std::filesystem::path> make_staging(Staging& s) {
    std::error_code ec;
    auto base = std::filesystem::temp_directory_path(ec);
    if (ec) {
        return fail("no temporary directory: " + ec.message());
    }
    std::string tmpl = (base / "edgeship-push-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        return fail(base.string() + ": cannot create a staging directory: " + std::strerror(errno));
    }
    s.dir = tmpl;
    return s.dir;
}

} // namespace

void register_push(CLI::App& parent, Context& ctx, Runner<PushOptions> run) {
    auto opts = std::make_shared<PushOptions>();
    auto* sub = parent.add_subcommand("push", "Push an image from an OCI layout or a docker-archive to a registry");
    sub->add_option("SRC", opts->source, "oci:DIR[:TAG], docker-archive:FILE or docker://REF (another registry image)")
        ->required();
    sub->add_option("DEST", opts->destination, "Registry reference, e.g. localhost:5000/team/app:1.0")->required();
    sub->add_option("--platform", opts->platform,
                    "Push only this platform of a multi-platform layout tag (os/arch[/variant] or amd64, arm32v7…)");
    sub->add_option("--chunk-size", opts->chunk_mib,
                    "Upload in PATCH chunks of this many MiB (at least 8; default 0: one streamed PATCH per blob)");
    sub->add_flag("--json", opts->json, "Print the result as JSON (reference, digest, bytes uploaded/skipped, blobs)");
    add_registry_flags(*sub, opts->registry);
    sub->footer("Examples:\n"
                "  edgeship push oci:./layout:1.0-amd64 myacr.azurecr.io/scoring:1.0-amd64\n"
                "  edgeship push docker-archive:image.tar localhost:5000/team/app:1 --plain-http\n"
                "  edgeship push docker://localhost:5000/base/img:1 localhost:5000/team/app:1 --plain-http\n"
                "  echo \"$PW\" | edgeship push oci:out myreg.example:5443/app:2 -u ci --password-stdin --ca-file ca.pem\n\n"
                "Blobs already in the registry are skipped (HEAD); layers known in another repository of the same\n"
                "registry are mounted (docker:// sources on the same registry), layers of another registry stream\n"
                "through a temporary file; the manifest is pushed last and its digest checked. Prints REF@DIGEST.\n"
                "Exit codes: 0 pushed, 1 failure (nothing tagged), 2 usage, 4 authentication, 130 interrupted.");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_push(const PushOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(auto source, parse_push_source(opts.source));
    EDGESHIP_TRY_ASSIGN(auto dest, oci::Reference::parse(opts.destination));
    if (opts.chunk_mib != 0 && opts.chunk_mib < 8) {
        // Smaller chunks cost a round trip each (docs/design/registry.md §9.6: 64 KiB chunks run at
        // 20 MiB/s).
        return unexpected(Error("--chunk-size " + std::to_string(opts.chunk_mib) + ": at least 8 (MiB), or 0",
                                ExitCode::usage));
    }
    std::optional<oci::Platform> platform;
    if (!opts.platform.empty()) {
        auto p = oci::Platform::parse(opts.platform);
        if (!p) {
            return unexpected(Error(p.error().message(), ExitCode::usage).context("--platform"));
        }
        platform = *p;
    }

    // One keychain for the run: the --username credential belongs to the destination registry alone; a
    // source or mounted layer in another registry is read with that registry's own credential.
    EDGESHIP_TRY_ASSIGN(auto* clients, ctx.registries(opts.registry, dest.registry));

    // Read (and verify) everything local before touching the registry.
    Staging staging;
    std::vector<oci::LocalImage> images;
    std::optional<oci::Blob> index;
    if (source.kind == oci::ImageSource::Kind::oci_layout) {
        EDGESHIP_TRY_ASSIGN(auto layout, oci::OciLayout::open(source.path));
        EDGESHIP_TRY_ASSIGN(auto top, layout.find(source.tag));
        oci::LoadOptions lo;
        lo.platform = platform;
        // Layer files are hashed while they are uploaded (and never read for blobs the registry already
        // has): one read instead of two; a corrupt layer fails before its PUT and nothing is tagged.
        lo.verify_layers = false;
        if (oci::media_type::is_index(top.media_type) && !platform) {
            EDGESHIP_TRY_ASSIGN(auto bytes, layout.read_blob(top, "index"));
            EDGESHIP_TRY_ASSIGN(auto parsed, oci::Index::parse(bytes, source.path.string() + ": index " + top.digest.short_str()));
            for (const auto& entry : parsed.manifests) {
                EDGESHIP_TRY_ASSIGN(auto img, layout.load(entry, "manifest " + entry.digest.short_str(), lo));
                images.push_back(std::move(img));
            }
            index = oci::Blob{std::move(bytes), top};
        } else {
            EDGESHIP_TRY_ASSIGN(auto img, layout.load(top, source.tag.empty() ? "image" : "tag " + source.tag, lo));
            images.push_back(std::move(img));
        }
    } else if (source.kind == oci::ImageSource::Kind::registry) {
        // Manifest and config only: layers stay remote and are HEAD-skipped, mounted or streamed through.
        const oci::Reference& src_ref = source.reference;
        EDGESHIP_TRY_ASSIGN(auto* src_reg, clients->get(src_ref.registry));
        EDGESHIP_TRY_ASSIGN(auto img, src_reg->get_image(src_ref, platform.value_or(oci::Platform{})));
        images.push_back(std::move(img));
    } else {
        EDGESHIP_TRY_ASSIGN(auto dir, make_staging(staging));
        EDGESHIP_TRY_ASSIGN(auto archive, oci::read_docker_archive(source.path, dir));
        // docker save layers are plain tars: gzip them (ISA-L, one pass) before they travel.
        oci::BlobWriterOptions bo;
        bo.sync = false;
        EDGESHIP_TRY_ASSIGN(auto compressed, oci::compress_layers(archive.image, dir, oci::ManifestFormat::docker, bo));
        images.push_back(std::move(compressed));
    }

    EDGESHIP_TRY_ASSIGN(auto options, clients->options(dest.registry));
    options.chunk_size = static_cast<std::uint64_t>(opts.chunk_mib) << 20;
    EDGESHIP_TRY_ASSIGN(auto reg, registry::Registry::connect(std::move(options)));

    TransferProgress progress(ctx, TransferDirection::push, opts.json);
    Result<registry::TransferReport> report = [&]() -> Result<registry::TransferReport> {
        if (index) {
            std::vector<const oci::LocalImage*> ptrs;
            for (const auto& i : images) {
                ptrs.push_back(&i);
            }
            return reg->push_index(ptrs, *index, dest, progress.callback());
        }
        return reg->push_image(images.front(), dest, progress.callback());
    }();
    progress.finish();
    if (!report) {
        return unexpected(std::move(report).error());
    }
    if (opts.json) {
        ctx.io.out << transfer_report_json(*report, TransferDirection::push) << '\n';
    } else {
        ctx.console.info(transfer_summary(*report, TransferDirection::push));
        // REF@DIGEST on stdout so commands compose (crane push).
        ctx.io.out << dest.name() << "@" << report->digest.str() << '\n';
    }
    return {};
}

} // namespace edgeship::cli
