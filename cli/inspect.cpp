#include "cli/commands.hpp"
#include "cli/format.hpp"

#include "model/inspect.hpp"

#include <iomanip>
#include <sstream>

namespace edgeship::cli {

namespace {

void print_text(const model::ModelReport& r, std::ostream& out) {
    out << "model:        " << r.path << '\n';
    out << "file:         " << human_bytes(r.file_size) << " (" << r.file_size << " bytes), sha256 " << r.sha256 << '\n';
    out << "ir_version:   " << r.ir_version << '\n';
    out << "opsets:       ";
    bool first = true;
    for (const auto& [domain, v] : r.opset_imports) {
        out << (first ? "" : ", ") << (domain.empty() ? "ai.onnx" : domain) << ' ' << v;
        first = false;
    }
    out << '\n';
    out << "producer:     " << (r.producer_name.empty() ? "-" : r.producer_name)
        << (r.producer_version.empty() ? "" : " " + r.producer_version) << '\n';
    out << "graph:        " << (r.graph_name.empty() ? "-" : r.graph_name) << ", " << r.node_count << " nodes\n";
    out << "inputs:\n";
    for (const auto& s : r.inputs) {
        out << "  " << s.name << ": " << model::format_signature(s) << '\n';
    }
    out << "outputs:\n";
    for (const auto& s : r.outputs) {
        out << "  " << s.name << ": " << model::format_signature(s) << '\n';
    }
    out << "parameters:   " << r.parameter_count << " in " << r.initializer_count << " initializers, "
        << human_bytes(r.parameter_bytes) << '\n';
    out << "ops:\n";
    for (const auto& [op, n] : r.op_histogram) {
        out << "  " << op << ' ' << n << '\n';
    }
    if (!r.metadata.empty()) {
        out << "metadata:\n";
        for (const auto& [k, v] : r.metadata) {
            out << "  " << k << " = " << v << '\n';
        }
    }
    if (!r.external_data.empty()) {
        out << "external data:\n";
        for (const auto& e : r.external_data) {
            out << "  " << e.tensor << " -> " << e.location << " @" << e.offset
                << (e.length >= 0 ? " +" + std::to_string(e.length) : std::string()) << '\n';
        }
    }
    out << "check:        " << (r.valid() ? "ok (checker, shape inference)" : "FAILED") << '\n';
    for (const auto& f : r.findings) {
        out << "  " << f.stage << ": " << f.message << '\n';
    }
}

} // namespace

void register_inspect(CLI::App& parent, Context& ctx, Runner<InspectOptions> run) {
    auto opts = std::make_shared<InspectOptions>();
    auto* sub = parent.add_subcommand(
        "inspect", "Describe an ONNX model: signature, opsets, parameters, ops, metadata, checker findings");
    sub->add_option("MODEL", opts->model, "The .onnx file")->required();
    sub->add_flag("--json", opts->json, "Print the report as JSON (stable snake_case fields)");
    sub->add_flag("--strict-shapes", opts->strict_shapes, "Run shape inference in strict mode");
    sub->footer("Examples:\n  edgeship inspect model.onnx\n  edgeship inspect model.onnx --json | jq .inputs\n\n"
                "Exits 3 when the checker or shape inference finds problems (the report is still printed).");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_inspect(const InspectOptions& opts, Context& ctx) {
    model::InspectOptions mo;
    mo.strict_shapes = opts.strict_shapes ? model::StrictShapes::yes : model::StrictShapes::no;
    EDGESHIP_TRY_ASSIGN(auto report, model::inspect_model(opts.model, mo));
    if (opts.json) {
        ctx.io.out << model::report_to_json(report).dump(2) << '\n';
    } else {
        print_text(report, ctx.io.out);
    }
    return model::require_valid(opts.model, report.findings);
}

} // namespace edgeship::cli
