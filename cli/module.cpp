#include "cli/solution_commands.hpp"

#include "solution/scaffold.hpp"

namespace edgeship::cli {

void print_scaffold_plan(const solution::ScaffoldPlan& plan, bool json, bool dry_run, Context& ctx); // init.cpp

void register_module(CLI::App& parent, Context& ctx, Runner<ModuleAddOptions> run) {
    auto* group = parent.add_subcommand("module", "Manage the modules of a solution");
    group->require_subcommand(1);
    group->footer("Examples:\n  edgeship module add anomaly --model anomaly.onnx --solution pm");
    auto opts = std::make_shared<ModuleAddOptions>();
    auto* sub = group->add_subcommand("add", "Add a scoring module and its route to an existing solution");
    sub->add_option("NAME", opts->name, "Module name (letters, digits, '_')")->required();
    sub->add_option("--solution", opts->solution, "The solution directory")->capture_default_str();
    sub->add_option("--model", opts->model, "The .onnx model to serve")->check(CLI::ExistingFile);
    sub->add_option("--runtime", opts->runtime, "python-onnxruntime or node-onnxruntime")->capture_default_str();
    sub->add_option("--platforms", opts->platforms, "Comma-separated platforms: amd64, arm64v8")
        ->delimiter(',')
        ->capture_default_str();
    sub->add_option("--template-dir", opts->template_dir, "Use templates from DIR over the embedded ones");
    sub->add_flag("--dry-run", opts->dry_run, "Print the files that would be written or updated; write nothing");
    sub->add_flag("--json", opts->json, "Print {solution, module, runtime, platforms, files} as JSON");
    sub->footer("Examples:\n"
                "  edgeship module add anomaly --model anomaly.onnx\n"
                "  edgeship module add anomaly --model anomaly.onnx --solution pm --runtime node-onnxruntime\n\n"
                "The module and its route <name>ToIoTHub are inserted into deployment.template.json and\n"
                "deployment.debug.template.json; the rest of those files is kept byte for byte.");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_module_add(const ModuleAddOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(auto source, templates::TemplateSource::open(opts.template_dir));
    solution::ModuleSpec spec;
    spec.name = opts.name;
    if (!opts.model.empty()) {
        spec.model = opts.model;
    }
    spec.runtime = opts.runtime;
    spec.platforms = opts.platforms;
    auto plan = solution::plan_module_add(opts.solution, spec, source);
    if (!plan) {
        return unexpected(std::move(plan).error().context("module add " + opts.name));
    }
    if (!opts.dry_run) {
        if (auto r = solution::apply_plan(*plan); !r) {
            return unexpected(std::move(r).error().context("module add " + opts.name));
        }
    }
    print_scaffold_plan(*plan, opts.json, opts.dry_run, ctx);
    if (!opts.json) {
        ctx.console.info((opts.dry_run ? "would add " : "added ") + opts.name + " (" + plan->runtime + ") to " +
                         opts.solution);
    }
    return {};
}

} // namespace edgeship::cli
