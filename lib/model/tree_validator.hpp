#pragma once

// Our own structural validation of ai.onnx.ml TreeEnsembleRegressor / TreeEnsembleClassifier nodes.
// The ONNX checker validates attribute types only; malformed trees pass it and shape inference and
// are rejected by ONNX Runtime only when the model is loaded (docs/design/onnx.md §10.3, §9.3).

#include "model/onnx_model.hpp"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace edgeship::model {

/// True for TreeEnsembleRegressor/TreeEnsembleClassifier in the ai.onnx.ml domain.
bool is_tree_ensemble_node(const onnx::NodeProto& node);

/// Checks one tree-ensemble node against the rules of docs/design/onnx.md §10.3:
/// equal lengths of all nodes_* arrays and of all vote arrays; valid mode, post_transform and
/// aggregate_function strings; per tree, node ids exactly 0…n−1; children that exist in the same tree
/// and no cycles (shared children are allowed); every leaf with at least one vote and no votes on
/// interior nodes; target/class ids in range; feature ids in [0, n_features) when n_features is
/// known; finite thresholds and weights; exactly one classlabels_* list; base_values of length 0 or
/// the number of targets/classes (1 for a binary classifier voting into one column).
/// Findings have stage "tree_structure" and name the node, tree and tree node. Empty = valid.
std::vector<Finding> validate_tree_node(const onnx::NodeProto& node, std::optional<std::int64_t> n_features);

/// validate_tree_node for every tree-ensemble node of the main graph. n_features is taken from the
/// graph input feeding the node when its last dimension is known.
std::vector<Finding> validate_tree_ensembles(const onnx::ModelProto& model);

} // namespace edgeship::model
