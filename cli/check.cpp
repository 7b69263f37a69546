#include "cli/commands.hpp"

#include "model/inspect.hpp"

namespace edgeship::cli {

void register_check(CLI::App& parent, Context& ctx, Runner<CheckOptions> run) {
    auto opts = std::make_shared<CheckOptions>();
    auto* sub = parent.add_subcommand("check", "Validate an ONNX model with the ONNX checker and shape inference");
    sub->add_option("MODEL", opts->model, "The .onnx file (external data is resolved next to it)")->required();
    sub->add_flag("--json", opts->json, "Print {path, valid, findings:[{stage, message}]} as JSON");
    sub->add_flag("--strict-shapes", opts->strict_shapes, "Run shape inference in strict mode");
    sub->footer("Examples:\n  edgeship check model.onnx && echo valid\n  edgeship check model.onnx --json\n\n"
                "Exit codes: 0 valid, 3 invalid (findings on stdout), 1 unreadable file.");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_check(const CheckOptions& opts, Context& ctx) {
    model::InspectOptions mo;
    mo.strict_shapes = opts.strict_shapes ? model::StrictShapes::yes : model::StrictShapes::no;
    EDGESHIP_TRY_ASSIGN(auto report, model::inspect_model(opts.model, mo));
    if (opts.json) {
        auto full = model::report_to_json(report);
        nlohmann::json j = {{"path", full["path"]}, {"valid", full["valid"]}, {"findings", full["findings"]}};
        ctx.io.out << j.dump(2) << '\n';
    } else {
        for (const auto& f : report.findings) {
            ctx.io.out << opts.model << ": " << f.stage << ": " << f.message << '\n';
        }
        if (report.valid()) {
            ctx.io.out << opts.model << ": ok\n";
        }
    }
    return model::require_valid(opts.model, report.findings);
}

} // namespace edgeship::cli
