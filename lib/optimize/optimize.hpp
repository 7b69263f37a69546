#pragma once

// The optimize facade: one call applies the requested passes in a fixed order (opset conversion, then
// float16 or int8 quantization) and stamps what was done into metadata_props. `edgeship optimize` and
// `edgeship convert --fp16/--quantize` both go through here.

#include "core/log.hpp"
#include "core/result.hpp"
#include "optimize/external_data.hpp"
#include "optimize/float16.hpp"
#include "optimize/opset.hpp"
#include "optimize/quantize.hpp"

#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::optimize {

enum class DryRun { no, yes };

/// What to do. Every field defaults to "leave the model alone".
struct OptimizeOptions {
    std::optional<std::int64_t> opset;       ///< convert ai.onnx to this opset first
    std::optional<Fp16Options> fp16;         ///< set to run the float16 pass
    QuantizeMode quantize = QuantizeMode::none;
    PerChannel per_channel = PerChannel::no; ///< with quantize: one weight scale per output channel
    std::filesystem::path calibration;       ///< static-int8: .npy or JSON rows
    ExternalData external_data = ExternalData::no; ///< optimize_file: weights to a side file
};

/// What was done, with sizes before and after. Pure data.
struct OptimizeReport {
    std::string input;   ///< optimize_file only
    std::string output;  ///< optimize_file only ("" on a dry run)
    std::uint64_t size_before = 0;  ///< bytes: serialized model (+ its external data)
    std::uint64_t size_after = 0;
    std::uint64_t parameter_count_before = 0; ///< initializer elements
    std::uint64_t parameter_count_after = 0;
    std::uint64_t parameter_bytes_before = 0; ///< initializer bytes
    std::uint64_t parameter_bytes_after = 0;
    std::vector<std::string> steps;           ///< "opset 13->17", "fp16", "dynamic-int8", "external-data"
    std::optional<OpsetChange> opset;
    std::optional<Fp16Stats> fp16;
    std::optional<QuantizeStats> quantize;
    std::optional<ExternalDataInfo> external_data;
};

/// Checks that the options make sense together (fp16 with int8, calibration without static-int8…);
/// failures are usage errors (exit 2).
Result<void> validate_options(const OptimizeOptions& options);

/// Applies the passes to an in-memory model whose weights are loaded (see load_external_data) and
/// stamps metadata_props with edgeship.optimize.* keys. Sizes in the report are serialized sizes of
/// the proto. `options.external_data` is ignored here (it concerns writing). On error `model` is in an
/// unspecified state; callers that need the original keep a copy. Not thread-safe per model.
Result<OptimizeReport> apply(onnx::ModelProto& model, const OptimizeOptions& options, const core::Logger& log);

/// Loads `input` (and its external data), applies the passes and writes `output` atomically, with
/// weights in `<output>.data` when options.external_data is yes. A model over protobuf's 2 GiB limit
/// without external data is refused before anything is written. Report sizes are file sizes.
/// DryRun::yes does everything but write.
Result<OptimizeReport> optimize_file(const std::filesystem::path& input, const std::filesystem::path& output,
                                     const OptimizeOptions& options, const core::Logger& log, DryRun dry_run = DryRun::no);

/// For a model about to be written to `output` with external data: adds the "external-data" step to
/// `report` and stamps edgeship.optimize.steps and edgeship.optimize.external_data (the side file's
/// name) on `model`. Shared by optimize_file and `convert --external-data`.
void stamp_external_data(onnx::ModelProto& model, OptimizeReport& report, const std::filesystem::path& output);

/// Elements and bytes over all initializers, subgraphs included (what `inspect` calls parameters).
std::pair<std::uint64_t, std::uint64_t> parameter_stats(const onnx::ModelProto& model);

/// The report as JSON with stable snake_case fields (docs/optimize.md).
nlohmann::json report_to_json(const OptimizeReport& report);

} // namespace edgeship::optimize
