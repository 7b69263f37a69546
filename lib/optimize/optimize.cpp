#include "optimize/optimize.hpp"

#include "core/fs.hpp"
#include "model/onnx_model.hpp"
#include "optimize/calibration.hpp"
#include "optimize/detail/tensor_data.hpp"

#include <functional>
#include <sstream>

namespace edgeship::optimize {
namespace fs = std::filesystem;

using model::set_metadata;

namespace {


std::string join(const std::vector<std::string>& parts, const char* sep) {
    std::string out;
    for (const auto& p : parts) {
        out += (out.empty() ? "" : sep) + p;
    }
    return out;
}

Error usage(std::string msg) { return Error(std::move(msg), ExitCode::usage); }

} // namespace

std::pair<std::uint64_t, std::uint64_t> parameter_stats(const onnx::ModelProto& model) {
    // Subgraph (If/Loop/Scan body) initializers count too, as in `inspect`.
    std::uint64_t count = 0, bytes = 0;
    std::function<void(const onnx::GraphProto&)> walk = [&](const onnx::GraphProto& g) {
        for (const auto& t : g.initializer()) {
            std::uint64_t n = detail::element_count(t);
            count += n;
            if (t.data_type() == onnx::TensorProto::STRING) {
                for (const auto& s : t.string_data()) {
                    bytes += s.size();
                }
            } else {
                bytes += n * model::element_size(t.data_type());
            }
        }
        for (const auto& node : g.node()) {
            for (const auto& a : node.attribute()) {
                if (a.has_g()) {
                    walk(a.g());
                }
                for (const auto& sub : a.graphs()) {
                    walk(sub);
                }
            }
        }
    };
    walk(model.graph());
    return {count, bytes};
}

Result<void> validate_options(const OptimizeOptions& o) {
    if (o.fp16 && o.quantize != QuantizeMode::none) {
        return unexpected(usage("--fp16 and --quantize cannot be combined").hint("choose float16 or int8"));
    }
    if (o.quantize == QuantizeMode::static_int8 && o.calibration.empty()) {
        return unexpected(usage("--quantize static-int8 needs --calibration DATA (.npy or JSON rows)")
                              .hint("pass a few hundred representative input rows"));
    }
    if (!o.calibration.empty() && o.quantize != QuantizeMode::static_int8) {
        return unexpected(usage("--calibration is only used with --quantize static-int8"));
    }
    if (o.per_channel == PerChannel::yes && o.quantize == QuantizeMode::none) {
        return unexpected(usage("--per-channel needs --quantize"));
    }
    return {};
}

Result<OptimizeReport> apply(onnx::ModelProto& model, const OptimizeOptions& options, const core::Logger& log) {
    EDGESHIP_TRY(validate_options(options));
    OptimizeReport report;
    report.size_before = model.ByteSizeLong();
    std::tie(report.parameter_count_before, report.parameter_bytes_before) = parameter_stats(model);

    if (options.opset) {
        auto change = convert_opset(model, *options.opset, log);
        if (!change) {
            return unexpected(std::move(change).error().context("--opset " + std::to_string(*options.opset)));
        }
        report.opset = *change;
        if (change->from != change->to) {
            report.steps.push_back("opset " + std::to_string(change->from) + "->" + std::to_string(change->to));
            set_metadata(model, "edgeship.optimize.opset", std::to_string(change->from) + "->" + std::to_string(change->to));
        }
    }
    if (options.fp16) {
        auto stats = convert_to_float16(model, *options.fp16, log);
        if (!stats) {
            return unexpected(std::move(stats).error().context("--fp16"));
        }
        report.fp16 = *stats;
        report.steps.push_back("fp16");
        std::vector<std::string> kept;
        for (const auto& [op, n] : stats->kept_ops) {
            kept.push_back(op + "x" + std::to_string(n));
        }
        set_metadata(model, "edgeship.optimize.fp16",
                     "io=float32; kept_float32=" + (kept.empty() ? std::string("none") : join(kept, ",")));
    }
    if (options.quantize == QuantizeMode::dynamic_int8) {
        auto stats = quantize_dynamic(model, options.per_channel, log);
        if (!stats) {
            return unexpected(std::move(stats).error().context("--quantize dynamic-int8"));
        }
        report.quantize = *stats;
    } else if (options.quantize == QuantizeMode::static_int8) {
        auto data = load_calibration(options.calibration, model);
        if (!data) {
            return unexpected(std::move(data).error().context("--calibration"));
        }
        auto stats = quantize_static(model, *data, options.per_channel, log);
        if (!stats) {
            return unexpected(std::move(stats).error().context("--quantize static-int8"));
        }
        report.quantize = *stats;
        set_metadata(model, "edgeship.optimize.calibration",
                     data->path.filename().string() + " sha256:" + data->sha256 + " rows=" + std::to_string(data->rows) +
                         " method=minmax");
    }
    if (report.quantize) {
        report.steps.push_back(to_string(options.quantize));
        set_metadata(model, "edgeship.optimize.quantize", to_string(options.quantize));
        set_metadata(model, "edgeship.optimize.per_channel", options.per_channel == PerChannel::yes ? "true" : "false");
    }
    std::tie(report.parameter_count_after, report.parameter_bytes_after) = parameter_stats(model);
    set_metadata(model, "edgeship.optimize.steps", report.steps.empty() ? "none" : join(report.steps, ","));
    set_metadata(model, "edgeship.optimize.parameter_bytes",
                 std::to_string(report.parameter_bytes_before) + "->" + std::to_string(report.parameter_bytes_after));
    report.size_after = model.ByteSizeLong();
    return report;
}

void stamp_external_data(onnx::ModelProto& model, OptimizeReport& report, const fs::path& output) {
    report.steps.push_back("external-data");
    set_metadata(model, "edgeship.optimize.steps", join(report.steps, ","));
    set_metadata(model, "edgeship.optimize.external_data", model::external_data_location(output));
}

Result<OptimizeReport> optimize_file(const fs::path& input, const fs::path& output, const OptimizeOptions& options,
                                     const core::Logger& log, DryRun dry_run) {
    EDGESHIP_TRY(validate_options(options));
    std::uint64_t external_before = 0;
    EDGESHIP_TRY_ASSIGN(auto loaded, model::load_model_with_data(input, &external_before));
    EDGESHIP_TRY_ASSIGN(auto report, apply(loaded.proto, options, log));
    report.input = input.string();
    report.size_before = loaded.file_size + external_before;
    set_metadata(loaded.proto, "edgeship.optimize.source_sha256", loaded.sha256);
    if (options.external_data == ExternalData::yes) {
        stamp_external_data(loaded.proto, report, output);
    } else if (loaded.proto.ByteSizeLong() > model::k_protobuf_limit) {
        return unexpected(Error(output.string() + ": the optimized model is " +
                                std::to_string(loaded.proto.ByteSizeLong() >> 20) +
                                " MiB, over protobuf's 2 GiB limit for one file")
                              .hint("add --external-data to store the weights in a side file"));
    }
    if (dry_run == DryRun::yes) {
        report.size_after = loaded.proto.ByteSizeLong();
        return report;
    }
    report.output = output.string();
    if (options.external_data == ExternalData::yes) {
        EDGESHIP_TRY_ASSIGN(auto info, save_with_external_data(loaded.proto, output));
        report.external_data = info;
        EDGESHIP_TRY_ASSIGN(auto model_size, core::regular_file_size(output));
        report.size_after = model_size + info.bytes;
    } else {
        EDGESHIP_TRY(model::save_model(loaded.proto, output));
        EDGESHIP_TRY_ASSIGN(auto model_size, core::regular_file_size(output));
        report.size_after = model_size;
    }
    return report;
}

nlohmann::json report_to_json(const OptimizeReport& r) {
    nlohmann::json j;
    j["input"] = r.input;
    j["output"] = r.output.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.output);
    j["size_before"] = r.size_before;
    j["size_after"] = r.size_after;
    j["parameter_count_before"] = r.parameter_count_before;
    j["parameter_count_after"] = r.parameter_count_after;
    j["parameter_bytes_before"] = r.parameter_bytes_before;
    j["parameter_bytes_after"] = r.parameter_bytes_after;
    j["size_ratio"] = r.size_after > 0 ? static_cast<double>(r.size_before) / static_cast<double>(r.size_after) : 0.0;
    j["steps"] = r.steps;
    j["opset"] = r.opset ? nlohmann::json{{"from", r.opset->from}, {"to", r.opset->to}, {"ir_from", r.opset->ir_from},
                                          {"ir_to", r.opset->ir_to}}
                         : nlohmann::json(nullptr);
    if (r.fp16) {
        j["fp16"] = {{"nodes_fp16", r.fp16->nodes_fp16},
                     {"nodes_fp32", r.fp16->nodes_fp32},
                     {"kept_ops", r.fp16->kept_ops},
                     {"casts_added", r.fp16->casts_added},
                     {"tensors_converted", r.fp16->tensors_converted},
                     {"values_clipped", r.fp16->values_clipped},
                     {"values_flushed", r.fp16->values_flushed},
                     {"subgraphs_fp16", r.fp16->subgraphs_fp16},
                     {"subgraphs_fp32", r.fp16->subgraphs_fp32}};
    } else {
        j["fp16"] = nullptr;
    }
    if (r.quantize) {
        j["quantize"] = {{"mode", to_string(r.quantize->mode)},
                         {"per_channel", r.quantize->per_channel == PerChannel::yes},
                         {"nodes_quantized", r.quantize->nodes_quantized},
                         {"quantized_ops", r.quantize->quantized_ops},
                         {"weights_quantized", r.quantize->weights_quantized},
                         {"activations_calibrated", r.quantize->activations_calibrated},
                         {"calibration_rows", r.quantize->calibration_rows}};
    } else {
        j["quantize"] = nullptr;
    }
    j["external_data"] = r.external_data ? nlohmann::json{{"location", r.external_data->location},
                                                          {"bytes", r.external_data->bytes},
                                                          {"tensors", r.external_data->tensors}}
                                         : nlohmann::json(nullptr);
    return j;
}

} // namespace edgeship::optimize
