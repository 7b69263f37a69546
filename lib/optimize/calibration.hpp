#pragma once

#include "core/result.hpp"
#include "optimize/evaluator.hpp"

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <map>
#include <string>

namespace edgeship::optimize {

/// Calibration rows for static quantization, stacked per graph input: each tensor is [rows, …per-row shape].
struct CalibrationData {
    std::filesystem::path path;
    std::string sha256;  ///< of the file, stamped into the model's metadata
    std::size_t rows = 0;
    std::map<std::string, Tensor> inputs;
};

/// Reads calibration rows for `model` from a NumPy .npy file (float32/float64, C order, shape
/// [rows, …]; single-input models) or a JSON file holding an array of rows, each a (nested) array of
/// numbers for single-input models or an object {input name: nested array}. Every row must match the
/// model input's shape without its first (batch) dimension; a mismatch names the file, the row, the
/// input and both shapes (exit 1). Only float inputs can be calibrated.
Result<CalibrationData> load_calibration(const std::filesystem::path& path, const onnx::ModelProto& model);

} // namespace edgeship::optimize
