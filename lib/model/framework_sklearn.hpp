#pragma once

// scikit-learn → ONNX, from the neutral JSON description the framework bridge extracts (schema
// "edgeship-sklearn-1", docs/frameworks.md). Pure C++: no Python is needed here, so graph
// construction is unit-tested from small committed descriptions (tests/fixtures/sklearn/).
//
// Trees (DecisionTree*, RandomForest*, ExtraTrees*, GradientBoosting*, HistGradientBoosting*) go
// through the format-neutral TreeEnsemble and emit_tree_ensemble (tree_ensemble.hpp,
// tree_emitter.hpp); linear models, scalers and the imputer become standard ONNX ops. A Pipeline's
// transformers are spliced in front of its final estimator.

#include "core/result.hpp"
#include "model/tree_emitter.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgeship::model {

/// The schema tag the bridge writes and build_sklearn_model accepts.
inline constexpr const char* k_sklearn_schema = "edgeship-sklearn-1";

/// Estimator classes build_sklearn_model accepts (the Pipeline of them included), sorted.
const std::vector<std::string>& supported_sklearn_estimators();

struct SklearnBuildOptions {
    std::string graph_name = "sklearn";
    std::string input_name = "features";
    std::string output_name; ///< regressors: default "prediction"; transformers: "transformed"
    std::int64_t opset = 17; ///< ai.onnx opset, 13–17 (docs/design/onnx.md §0)
    std::string producer_version;
    std::string doc_string;
    std::vector<std::pair<std::string, std::string>> metadata; ///< metadata_props, in order
};

/// What was built, for reports.
struct SklearnSummary {
    std::string estimator;       ///< "Pipeline(SimpleImputer, StandardScaler, LogisticRegression)"
    std::string task;            ///< "classifier", "regressor" or "transformer"
    std::string sklearn_version; ///< from the description
    std::int64_t features = 0;   ///< width of the input
    std::int64_t classes = 0;
    std::int64_t targets = 0; ///< regression outputs (or transformed width)
    std::size_t trees = 0;
    std::size_t nodes = 0;
    std::vector<std::string>
        feature_names;                 ///< feature_names_in_ of the first step, when fitted on named columns
    std::vector<std::string> warnings; ///< the bridge's warnings (e.g. a version mismatch when unpickling)
};

struct SklearnBuild {
    OnnxModel model;
    SklearnSummary summary;
};

/// Builds the ONNX model for `description` (the bridge's answer: {"schema", "sklearn_version",
/// "estimator": {...}}). Graph input `options.input_name` float [batch, F]; outputs:
///   classifiers: `label` int64|string [batch] and `probabilities` float [batch, classes]
///                (LinearSVC: `label` and `decision` [batch, 1|classes], it has no probabilities);
///   regressors:  `prediction` float [batch, targets]; transformers: `transformed` float [batch, F'].
/// Thresholds follow scikit-learn's float32-input/double-threshold comparison exactly (largest float
/// ≤ thr, docs/design/onnx.md §6); HistGradientBoosting's missing_go_to_left routes NaN (§7). Tree
/// models without learned NaN routing (scikit-learn < 1.3 rejects NaN) send NaN to the right child.
/// Errors: exit 1 for an unsupported estimator (named, with the supported list) or a malformed
/// description (names the field); exit 2 for an opset outside 13–17; exit 3 when the ONNX checker,
/// strict shape inference or the tree validator rejects the result.
Result<SklearnBuild> build_sklearn_model(const nlohmann::json& description,
                                         const SklearnBuildOptions& options);

} // namespace edgeship::model
