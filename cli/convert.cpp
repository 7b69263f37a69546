#include "cli/convert_commands.hpp"

#include "edgeship/version_info.hpp"
#include "model/convert.hpp"

#include <CLI/CLI.hpp>

namespace edgeship::cli {

namespace {

constexpr const char* k_footer = R"(Examples:
  edgeship convert model.json -o model.onnx            XGBoost JSON/UBJ, format detected from content
  edgeship convert model.txt -o model.onnx --json      LightGBM text model; report as JSON
  edgeship convert model.json -o m.onnx --best-iteration   keep trees up to best_iteration (as XGBClassifier predicts)
  edgeship convert model.json -o m.onnx --margin       raw margins instead of probabilities
  edgeship convert old.onnx -o new.onnx --opset 17     re-emit ONNX, upgraded by the ONNX version converter

Outputs: regressors 'prediction' [batch, targets]; classifiers 'label' [batch] and 'probabilities'
[batch, classes]; binary:hinge 'label'; --margin 'margin'. The input is 'features' float [batch, F].
Exit codes: 0 written, 1 unreadable or unsupported model, 2 usage, 3 structural validation failed.
Nothing is left at -o when conversion fails. See docs/convert.md.)";

} // namespace

void register_convert(CLI::App& parent, Context& ctx, Runner<ConvertOptions> run) {
    auto opts = std::make_shared<ConvertOptions>();
    auto* sub = parent.add_subcommand(
        "convert", "Convert an XGBoost (JSON/UBJ) or LightGBM (text) model to ONNX, or re-emit an ONNX model");
    sub->add_option("MODEL", opts->model, "The model file: XGBoost .json/.ubj, LightGBM .txt, or .onnx")->required();
    sub->add_option("-o,--output", opts->output, "The .onnx file to write (- for stdout)")->required();
    sub->add_option("--from", opts->from, "Source format (default: detected from the content)")
        ->check(CLI::IsMember({"xgboost", "lightgbm", "onnx"}));
    sub->add_option("--opset", opts->opset,
                    "ai.onnx opset: 13-17 for tree models (default 17); for ONNX input, convert to this opset");
    sub->add_option("--name", opts->name, "Graph name (default: the input's file name without extension)");
    sub->add_flag("--margin", opts->margin, "Output raw margins (before sigmoid/softmax/exp) as 'margin'");
    sub->add_flag("--best-iteration", opts->best_iteration,
                  "Keep only the trees up to the model's best_iteration (XGBoost early stopping)");
    sub->add_flag("--json", opts->json, "Print the conversion report as JSON (stable snake_case fields)");
    sub->footer(k_footer);
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_convert(const ConvertOptions& opts, Context& ctx) {
    if (opts.output == "-" && opts.json) {
        return unexpected(Error("--json cannot be combined with -o - (both would go to stdout)", ExitCode::usage)
                              .hint("write the model to a file with -o FILE.onnx"));
    }
    model::ConvertOptions mo;
    mo.input = opts.model;
    if (!opts.from.empty()) {
        mo.from = *model::parse_source_format(opts.from); // CLI11 already checked membership
    }
    if (opts.opset != 0) {
        mo.opset = opts.opset;
    }
    mo.name = opts.name;
    mo.output = opts.margin ? model::OutputKind::margin : model::OutputKind::prediction;
    mo.iterations = opts.best_iteration ? model::IterationLimit::best_iteration : model::IterationLimit::all;
    mo.edgeship_version = build_info::k_version;

    EDGESHIP_TRY_ASSIGN(auto conversion, model::convert_model(mo, ctx.console.logger()));
    if (opts.output == "-") {
        EDGESHIP_TRY_ASSIGN(std::string bytes, model::serialize_conversion(conversion));
        ctx.io.out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    } else {
        auto written = model::write_conversion(conversion, opts.output);
        if (!written) {
            return unexpected(std::move(written).error().context("writing " + opts.output));
        }
    }
    const auto& r = conversion.report;
    if (opts.json) {
        ctx.io.out << model::report_to_json(r).dump(2) << '\n';
        return {};
    }
    std::string what = r.source_format + " " + r.source_version + ", " + r.objective;
    if (r.source_format != "onnx") {
        what += ", " + std::to_string(r.trees) + " trees, " + std::to_string(r.features) + " features";
    }
    std::string outs;
    for (const auto& o : r.outputs) {
        outs += (outs.empty() ? "" : ", ") + o;
    }
    ctx.console.info("converted " + r.input + " (" + what + ") -> " + r.output + " [outputs: " + outs + "], sha256 " +
                     r.sha256);
    if (opts.output != "-") {
        ctx.io.out << r.output << '\n'; // the written path on stdout, so commands compose
    }
    return {};
}

} // namespace edgeship::cli
