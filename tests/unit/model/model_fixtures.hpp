#pragma once

// Builds small ONNX models in memory from the ONNX text syntax (docs/design/onnx.md §2), so model tests
// need no Python and no binary fixtures.

#include <onnx/defs/parser.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace edgeship::test {

inline onnx::ModelProto parse_onnx_text(const std::string& text) {
    onnx::ModelProto m;
    auto status = onnx::OnnxParser::Parse(m, text.c_str());
    if (!status.IsOK()) {
        throw std::runtime_error("fixture does not parse: " + status.ErrorMessage());
    }
    return m;
}

inline void save_proto(const onnx::ModelProto& m, const std::filesystem::path& p) {
    std::ofstream out(p, std::ios::binary);
    m.SerializeToOstream(&out);
}

/// The §2 minimal tree regressor: one split at 0.5, NaN to the true branch.
inline const char* k_tiny_tree = R"(
<ir_version: 8, opset_import: ["" : 17, "ai.onnx.ml" : 3]>
tiny (float[N, 1] X) => (float[N, 1] Y) {
  Y = ai.onnx.ml.TreeEnsembleRegressor <n_targets = 1,
    nodes_treeids = [0, 0, 0], nodes_nodeids = [0, 1, 2], nodes_featureids = [0, 0, 0],
    nodes_modes = ["BRANCH_LT", "LEAF", "LEAF"], nodes_values = [0.5, 0.0, 0.0],
    nodes_truenodeids = [1, 0, 0], nodes_falsenodeids = [2, 0, 0],
    nodes_missing_value_tracks_true = [1, 0, 0],
    target_treeids = [0, 0], target_nodeids = [1, 2], target_ids = [0, 0],
    target_weights = [1.0, 2.0], base_values = [0.25]> (X)
}
)";

/// A small MLP with initializers: 3 -> 4 -> 2.
inline const char* k_mlp = R"(
<ir_version: 8, opset_import: ["" : 13]>
mlp (float[batch, 3] x) => (float[batch, 2] y)
<float[3, 4] w1 = {1,2,3,4,5,6,7,8,9,10,11,12}, float[4] b1 = {0,0,0,0},
 float[4, 2] w2 = {1,1,1,1,1,1,1,1}, float[2] b2 = {0.5, -0.5}> {
  h = Gemm(x, w1, b1)
  r = Relu(h)
  y = Gemm(r, w2, b2)
}
)";

} // namespace edgeship::test
