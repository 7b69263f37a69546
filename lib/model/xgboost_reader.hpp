#pragma once

// XGBoost model files (JSON and UBJSON, as written by XGBoost 1.x, 2.x, 3.x) to a TreeEnsemble.
// Layout, base_score forms and the objective mapping: docs/design/onnx.md §4.

#include "core/result.hpp"
#include "model/tree_reader.hpp"

#include <string>
#include <string_view>

namespace edgeship::model {

enum class XgboostEncoding { json, ubjson };

/// Parses `bytes` (the whole file, consumed) straight into the reader's structures with nlohmann's SAX
/// interface (no DOM: a 1,000-tree model would need several times its size), then builds the ensemble.
/// JSON input is first compacted in place: the contents of per-node arrays the conversion never reads
/// (loss_changes, sum_hessian, base_weights, parents) are cut out, which halves the text nlohmann has
/// to lex. The bytes are released before the trees are converted.
/// Errors: exit 1 for unreadable input (truncated or invalid JSON/UBJ, not an XGBoost model, gblinear,
/// unknown objective, --best-iteration without the attribute); exit 3 for structural problems (array
/// lengths, child indices out of range, cycles, feature ids, base_score vector length), naming the tree
/// and node.
Result<ReadModel> read_xgboost(std::string bytes, XgboostEncoding encoding, const ReadOptions& options);

/// "[0.1,0.2]" or "5E-1" or "0.5" -> values (docs/design/onnx.md §4.3). Errors name the text.
Result<std::vector<double>> parse_base_score(std::string_view text);

} // namespace edgeship::model
