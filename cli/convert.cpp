#include "cli/convert_commands.hpp"

#include "convert/convert_file.hpp"
#include "edgeship/version_info.hpp"

#include <CLI/CLI.hpp>

namespace edgeship::cli {

namespace {

constexpr const char* k_footer = R"(Examples:
  edgeship convert model.json -o model.onnx            XGBoost JSON/UBJ, format detected from content
  edgeship convert model.txt -o model.onnx --json      LightGBM text model; report as JSON
  edgeship convert model.json -o m.onnx --best-iteration   keep trees up to best_iteration (as XGBClassifier predicts)
  edgeship convert model.json -o m.onnx --margin       raw margins instead of probabilities
  edgeship convert old.onnx -o new.onnx --opset 17     re-emit ONNX, upgraded by the ONNX version converter
  edgeship convert big.onnx -o out.onnx --external-data   weights in out.onnx.data (models over 2 GiB)

Edge optimizations (docs/optimize.md):
  edgeship convert net.pt -o net.onnx --input-shape 1,8 --fp16        float16 weights, float32 I/O
  edgeship convert net.pt -o net.onnx --input-shape 1,8 --quantize dynamic-int8

Outputs: regressors 'prediction' [batch, targets]; classifiers 'label' [batch] and 'probabilities'
[batch, classes]; binary:hinge 'label'; --margin 'margin'. The input is 'features' float [batch, F].
Exit codes: 0 written, 1 unreadable or unsupported model, 2 usage, 3 structural validation failed.
Nothing is left at -o when conversion fails. ONNX input may keep its weights in external data (read
next to the model); the output inlines them unless --external-data is given. See docs/convert.md.)";

} // namespace

void register_convert(CLI::App& parent, Context& ctx, Runner<ConvertOptions> run) {
    auto opts = std::make_shared<ConvertOptions>();
    auto* sub = parent.add_subcommand(
        "convert", "Convert an XGBoost, LightGBM, scikit-learn or PyTorch model to ONNX, or re-emit an ONNX model");
    sub->add_option("MODEL", opts->model,
                    "The model file: XGBoost .json/.ubj, LightGBM .txt, scikit-learn .pkl/.joblib, PyTorch .pt, or .onnx")
        ->required();
    sub->add_option("-o,--output", opts->output, "The .onnx file to write (- for stdout)")->required();
    sub->add_option("--from", opts->from, "Source format (default: detected from the content)")
        ->check(CLI::IsMember({"xgboost", "lightgbm", "onnx", "sklearn", "torch"}));
    sub->add_option("--opset", opts->opset,
                    "ai.onnx opset: 13-17 for tree models (default 17); for ONNX input, convert to this opset");
    sub->add_option("--name", opts->name, "Graph name (default: the input's file name without extension)");
    sub->add_flag("--margin", opts->margin, "Output raw margins (before sigmoid/softmax/exp) as 'margin'");
    sub->add_flag("--best-iteration", opts->best_iteration,
                  "Keep only the trees up to the model's best_iteration (XGBoost early stopping)");
    sub->add_flag("--json", opts->json, "Print the conversion report as JSON (stable snake_case fields)");
    add_framework_options(sub, opts->framework);
    add_optimization_flags(sub, opts->passes);
    add_external_data_flag(sub, opts->passes);
    sub->footer(std::string(k_footer) + "\n\n" + k_framework_footer);
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_convert(const ConvertOptions& opts, Context& ctx) {
    if (opts.output == "-" && opts.json) {
        return unexpected(Error("--json cannot be combined with -o - (both would go to stdout)", ExitCode::usage)
                              .hint("write the model to a file with -o FILE.onnx"));
    }
    convert::ConvertRequest req;
    req.input = opts.model;
    req.output = opts.output;
    req.from = opts.from;
    if (opts.opset != 0) {
        req.opset = opts.opset;
    }
    req.name = opts.name;
    req.output_kind = opts.margin ? model::OutputKind::margin : model::OutputKind::prediction;
    req.iterations = opts.best_iteration ? model::IterationLimit::best_iteration : model::IterationLimit::all;
    if (opts.passes.any() || opts.passes.external_data) {
        EDGESHIP_TRY_ASSIGN(req.passes, optimization_options(opts.passes));
    }
    req.external_data = opts.passes.external_data ? model::ExternalData::yes : model::ExternalData::no;
    const bool framework_from = opts.from == "sklearn" || opts.from == "torch";
    EDGESHIP_TRY_ASSIGN(req.framework, framework_convert_options(opts.framework, opts.model,
                                                                 framework_from ? opts.from : "", opts.opset, opts.name,
                                                                 build_info::k_version, ctx));
    req.edgeship_version = build_info::k_version;
    req.log = ctx.console.logger();
    EDGESHIP_TRY_ASSIGN(auto done, convert::convert_file(req));

    if (opts.output == "-") {
        ctx.io.out.write(done.bytes.data(), static_cast<std::streamsize>(done.bytes.size()));
    }
    const auto& r = done.conversion;
    const auto& optimized = done.optimized;
    if (opts.json) {
        auto j = model::report_to_json(r);
        if (optimized) {
            j["optimize"] = optimize::report_to_json(*optimized);
        }
        ctx.io.out << j.dump(2) << '\n';
        return {};
    }
    if (optimized) {
        std::string steps;
        for (const auto& step : optimized->steps) {
            steps += (steps.empty() ? "" : ", ") + step;
        }
        ctx.console.info("optimized (" + steps + "): " + std::to_string(optimized->size_before) + " -> " +
                         std::to_string(optimized->size_after) + " bytes");
    }
    std::string what = r.source_format + " " + r.source_version + ", " + r.objective;
    if (r.trees > 0) {
        what += ", " + std::to_string(r.trees) + " trees, " + std::to_string(r.features) + " features";
    }
    std::string outs;
    for (const auto& o : r.outputs) {
        outs += (outs.empty() ? "" : ", ") + o;
    }
    std::string written = r.output;
    if (r.external_data) {
        written += " + " + r.external_data->location + " (" + std::to_string(r.external_data->tensors) + " tensors, " +
                   std::to_string(r.external_data->bytes) + " bytes)";
    }
    ctx.console.info("converted " + r.input + " (" + what + ") -> " + written + " [outputs: " + outs + "], sha256 " +
                     r.sha256);
    if (opts.output != "-") {
        ctx.io.out << r.output << '\n'; // the written path on stdout, so commands compose
    }
    return {};
}

} // namespace edgeship::cli
