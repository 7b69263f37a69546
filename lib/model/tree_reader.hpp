#pragma once

// What every tree-model reader (XGBoost, LightGBM) takes and returns: a TreeEnsemble plus the facts
// about the source model that go into the output's metadata and the convert report.

#include "model/tree_ensemble.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace edgeship::model {

/// Which output the converted model computes.
enum class OutputKind {
    prediction, ///< what the framework's predict() returns (probabilities, transformed values)
    margin,     ///< raw scores before the link function (XGBoost output_margin=True, LightGBM raw_score=True)
};

/// How many trees to keep.
enum class IterationLimit {
    all,            ///< every tree, as a raw XGBoost Booster predicts
    best_iteration, ///< trees up to the best_iteration attribute, as XGBoost's scikit-learn wrapper predicts
};

struct ReadOptions {
    OutputKind output = OutputKind::prediction;
    IterationLimit iterations = IterationLimit::all;
};

/// Facts about the source model.
struct SourceInfo {
    std::string format;          ///< "xgboost-json", "xgboost-ubj", "lightgbm-text"
    std::string version;         ///< "1.7.4" (XGBoost writer version), "v4" (LightGBM format version)
    std::string objective;       ///< as named by the source ("binary:logistic", "multiclass num_class:3")
    std::string booster;         ///< "gbtree", "dart", "gbdt", "rf"
    std::vector<std::string> feature_names; ///< generated (f0, f1, …) when the source has none
    std::size_t trees_in_source = 0;
    std::size_t trees_used = 0;
    std::string iteration_limit; ///< "all 100 trees" or "best_iteration=41: 42 iterations, 126 trees"
    std::int64_t classes = 0;    ///< 0 for regressions
};

struct ReadModel {
    TreeEnsemble ensemble;
    SourceInfo info;
};

} // namespace edgeship::model
