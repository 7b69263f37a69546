#pragma once

#include "core/log.hpp"
#include "core/result.hpp"

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <map>
#include <set>
#include <string>

namespace edgeship::optimize {

/// Ops kept in float32 by default (docs/design/onnx.md §10.4): the ai.onnx.ml ops (the tree ensembles
/// before ml 5 take no float16), ops ONNX Runtime's CPU provider has no float16 kernel for or that lose
/// accuracy in it (ReduceMean gave NaN/zeros, onnxconverter-common#323), and ops whose output type comes
/// from an attribute this pass does not rewrite (Random*, EyeLike, Bernoulli, Multinomial).
/// Names are op types of the default domain; other domains are always kept float32.
const std::set<std::string>& default_fp16_block_list();

struct Fp16Options {
    std::set<std::string> block_list = default_fp16_block_list(); ///< op types kept in float32
    float max_finite = 65504.0f;          ///< values are clipped to ±max_finite (the float16 maximum)
    float min_positive = 5.9604645e-08f;  ///< non-zero magnitudes below this become ±min_positive (2^-24)
};

struct Fp16Stats {
    std::size_t nodes_fp16 = 0;      ///< nodes that now compute in float16
    std::size_t nodes_fp32 = 0;      ///< nodes with float inputs/outputs kept in float32
    std::map<std::string, std::size_t> kept_ops; ///< op type -> count of those kept nodes
    std::size_t casts_added = 0;
    std::size_t tensors_converted = 0; ///< initializers and Constant values stored as float16
    std::size_t values_clipped = 0;    ///< weights clipped to ±max_finite
    std::size_t values_flushed = 0;    ///< tiny weights raised to ±min_positive
    std::size_t subgraphs_fp16 = 0;    ///< If/Loop/Scan bodies with float16 compute inside
    std::size_t subgraphs_fp32 = 0;    ///< bodies left float32 (nothing to convert, or types unknown)
};

/// Converts weights and compute to float16 in place. Graph inputs and outputs keep their float32 types
/// behind Cast nodes; blocked ops and other domains stay float32 with Casts around them. Control-flow
/// nodes (If/Loop/Scan) stay float32 at their boundary, and each body is converted as a graph of its
/// own whose formal inputs, outputs and outer-scope values keep their types (Casts inside the body), so
/// types agree across the boundary; a body whose boundary types are unknown stays float32; Cast(to=FLOAT) nodes, Constant/ConstantOfShape values and value_info follow
/// (onnxconverter-common#320). Weights must be loaded (no external data). The result is checked with
/// the ONNX checker and strict shape inference; a failure there is an error (exit 1) and `model` is
/// then unspecified. A model in which no op can compute in float16 is an error naming the kept ops.
Result<Fp16Stats> convert_to_float16(onnx::ModelProto& model, const Fp16Options& options, const core::Logger& log);

} // namespace edgeship::optimize
