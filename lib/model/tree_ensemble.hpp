#pragma once

// A format-neutral description of a tree ensemble: what the format readers (XGBoost, LightGBM, later
// scikit-learn) build and what the ONNX emitter (tree_emitter.hpp) turns into ai.onnx.ml
// TreeEnsembleRegressor/TreeEnsembleClassifier. The vocabulary is ONNX's (docs/design/onnx.md §2): every
// node compares one feature with a float threshold and takes the true branch when the comparison holds.

#include "core/result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace edgeship::model {

/// The comparison of a node; the true branch is taken when `x <op> threshold` holds
/// (docs/design/onnx.md §2).
enum class NodeMode : std::uint8_t { leaf, branch_leq, branch_lt, branch_gte, branch_gt, branch_eq, branch_neq };

/// ONNX's name of a mode ("BRANCH_LT", "LEAF").
const char* node_mode_name(NodeMode mode);

/// One node. Children are indices into the same tree's `nodes`; leaves ignore them.
struct TreeNode {
    NodeMode mode = NodeMode::leaf;
    bool missing_tracks_true = false; ///< NaN takes the true branch (nodes_missing_value_tracks_true)
    std::int32_t feature = 0;
    std::int32_t true_child = 0;
    std::int32_t false_child = 0;
    float threshold = 0.0f; ///< compared in float32 with the float32 input
};

/// A leaf's contribution to one target (regression output column or class score).
struct LeafVote {
    std::int32_t node = 0;
    std::int32_t target = 0;
    double weight = 0.0;
};

/// One tree: node 0 is the root. Children may be shared (a DAG) but never form a cycle.
struct Tree {
    std::vector<TreeNode> nodes;
    std::vector<LeafVote> votes;
};

enum class Aggregate { sum, average, min, max };

/// What turns the summed scores (margins) into the model's output.
enum class Transform {
    none,    ///< raw scores
    sigmoid, ///< element-wise 1/(1+exp(-scale·s))
    softmax, ///< softmax over the targets
    exp,     ///< element-wise exp(s) (log-link regressions)
};

/// The outputs the ONNX graph exposes.
enum class HeadKind {
    scores,     ///< one float output [N, n_targets]: transform(scale·(Σ votes + base))
    classifier, ///< `label` int64/string [N] and `probabilities` float [N, classes]
    hinge,      ///< `label` int64 [N]: labels[1] when the margin is > 0, else labels[0] (XGBoost binary:hinge)
};

struct Head {
    HeadKind kind = HeadKind::scores;
    Transform transform = Transform::none;
    double scale = 1.0;                   ///< multiplies the margin before `transform`
    std::string output_name = "prediction"; ///< for HeadKind::scores
    /// Class labels (classifier, hinge): index = class. A binary classifier with n_targets == 1 has
    /// two labels and its single score is the margin of labels[1] (probabilities [1−p, p]).
    std::vector<std::int64_t> int_labels;
    std::vector<std::string> string_labels; ///< used instead of int_labels when not empty
    std::size_t class_count() const { return string_labels.empty() ? int_labels.size() : string_labels.size(); }
};

/// The whole ensemble. Plain data; readers fill it, the emitter consumes it.
struct TreeEnsemble {
    std::int64_t n_features = 0;
    std::int32_t n_targets = 1;       ///< width of the score vector the trees vote into
    std::vector<Tree> trees;
    std::vector<double> base_values;  ///< empty or one per target, added to the summed votes
    Aggregate aggregate = Aggregate::sum;
    Head head;

    std::size_t node_count() const;
    std::size_t vote_count() const;
};

/// The largest float f with f <= v, so that for every float x: x <= f ⇔ x <= v (compared in double).
/// skl2onnx's `sklearn_threshold` rule (docs/design/onnx.md §6), for double thresholds and float inputs.
/// Clamped to [-FLT_MAX, FLT_MAX]; float_leq_threshold handles values below the float range exactly.
float float_at_or_below(double v);

/// A float comparison equivalent, for every float32 input, to the double test `x <= v`.
struct FloatTest {
    NodeMode mode;
    float threshold;
};
FloatTest float_leq_threshold(double v);

/// A half-open interval of feature values, [lo, hi) or (lo, hi) when !lo_inclusive.
struct ValueInterval {
    double lo = 0;
    bool lo_inclusive = true;
    double hi = 0;
};

/// The intervals of x whose integer part (C++ truncation, as static_cast<int>) is one of `categories`:
/// [c, c+1) for c >= 1, and for 0 either [0, 1) or (-1, 1) when `negative_fraction_is_zero` (values in
/// (-1, 0) truncate to category 0). Consecutive categories are merged. Categories must be sorted and
/// unique, within [0, 2^24) so the bounds are exact floats.
std::vector<ValueInterval> category_intervals(std::span<const std::int64_t> categories, bool negative_fraction_is_zero);

/// Rewrites node `at` of `tree` as a chain that sends x to `in_child` when it lies in one of
/// `intervals` (sorted, disjoint, non-empty) and to `out_child` otherwise; NaN goes to `in_child` when
/// `nan_in`. Appends 2·intervals−1 nodes; `in_child`/`out_child` become shared children (a DAG), as
/// onnxmltools does for categorical splits (docs/design/onnx.md §4.5, §5.3). Shared children sit on true
/// branches only, and `out_child` is first reached through the chain's last false branch, the layout
/// ONNX Runtime requires (see validate_tree_node).
void build_interval_chain(Tree& tree, std::int32_t at, std::int32_t feature, std::span<const ValueInterval> intervals,
                          std::int32_t in_child, std::int32_t out_child, bool nan_in);

} // namespace edgeship::model
