#pragma once

#include "core/log.hpp"
#include "core/result.hpp"
#include "optimize/calibration.hpp"

#include <onnx/onnx_pb.h>

#include <map>
#include <string>
#include <string_view>

namespace edgeship::optimize {

enum class QuantizeMode { none, dynamic_int8, static_int8 };
enum class PerChannel { no, yes };

/// "dynamic-int8" / "static-int8" (and "none"); anything else fails naming the supported modes (exit 1).
Result<QuantizeMode> parse_quantize_mode(std::string_view text);
std::string to_string(QuantizeMode mode);

struct QuantizeStats {
    QuantizeMode mode = QuantizeMode::none;
    PerChannel per_channel = PerChannel::no;
    std::map<std::string, std::size_t> quantized_ops; ///< op type -> nodes quantized
    std::size_t nodes_quantized = 0;
    std::size_t weights_quantized = 0;   ///< float initializers stored as int8
    std::size_t activations_calibrated = 0; ///< static: values with calibrated scale/zero point
    std::size_t calibration_rows = 0;
};

/// Dynamic int8 (docs/design/onnx.md §10.5): every MatMul with a constant 2-D float weight and every
/// Gemm (transA = 0) with one becomes DynamicQuantizeLinear + MatMulInteger (uint8 activations
/// quantized at run time, int8 symmetric weights, per-tensor or per output column) + Cast + Mul by the
/// combined scale (+ Add of the bias for Gemm). Needs ai.onnx opset >= 11. Unused float weights are
/// dropped. A model with no such node is an error.
Result<QuantizeStats> quantize_dynamic(onnx::ModelProto& model, PerChannel per_channel, const core::Logger& log);

/// Static int8 in QDQ form (§10.5): the activation input of every MatMul/Gemm/Conv with a constant
/// float weight gets QuantizeLinear/DequantizeLinear with a scale and zero point derived from the
/// calibration data's MinMax range (uint8 with zero point 0 when the range is non-negative, int8
/// symmetric otherwise: §10.5 measured a uint8 zero point of 0 clipping negatives); weights are int8
/// symmetric behind DequantizeLinear (per output channel with PerChannel::yes, opset >= 13). Ranges
/// come from running the float model with the reference Evaluator; an op it cannot run is named.
Result<QuantizeStats> quantize_static(onnx::ModelProto& model, const CalibrationData& data, PerChannel per_channel,
                                      const core::Logger& log);

} // namespace edgeship::optimize
