#include "cli/solution_commands.hpp"

#include "solution/scaffold.hpp"

#include <nlohmann/json.hpp>

namespace edgeship::cli {

namespace {

// Shared with module.cpp through a tiny internal header would be nicer; the output is small enough
// to keep here: files on stdout (one per line) so scripts can use them, or --json.
void print_plan(const solution::ScaffoldPlan& plan, bool json, bool dry_run, Context& ctx) {
    if (json) {
        nlohmann::ordered_json j;
        j["solution"] = plan.root.string();
        j["module"] = plan.module;
        j["runtime"] = plan.runtime;
        j["platforms"] = plan.platforms;
        j["dry_run"] = dry_run;
        j["files"] = nlohmann::ordered_json::array();
        for (const auto& f : plan.files) {
            j["files"].push_back({{"path", (plan.root / f.path).string()},
                                  {"action", f.replaces_existing ? "update" : "create"}});
        }
        ctx.io.out << j.dump(2) << '\n';
        return;
    }
    for (const auto& f : plan.files) {
        ctx.io.out << (plan.root / f.path).string() << '\n';
    }
}

} // namespace

void register_init(CLI::App& parent, Context& ctx, Runner<InitOptions> run) {
    auto opts = std::make_shared<InitOptions>();
    auto* sub = parent.add_subcommand("init", "Scaffold an IoT Edge solution with a scoring module for an ONNX model");
    sub->add_option("DIR", opts->dir, "The new solution directory (must not exist, or be empty)")->required();
    sub->add_option("--module", opts->module, "Module name (letters, digits, '_')")->capture_default_str();
    sub->add_option("--model", opts->model, "The .onnx model to serve; its signature drives the generated code")
        ->check(CLI::ExistingFile);
    sub->add_option("--runtime", opts->runtime, "python-onnxruntime or node-onnxruntime")->capture_default_str();
    sub->add_option("--platforms", opts->platforms, "Comma-separated platforms: amd64, arm64v8 (arm32v7 is refused)")
        ->delimiter(',')
        ->capture_default_str();
    sub->add_option("--registry", opts->registry, "CONTAINER_REGISTRY_SERVER written to .env")->capture_default_str();
    sub->add_option("--template-dir", opts->template_dir, "Use templates from DIR over the embedded ones");
    sub->add_flag("--dry-run", opts->dry_run, "Print the files that would be written; write nothing");
    sub->add_flag("--json", opts->json, "Print {solution, module, runtime, platforms, files} as JSON");
    sub->footer("Examples:\n"
                "  edgeship init pm --model model.onnx\n"
                "  edgeship init pm --model model.onnx --runtime node-onnxruntime --platforms amd64,arm64v8\n"
                "  edgeship init pm --model model.onnx --registry myacr.azurecr.io --dry-run\n\n"
                "Writes .env, deployment.template.json, deployment.debug.template.json and\n"
                "modules/<name>/ (module.json, Dockerfile.<platform>, app/, model/). Prints the files written.");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_init(const InitOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(auto source, templates::TemplateSource::open(opts.template_dir));
    solution::InitOptions io;
    io.dir = opts.dir;
    io.module.name = opts.module;
    if (!opts.model.empty()) {
        io.module.model = opts.model;
    }
    io.module.runtime = opts.runtime;
    io.module.platforms = opts.platforms;
    io.registry = opts.registry;
    auto plan = solution::plan_init(io, source);
    if (!plan) {
        return unexpected(std::move(plan).error().context("init " + opts.dir));
    }
    if (!opts.dry_run) {
        if (auto r = solution::apply_plan(*plan); !r) {
            return unexpected(std::move(r).error().context("init " + opts.dir));
        }
    }
    print_plan(*plan, opts.json, opts.dry_run, ctx);
    if (!opts.json) {
        ctx.console.info((opts.dry_run ? "would create " : "created ") + opts.dir + " with module " + opts.module +
                         " (" + plan->runtime + ")");
        if (!opts.dry_run) {
            ctx.console.info("next: edgeship gen --solution " + opts.dir);
        }
    }
    return {};
}

// module add prints the same way
void print_scaffold_plan(const solution::ScaffoldPlan& plan, bool json, bool dry_run, Context& ctx) {
    print_plan(plan, json, dry_run, ctx);
}

} // namespace edgeship::cli
