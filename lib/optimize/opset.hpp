#pragma once

#include "core/log.hpp"
#include "core/result.hpp"
#include "model/onnx_model.hpp"

#include <onnx/onnx_pb.h>

#include <cstdint>

namespace edgeship::optimize {

struct OpsetChange {
    std::int64_t from = 0;
    std::int64_t to = 0;
    std::int64_t ir_from = 0;
    std::int64_t ir_to = 0;
};

/// The IR version docs/Versioning.md pairs with an ai.onnx opset (docs/design/onnx.md §10.1).
using model::ir_version_for_opset;

/// Highest ai.onnx opset this build's ONNX knows (17 for Debian's ONNX 1.12).
std::int64_t max_supported_opset();

/// Converts the default domain to `target` with onnx::version_conversion::ConvertVersion and sets
/// ir_version itself (the converter does not, §10.1); ai.onnx.ml nodes are left as they are. Model
/// fields the converter drops (metadata, producer, doc string) are kept. A downgrade or upgrade without
/// an adapter fails naming the op and versions (exit 1); a target above max_supported_opset() fails
/// before trying. A target equal to the current opset is a no-op.
Result<OpsetChange> convert_opset(onnx::ModelProto& model, std::int64_t target, const core::Logger& log);

} // namespace edgeship::optimize
