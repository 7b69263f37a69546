#include "cli/optimize_commands.hpp"
#include "cli/format.hpp"

#include "optimize/optimize.hpp"

#include <iomanip>
#include <sstream>

namespace edgeship::cli {

namespace {

constexpr const char* k_footer = R"(Examples:
  edgeship optimize model.onnx -o model.fp16.onnx --fp16
  edgeship optimize model.onnx -o model.int8.onnx --quantize dynamic-int8 --per-channel
  edgeship optimize model.onnx -o model.qdq.onnx --quantize static-int8 --calibration rows.npy
  edgeship optimize model.onnx -o model17.onnx --opset 17 --json
  edgeship optimize big.onnx -o big.opt.onnx --fp16 --external-data   (weights in big.opt.onnx.data)

Passes run in this order: --opset, then --fp16 or --quantize. Graph inputs and outputs stay float32.
Size and parameter bytes before/after go to stdout; metadata_props records what was done
(edgeship.optimize.*). Exit codes: 0 ok, 1 failure (nothing written), 2 usage error.)";

std::string ratio(std::uint64_t before, std::uint64_t after) {
    if (after == 0 || before == after) {
        return "";
    }
    std::ostringstream s;
    s << std::fixed << std::setprecision(2);
    if (after < before) {
        s << " (" << static_cast<double>(before) / static_cast<double>(after) << "x smaller)";
    } else {
        s << " (" << static_cast<double>(after) / static_cast<double>(before) << "x larger)";
    }
    return s.str();
}

void print_text(const optimize::OptimizeReport& r, bool dry_run, std::ostream& out) {
    out << (dry_run ? "would write: " : "wrote:           ") << (dry_run ? "(dry run, nothing written)" : r.output);
    if (r.external_data) {
        out << " + " << r.external_data->location << " (" << r.external_data->tensors << " tensors)";
    }
    out << '\n';
    out << "size:            " << human_bytes(r.size_before) << " -> " << human_bytes(r.size_after)
        << ratio(r.size_before, r.size_after) << '\n';
    out << "parameter bytes: " << human_bytes(r.parameter_bytes_before) << " -> " << human_bytes(r.parameter_bytes_after)
        << ratio(r.parameter_bytes_before, r.parameter_bytes_after) << '\n';
    if (r.opset) {
        out << "opset:           " << r.opset->from << " -> " << r.opset->to << " (IR " << r.opset->ir_from << " -> "
            << r.opset->ir_to << ")\n";
    }
    if (r.fp16) {
        out << "fp16:            " << r.fp16->nodes_fp16 << " nodes in float16, " << r.fp16->nodes_fp32
            << " kept float32";
        std::string sep = ": ";
        for (const auto& [op, n] : r.fp16->kept_ops) {
            out << sep << op << " x" << n;
            sep = ", ";
        }
        out << "; " << r.fp16->casts_added << " casts added\n";
    }
    if (r.quantize) {
        out << "quantize:        " << optimize::to_string(r.quantize->mode)
            << (r.quantize->per_channel == optimize::PerChannel::yes ? " per-channel" : " per-tensor") << ", "
            << r.quantize->nodes_quantized << " nodes";
        std::string sep = " (";
        for (const auto& [op, n] : r.quantize->quantized_ops) {
            out << sep << op << " x" << n;
            sep = ", ";
        }
        out << (r.quantize->quantized_ops.empty() ? "" : ")");
        if (r.quantize->mode == optimize::QuantizeMode::static_int8) {
            out << ", " << r.quantize->activations_calibrated << " activations calibrated on "
                << r.quantize->calibration_rows << " rows";
        }
        out << '\n';
    }
}

std::set<std::string> split_ops(const std::vector<std::string>& items) {
    std::set<std::string> ops;
    for (const auto& item : items) {
        std::stringstream ss(item);
        std::string op;
        while (std::getline(ss, op, ',')) {
            if (!op.empty()) {
                ops.insert(op);
            }
        }
    }
    return ops;
}

} // namespace

void add_optimization_flags(CLI::App* sub, OptimizationFlags& f) {
    sub->add_flag("--fp16", f.fp16, "Weights and compute to float16; inputs/outputs stay float32 behind Casts");
    sub->add_option("--fp16-block", f.fp16_block, "Also keep these op types in float32 (comma-separated)");
    sub->add_option("--fp16-allow", f.fp16_allow,
                    "Convert these op types although the default block list keeps them float32 (e.g. ReduceMean)");
    sub->add_option("--quantize", f.quantize, "int8 quantization: dynamic-int8 or static-int8");
    sub->add_flag("--per-channel", f.per_channel, "One weight scale per output channel instead of per tensor");
    sub->add_option("--calibration", f.calibration,
                    "static-int8: representative input rows, a .npy file or a JSON array of rows");
}

void add_external_data_flag(CLI::App* sub, OptimizationFlags& f) {
    sub->add_flag("--external-data", f.external_data,
                  "Store the weights in OUTPUT.data beside the model (needed above protobuf's 2 GiB limit)");
}

Result<optimize::OptimizeOptions> optimization_options(const OptimizationFlags& flags) {
    optimize::OptimizeOptions o;
    if (flags.fp16) {
        optimize::Fp16Options f;
        for (const auto& op : split_ops(flags.fp16_block)) {
            f.block_list.insert(op);
        }
        for (const auto& op : split_ops(flags.fp16_allow)) {
            f.block_list.erase(op);
        }
        o.fp16 = f;
    } else if (!flags.fp16_block.empty() || !flags.fp16_allow.empty()) {
        return unexpected(Error("--fp16-block/--fp16-allow need --fp16", ExitCode::usage));
    }
    if (!flags.quantize.empty()) {
        EDGESHIP_TRY_ASSIGN(o.quantize, optimize::parse_quantize_mode(flags.quantize));
    }
    o.per_channel = flags.per_channel ? optimize::PerChannel::yes : optimize::PerChannel::no;
    o.calibration = flags.calibration;
    o.external_data = flags.external_data ? optimize::ExternalData::yes : optimize::ExternalData::no;
    return o;
}

void register_optimize(CLI::App& parent, Context& ctx, Runner<OptimizeOptions> run) {
    auto opts = std::make_shared<OptimizeOptions>();
    auto* sub = parent.add_subcommand(
        "optimize", "Shrink an ONNX model for the edge: float16, int8 quantization, opset conversion, external data");
    sub->add_option("MODEL", opts->input, "The .onnx file (external data is read next to it)")->required();
    sub->add_option("-o,--output", opts->output, "Where to write the optimized model (written atomically)")->required();
    add_optimization_flags(sub, opts->passes);
    add_external_data_flag(sub, opts->passes);
    sub->add_option("--opset", opts->opset, "Convert ai.onnx to this opset first (ONNX version converter)");
    sub->add_flag("--json", opts->json, "Print the report as JSON (stable snake_case fields)");
    sub->add_flag("--dry-run", opts->dry_run, "Run the passes and print the report, but write nothing");
    sub->footer(k_footer);
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_optimize(const OptimizeOptions& opts, Context& ctx) {
    if (opts.output == "-") {
        return unexpected(Error("-o -: an optimized model is binary and is not written to stdout", ExitCode::usage)
                              .hint("name an output file; the report goes to stdout"));
    }
    EDGESHIP_TRY_ASSIGN(optimize::OptimizeOptions o, optimization_options(opts.passes));
    if (opts.opset) {
        o.opset = *opts.opset;
    }

    EDGESHIP_TRY(optimize::validate_options(o)); // flag combinations fail before any work starts
    ctx.console.info("optimizing " + opts.input);
    auto report = optimize::optimize_file(opts.input, opts.output, o, ctx.console.logger(),
                                          opts.dry_run ? optimize::DryRun::yes : optimize::DryRun::no);
    if (!report) {
        return unexpected(std::move(report).error().context("optimizing " + opts.input));
    }
    if (opts.json) {
        auto j = optimize::report_to_json(*report);
        j["dry_run"] = opts.dry_run;
        ctx.io.out << j.dump(2) << '\n';
    } else {
        print_text(*report, opts.dry_run, ctx.io.out);
    }
    return {};
}

} // namespace edgeship::cli
