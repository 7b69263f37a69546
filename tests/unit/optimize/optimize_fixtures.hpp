#pragma once

// Small ONNX models for the optimize tests, in the ONNX text syntax (docs/design/onnx.md §10.8), plus
// helpers to look inside the results.

#include "../model/model_fixtures.hpp"
#include "optimize/detail/graph_util.hpp"

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace edgeship::test {

/// 3 -> 4 -> 2 MLP with two Gemms (the second with transB) and a Relu.
inline const char* k_opt_mlp = R"(
<ir_version: 7, opset_import: ["" : 13]>
mlp (float[batch, 3] x) => (float[batch, 2] y)
<float[3, 4] w1 = {0.5, -1, 2, 0.25, -0.5, 1.5, -2, 1, 0.75, 0.1, -0.3, 0.9}, float[4] b1 = {0.1, -0.2, 0.3, 0},
 float[2, 4] w2 = {1, -1, 0.5, 2, -0.5, 0.25, 1, -1.5}, float[2] b2 = {0.5, -0.5}> {
  h = Gemm(x, w1, b1)
  r = Relu(h)
  y = Gemm <transB = 1> (r, w2, b2)
}
)";

/// Cast(to=FLOAT) from an int64 input, a Constant, and a float output.
inline const char* k_opt_cast_constant = R"(
<ir_version: 7, opset_import: ["" : 13]>
castconst (int64[N, 2] i, float[N, 2] x) => (float[N, 2] y) {
  f = Cast <to = 1> (i)
  c = Constant <value = float[2] {0.5, 100000.0}> ()
  s = Add(f, c)
  m = Mul(s, x)
  y = Relu(m)
}
)";

/// MatMul then ReduceMean (blocked by default) then Mul by an initializer.
inline const char* k_opt_reduce = R"(
<ir_version: 7, opset_import: ["" : 13]>
reduce (float[N, 2] x) => (float[N, 1] y)
<float[2, 3] w = {1, 2, 3, 4, 5, 6}, float[1] k = {2}> {
  h = MatMul(x, w)
  m = ReduceMean <axes = [1]> (h)
  y = Mul(m, k)
}
)";

/// Only an ai.onnx.ml tree ensemble.
inline const char* k_opt_tree = R"(
<ir_version: 8, opset_import: ["" : 17, "ai.onnx.ml" : 3]>
tree (float[N, 1] X) => (float[N, 1] Y) {
  Y = ai.onnx.ml.TreeEnsembleRegressor <n_targets = 1,
    nodes_treeids = [0, 0, 0], nodes_nodeids = [0, 1, 2], nodes_featureids = [0, 0, 0],
    nodes_modes = ["BRANCH_LT", "LEAF", "LEAF"], nodes_values = [0.5, 0.0, 0.0],
    nodes_truenodeids = [1, 0, 0], nodes_falsenodeids = [2, 0, 0],
    target_treeids = [0, 0], target_nodeids = [1, 2], target_ids = [0, 0],
    target_weights = [1.0, 2.0]> (X)
}
)";

/// A tiny CNN: Conv (pads 1) -> Relu -> MaxPool 2x2 -> GlobalAveragePool -> Flatten -> Gemm.
inline const char* k_opt_cnn = R"(
<ir_version: 7, opset_import: ["" : 13]>
cnn (float[N, 1, 4, 4] x) => (float[N, 2] y)
<float[2, 1, 3, 3] cw = {0, 1, 0, 1, -4, 1, 0, 1, 0, 0.1, 0.2, 0.1, 0.2, 0.4, 0.2, 0.1, 0.2, 0.1}, float[2] cb = {0.5, -0.5},
 float[2, 2] fw = {1, -1, 2, 0.5}, float[2] fb = {0, 1}> {
  c = Conv <pads = [1, 1, 1, 1], kernel_shape = [3, 3]> (x, cw, cb)
  r = Relu(c)
  p = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (r)
  g = GlobalAveragePool(p)
  f = Flatten(g)
  y = Gemm(f, fw, fb)
}
)";

inline std::vector<std::string> op_types(const onnx::ModelProto& m) {
    std::vector<std::string> ops;
    for (const auto& n : m.graph().node()) {
        ops.push_back(n.op_type());
    }
    return ops;
}

inline const onnx::TensorProto* find_initializer(const onnx::ModelProto& m, const std::string& name) {
    for (const auto& t : m.graph().initializer()) {
        if (t.name() == name) {
            return &t;
        }
    }
    return nullptr;
}

inline std::string metadata(const onnx::ModelProto& m, const std::string& key) {
    for (const auto& kv : m.metadata_props()) {
        if (kv.key() == key) {
            return kv.value();
        }
    }
    return "<absent>";
}

} // namespace edgeship::test
