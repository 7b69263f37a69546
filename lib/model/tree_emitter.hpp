#pragma once

// Turns a TreeEnsemble (tree_ensemble.hpp) into an ONNX model: ai.onnx.ml opset 3
// TreeEnsembleRegressor/TreeEnsembleClassifier, IR 7–8, ai.onnx opset 13–17 (docs/design/onnx.md §0),
// validated by our structural validator, the ONNX checker and strict shape inference before it is
// returned. Format-neutral: every reader (XGBoost, LightGBM, scikit-learn) goes through here.

#include "core/result.hpp"
#include "model/tree_ensemble.hpp"

#include <google/protobuf/arena.h>
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace edgeship::model {

/// An ONNX model that owns its storage: on a protobuf arena (tree ensembles hold millions of small
/// strings and ints; the arena keeps them compact and frees them at once) or on the heap.
/// Movable, not copyable; not thread-safe.
class OnnxModel {
public:
    /// An empty model on a fresh arena.
    static OnnxModel on_arena();
    /// Takes ownership of a heap model.
    static OnnxModel from(onnx::ModelProto&& proto);

    onnx::ModelProto& proto() { return *m_proto; }
    const onnx::ModelProto& proto() const { return *m_proto; }

private:
    OnnxModel() = default;
    std::unique_ptr<google::protobuf::Arena> m_arena;
    std::unique_ptr<onnx::ModelProto> m_owned;
    onnx::ModelProto* m_proto = nullptr;
};

struct EmitOptions {
    std::string graph_name = "trees";
    std::string input_name = "features";
    std::int64_t opset = 17; ///< ai.onnx opset, 13–17
    std::string producer_version;
    std::string doc_string;
    std::vector<std::pair<std::string, std::string>> metadata; ///< metadata_props, in order
};

/// The lowest IR version that can carry ai.onnx opset `opset` (onnx docs/Versioning.md;
/// docs/design/onnx.md §10.1).

/// Emits `ensemble` (consumed: trees are released as they are written, to bound peak memory).
/// Graph: input `options.input_name` float [batch, n_features]; outputs by head kind:
///   scores     -> `head.output_name` float [batch, n_targets]
///   classifier -> `label` int64|string [batch] (an explicit ArgMax of the probabilities, never the
///                 tree op's own label, docs/design/onnx.md §9.1) and `probabilities` float [batch, classes]
///   hinge      -> `label` int64 [batch]
/// Errors: exit 2 for an opset outside 13–17; exit 3 when the structural validator, the ONNX checker
/// or strict shape inference rejects the result (messages name the tree and node).
Result<OnnxModel> emit_tree_ensemble(TreeEnsemble&& ensemble, const EmitOptions& options);

/// Names of the graph outputs, in order.
std::vector<std::string> output_names(const onnx::ModelProto& model);

} // namespace edgeship::model
