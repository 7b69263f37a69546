#pragma once

// LightGBM text models (Booster.save_model, format v2–v4) to a TreeEnsemble. Format, decision rules and
// the mapping to ONNX: docs/design/onnx.md §5, §7.

#include "core/result.hpp"
#include "model/tree_reader.hpp"

#include <string_view>

namespace edgeship::model {

/// Parses a LightGBM text model with our own line parser (numbers with std::from_chars, locale-free).
/// Numerical splits become BRANCH_LEQ on the largest float <= the double threshold (§6); categorical
/// bitsets become interval chains; missing types None/NaN map to nodes_missing_value_tracks_true.
/// Refused with a clear message, because ONNX cannot express them exactly: linear trees, missing type
/// Zero where values within ±1e-35 would take a different branch than the threshold says, the
/// `regression sqrt` transform, and objectives outside the documented list.
/// Errors: exit 1 for unreadable or unsupported input (missing `end of trees`, bad numbers); exit 3 for
/// structural problems (array lengths, child indices, cycles), naming the tree and node.
Result<ReadModel> read_lightgbm(std::string_view text, const ReadOptions& options);

} // namespace edgeship::model
