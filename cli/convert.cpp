#include "cli/convert_commands.hpp"

#include "edgeship/version_info.hpp"
#include "core/fs.hpp"
#include "model/convert.hpp"
#include "model/framework_convert.hpp"
#include "optimize/optimize.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <fstream>

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

// scikit-learn and PyTorch files are read by the user's Python (docs/frameworks.md); everything else
// by edgeship's own readers. The two detectors never claim the same bytes.
enum class InputKind { tree_or_onnx, framework };

Result<InputKind> input_kind(const ConvertOptions& opts) {
    if (opts.from == "sklearn" || opts.from == "torch") {
        return InputKind::framework;
    }
    if (!opts.from.empty()) {
        return InputKind::tree_or_onnx;
    }
    std::ifstream in(opts.model, std::ios::binary);
    std::string head(64, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    if (!model::detect_format(head).empty()) {
        return InputKind::tree_or_onnx;
    }
    if (!model::detect_framework_format(head, opts.model).empty()) {
        return InputKind::framework;
    }
    if (head.empty()) {
        return InputKind::tree_or_onnx; // missing, unreadable or empty: the reader says which
    }
    return unexpected(Error(opts.model + ": unknown model format: not XGBoost JSON/UBJ, LightGBM text or ONNX, "
                                         "and not a scikit-learn pickle/joblib file or a PyTorch file")
                          .hint("name it with --from xgboost|lightgbm|onnx, or --from sklearn|torch for framework files"));
}

Result<model::Conversion> convert_framework_file(const ConvertOptions& opts, Context& ctx) {
    if (opts.margin || opts.best_iteration) {
        return unexpected(Error("--margin and --best-iteration apply to XGBoost/LightGBM models only", ExitCode::usage));
    }
    EDGESHIP_TRY_ASSIGN(auto fo, framework_convert_options(opts.framework, opts.model, opts.from, opts.opset, opts.name,
                                                           build_info::k_version, ctx));
    return model::convert_framework(fo, ctx.console.logger());
}

Result<model::Conversion> convert_tree_or_onnx(const ConvertOptions& opts, Context& ctx) {
    if (!opts.framework.input_shape.empty()) {
        return unexpected(Error("--input-shape applies to PyTorch models only", ExitCode::usage));
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
    return model::convert_model(mo, ctx.console.logger());
}

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
    if (opts.output == "-" && opts.passes.external_data) {
        return unexpected(Error("--external-data cannot be combined with -o - (the weights go to a file beside the "
                                "model)",
                                ExitCode::usage)
                              .hint("write the model to a file with -o FILE.onnx"));
    }
    // Flag combinations fail before any work starts.
    std::optional<optimize::OptimizeOptions> passes;
    if (opts.passes.any() || opts.passes.external_data) {
        EDGESHIP_TRY_ASSIGN(auto po, optimization_options(opts.passes));
        EDGESHIP_TRY(optimize::validate_options(po));
        passes = std::move(po);
    }
    if (!opts.framework.input_shape.empty()) {
        EDGESHIP_TRY(parse_input_shape(opts.framework.input_shape)); // syntax first, before any file is read
    }
    EDGESHIP_TRY_ASSIGN(InputKind kind, input_kind(opts));
    EDGESHIP_TRY_ASSIGN(auto conversion, kind == InputKind::framework ? convert_framework_file(opts, ctx)
                                                                       : convert_tree_or_onnx(opts, ctx));
    std::optional<optimize::OptimizeReport> optimized;
    if (passes) {
        auto applied = optimize::apply(conversion.model.proto(), *passes, ctx.console.logger());
        if (!applied) {
            return unexpected(std::move(applied).error().context("optimizing the converted " + opts.model));
        }
        optimized = std::move(*applied);
    }
    model::WriteOptions wo;
    if (opts.passes.external_data) {
        // Same layout and stamps as `optimize --external-data` (docs/optimize.md).
        wo.external_data = model::ExternalData::yes;
        optimize::stamp_external_data(conversion.model.proto(), *optimized, opts.output);
    }
    if (opts.output == "-") {
        EDGESHIP_TRY_ASSIGN(std::string bytes, model::serialize_conversion(conversion, wo));
        ctx.io.out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    } else {
        auto written = model::write_conversion(conversion, opts.output, wo);
        if (!written) {
            return unexpected(std::move(written).error().context("writing " + opts.output));
        }
        if (optimized && conversion.report.external_data) {
            optimized->external_data = conversion.report.external_data;
            optimized->size_after = conversion.report.output_bytes + conversion.report.external_data->bytes;
        }
    }
    const auto& r = conversion.report;
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
