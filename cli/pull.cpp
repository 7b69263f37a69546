#include "cli/registry_progress.hpp"
#include "cli/transfer_commands.hpp"

#include "oci/layout.hpp"
#include "oci/reference.hpp"
#include "registry/client.hpp"

#include <filesystem>

namespace edgeship::cli {

void register_pull(CLI::App& parent, Context& ctx, Runner<PullOptions> run) {
    auto opts = std::make_shared<PullOptions>();
    auto* sub = parent.add_subcommand("pull", "Download an image from a registry into an OCI layout");
    sub->add_option("REF", opts->reference, "Registry reference, e.g. localhost:5000/team/app:1.0")->required();
    sub->add_option("--oci-layout", opts->oci_layout, "OCI layout directory to write (created when missing)")
        ->required();
    sub->add_option("--platform", opts->platform,
                    "Only this platform of a multi-platform image (os/arch[/variant] or amd64, arm32v7…)");
    sub->add_option("--tag", opts->tag, "Tag in the layout's index.json (default: the reference's tag)");
    sub->add_flag("--json", opts->json, "Print the result as JSON (reference, digest, bytes, blobs)");
    add_registry_flags(*sub, opts->registry);
    sub->footer("Examples:\n"
                "  edgeship pull mcr.microsoft.com/azureml/onnxruntime:latest --oci-layout base --platform linux/amd64\n"
                "  edgeship pull localhost:5000/team/app:1 --oci-layout out --plain-http\n"
                "  edgeship pull localhost:5000/team/app@sha256:… --oci-layout out --tag 1 --plain-http\n\n"
                "Every blob is verified (size and sha256) before it lands in the layout; index.json is written last.\n"
                "Exit codes: 0 pulled, 1 failure, 2 usage, 4 authentication, 130 interrupted.");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_pull(const PullOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(auto ref, oci::Reference::parse(opts.reference));
    std::optional<oci::Platform> platform;
    if (!opts.platform.empty()) {
        auto p = oci::Platform::parse(opts.platform);
        if (!p) {
            return unexpected(Error(p.error().message(), ExitCode::usage).context("--platform"));
        }
        platform = *p;
    }
    if (!opts.tag.empty() && !oci::is_valid_ref_name(opts.tag)) {
        return unexpected(Error("--tag \"" + opts.tag + "\": not a valid layout tag", ExitCode::usage));
    }
    EDGESHIP_TRY_ASSIGN(auto* clients, ctx.registries(opts.registry, ref.registry));
    EDGESHIP_TRY_ASSIGN(auto options, clients->options(ref.registry));
    EDGESHIP_TRY_ASSIGN(auto reg, registry::Registry::connect(std::move(options)));

    std::error_code ec;
    const bool existed = std::filesystem::exists(opts.oci_layout, ec);
    EDGESHIP_TRY_ASSIGN(auto layout, oci::OciLayout::create(opts.oci_layout));
    TransferProgress progress(ctx, TransferDirection::pull, opts.json);
    auto report = reg->pull_to_layout(ref, layout, platform, opts.tag, progress.callback());
    progress.finish();
    if (!report) {
        if (!existed) {
            std::filesystem::remove_all(opts.oci_layout, ec); // nothing half-written (a layout we created)
        }
        return unexpected(std::move(report).error());
    }
    if (opts.json) {
        ctx.io.out << transfer_report_json(*report, TransferDirection::pull) << '\n';
    } else {
        ctx.console.info(transfer_summary(*report, TransferDirection::pull));
        ctx.io.out << ref.name() << "@" << report->digest.str() << '\n';
    }
    return {};
}

} // namespace edgeship::cli
