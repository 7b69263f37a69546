#pragma once

// A model file in, an ONNX file out: the whole of `edgeship convert`, and the convert step of
// `edgeship ship`, as one library call. Which reader runs (edgeship's own for XGBoost, LightGBM and
// ONNX; the user's Python for scikit-learn and PyTorch files), the optimization passes, external data
// and the atomic write are decided here and nowhere else.

#include "core/log.hpp"
#include "core/result.hpp"
#include "model/convert.hpp"
#include "model/framework_convert.hpp"
#include "optimize/optimize.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace edgeship::convert {

struct ConvertRequest {
    std::filesystem::path input;
    /// The .onnx file to write, atomically; "-" returns the bytes in ConvertReport::bytes instead.
    std::filesystem::path output;
    std::string from;                  ///< "", xgboost, lightgbm, onnx, sklearn, torch ("" = detect from content)
    std::optional<std::int64_t> opset; ///< trees/frameworks: the opset to emit; ONNX input: convert to it
    std::string name;                  ///< graph name ("" = the input's file stem)
    /// XGBoost/LightGBM only (a usage error for framework files): raw margins, best_iteration.
    model::OutputKind output_kind = model::OutputKind::prediction;
    model::IterationLimit iterations = model::IterationLimit::all;
    /// Framework files: the Python, pickle trust, input shape and names. Its input, kind, opset, name and
    /// edgeship_version are taken from this request. A non-empty input_shape is a usage error for
    /// anything but a framework file.
    model::FrameworkConvertOptions framework;
    std::optional<optimize::OptimizeOptions> passes; ///< --opset/--fp16/--quantize after conversion
    model::ExternalData external_data = model::ExternalData::no; ///< weights to "<output>.data"
    std::string edgeship_version;      ///< recorded as producer_version and edgeship.version
    core::Logger log;
};

struct ConvertReport {
    model::ConvertReport conversion;
    /// Set when passes ran or external data was written (sizes then count the side file too).
    std::optional<optimize::OptimizeReport> optimized;
    std::string bytes; ///< the serialized model when output is "-"; empty otherwise
};

/// Who reads a model file.
enum class Reader {
    edgeship, ///< XGBoost JSON/UBJ, LightGBM text, ONNX: model::convert_model
    python,   ///< scikit-learn pickle/joblib, PyTorch: model::convert_framework
};

/// The reader for `input`: named by `from` when given, else detected from the file's first bytes
/// (model::detect_format, then model::detect_framework_format; the two never claim the same bytes).
/// A missing, unreadable or empty file goes to edgeship's readers, whose error says which. Bytes neither
/// detector knows: exit 1, "<input>: unknown model format: …" with a --from hint.
Result<Reader> choose_reader(const std::filesystem::path& input, std::string_view from);

/// model::detect_format over the first bytes of `path` ("" when unreadable or unknown).
std::string detect_file_format(const std::filesystem::path& path);

/// Converts `request.input` and writes `request.output`. Option combinations are checked before any file
/// is read (exit 2); then the reader runs (its errors as model::convert_model / convert_framework give
/// them, validation included: exit 3), the passes (errors in "optimizing the converted <input>"), and one
/// write (errors in "writing <output>"). On any error nothing is left at the output or its .data file.
Result<ConvertReport> convert_file(const ConvertRequest& request);

} // namespace edgeship::convert
