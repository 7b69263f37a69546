#include "model/tree_ensemble.hpp"

#include <cmath>
#include <limits>

namespace edgeship::model {

const char* node_mode_name(NodeMode mode) {
    switch (mode) {
    case NodeMode::leaf: return "LEAF";
    case NodeMode::branch_leq: return "BRANCH_LEQ";
    case NodeMode::branch_lt: return "BRANCH_LT";
    case NodeMode::branch_gte: return "BRANCH_GTE";
    case NodeMode::branch_gt: return "BRANCH_GT";
    case NodeMode::branch_eq: return "BRANCH_EQ";
    case NodeMode::branch_neq: return "BRANCH_NEQ";
    }
    return "LEAF";
}

std::size_t TreeEnsemble::node_count() const {
    std::size_t n = 0;
    for (const auto& t : trees) {
        n += t.nodes.size();
    }
    return n;
}

std::size_t TreeEnsemble::vote_count() const {
    std::size_t n = 0;
    for (const auto& t : trees) {
        n += t.votes.size();
    }
    return n;
}

float float_at_or_below(double v) {
    constexpr float max = std::numeric_limits<float>::max();
    if (v >= static_cast<double>(max)) {
        return max;
    }
    if (v <= -static_cast<double>(max)) {
        return -max;
    }
    float f = static_cast<float>(v); // nearest; step down once when it rounded up
    if (static_cast<double>(f) > v) {
        f = std::nextafter(f, -max);
    }
    return f;
}

FloatTest float_leq_threshold(double v) {
    constexpr double max = std::numeric_limits<float>::max();
    if (v < -max) {
        // Only -inf is <= v among floats: x < -FLT_MAX says exactly that.
        return {NodeMode::branch_lt, -std::numeric_limits<float>::max()};
    }
    return {NodeMode::branch_leq, float_at_or_below(v)};
}

std::vector<ValueInterval> category_intervals(std::span<const std::int64_t> categories, bool negative_fraction_is_zero) {
    std::vector<ValueInterval> out;
    for (std::size_t i = 0; i < categories.size();) {
        std::int64_t first = categories[i];
        std::int64_t last = first;
        std::size_t j = i + 1;
        while (j < categories.size() && categories[j] == last + 1) {
            last = categories[j];
            ++j;
        }
        ValueInterval iv;
        iv.lo = static_cast<double>(first);
        iv.hi = static_cast<double>(last + 1);
        if (first == 0 && negative_fraction_is_zero) {
            iv.lo = -1.0;
            iv.lo_inclusive = false;
        }
        out.push_back(iv);
        i = j;
    }
    return out;
}

void build_interval_chain(Tree& tree, std::int32_t at, std::int32_t feature, std::span<const ValueInterval> intervals,
                          std::int32_t in_child, std::int32_t out_child, bool nan_in) {
    // For each interval k: L_k "x < lo_k" (or "x <= lo_k" when lo is exclusive) -> out, and
    // H_k "x < hi_k" -> in; every false branch continues the chain, the last one ends at out.
    // The shared exits sit on true branches only and `out` is first reached through the chain's
    // final false branch: ONNX Runtime lays trees out false-branch-first and refuses a false child
    // it has already placed ("False node must always be the next node", tree_ensemble_common.h).
    // NaN: L_1's missing flag sends it to out, or on to H_1, whose flag sends it in.
    std::int32_t cur = at;
    for (std::size_t k = 0; k < intervals.size(); ++k) {
        const auto& iv = intervals[k];
        auto h = static_cast<std::int32_t>(tree.nodes.size());
        tree.nodes.emplace_back();
        std::int32_t next = out_child;
        if (k + 1 < intervals.size()) {
            next = static_cast<std::int32_t>(tree.nodes.size());
            tree.nodes.emplace_back();
        }
        TreeNode& lo = tree.nodes[static_cast<std::size_t>(cur)];
        lo.mode = iv.lo_inclusive ? NodeMode::branch_lt : NodeMode::branch_leq;
        lo.feature = feature;
        lo.threshold = static_cast<float>(iv.lo);
        lo.true_child = out_child;
        lo.false_child = h;
        lo.missing_tracks_true = k == 0 && !nan_in;
        TreeNode& hi = tree.nodes[static_cast<std::size_t>(h)];
        hi.mode = NodeMode::branch_lt;
        hi.feature = feature;
        hi.threshold = static_cast<float>(iv.hi);
        hi.true_child = in_child;
        hi.false_child = next;
        hi.missing_tracks_true = k == 0 && nan_in;
        cur = next;
    }
}

} // namespace edgeship::model
