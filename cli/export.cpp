#include "cli/build_commands.hpp"

#include "solution/generate.hpp"
#include "solution/layout.hpp"

namespace edgeship::cli {

void register_export(CLI::App& parent, Context& ctx, Runner<ExportOptions> run) {
    auto opts = std::make_shared<ExportOptions>();
    auto* sub = parent.add_subcommand(
        "export", "Write one module image as a docker-archive for an air-gapped gateway (docker load -i FILE)");
    sub->add_option("MODULE", opts->module, "Module folder under modules/")->required();
    sub->add_option("--archive", opts->archive, "The archive to write (replaced atomically)")->required();
    sub->add_option("--platform", opts->platform, "Platform of the gateway (default: DEFAULT_PLATFORM or amd64)");
    sub->add_option("--solution", opts->solution, "The solution directory")->capture_default_str();
    sub->add_option("--base", opts->base,
                    "Runtime base image: oci:DIR[:TAG], docker-archive:FILE or a registry reference "
                    "(default: module.json edgeship.baseImage.<platform>); registry layers are downloaded");
    sub->add_option("--model", opts->model, "Serve this .onnx instead of the one in the module's model/ directory");
    add_image_tool_flags(sub, opts->tools);
    sub->add_option("--template-dir", opts->template_dir, "Read runtimes/<name>/runtime.json from DIR over the embedded ones");
    sub->add_flag("--json", opts->json, "Print the image (reference, digest, platform, layers, model) as JSON");
    add_registry_flags(*sub, opts->registry);
    sub->footer("Examples:\n"
                "  edgeship export scoring --archive scoring.tar --base oci:runtime-layout:3.11\n"
                "  edgeship export scoring --archive scoring-arm64.tar --platform arm64v8\n"
                "  # on the gateway, after carrying the file over:\n"
                "  docker load -i scoring.tar     # the image keeps the tag the deployment manifest names\n\n"
                "The archive is what 'docker save' writes, with RepoTags = the module's tag\n"
                "(repo:version[-CONTAINER_TAG]-platform), so IoT Edge finds the image locally and needs no registry.\n"
                "Exit codes: 0 written, 1 failure (nothing written), 2 usage, 4 authentication, 130 interrupted.");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_export(const ExportOptions& opts, Context& ctx) {
    BuildOptions b;
    b.modules = {opts.module};
    b.solution = opts.solution;
    b.base = opts.base;
    b.model = opts.model;
    b.archive = opts.archive;
    b.template_dir = opts.template_dir;
    b.json = opts.json;
    b.registry = opts.registry;
    b.tools = opts.tools;
    // docker load wants Docker schema 2 types in its config; a docker-archive has no manifest anyway.
    b.format = "docker";
    std::string platform = opts.platform;
    if (platform.empty()) {
        auto env = solution::load_env(opts.solution, ctx.env);
        if (!env) {
            return unexpected(std::move(env).error().context("export"));
        }
        platform = solution::default_platform(*env);
    }
    b.platforms = {platform};
    return run_build(b, ctx);
}

} // namespace edgeship::cli
