// build_sklearn_model: ONNX graphs from the bridge's neutral scikit-learn descriptions, without
// Python. Fixtures in tests/fixtures/sklearn/ (generate.py) carry the description, inputs and what
// scikit-learn predicted; the parity tests run the built model in ONNX Runtime (tests/tools/ort_run.js).

#include "model/framework_sklearn.hpp"
#include "model/onnx_model.hpp"
#include "model/tree_ensemble.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

namespace edgeship::model {
namespace {

using json = nlohmann::json;

json fixture(const std::string& name) {
    return json::parse(test::read_text(test::source_dir() / "tests/fixtures/sklearn" / (name + ".json")));
}

// Runs `model` in ONNX Runtime on float32 rows (null = NaN) and returns its outputs.
json run_ort(const onnx::ModelProto& model, const json& rows, const std::string& input = "features") {
    test::TempDir dir;
    const auto model_path = dir / "m.onnx";
    const auto req_path = dir / "req.json";
    {
        std::ofstream out(model_path, std::ios::binary);
        model.SerializeToOstream(&out);
    }
    json flat = json::array();
    for (const auto& r : rows) {
        for (const auto& v : r) {
            flat.push_back(v);
        }
    }
    json req = {{input, {{"type", "float32"}, {"dims", {rows.size(), rows[0].size()}}, {"data", flat}}}};
    test::write_text(req_path, req.dump());
    std::string cmd = "node '" + (test::source_dir() / "tests/tools/ort_run.js").string() + "' '" +
                      model_path.string() + "' '" + req_path.string() + "' 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        ADD_FAILURE() << "popen failed";
        return {};
    }
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
        out.append(buf.data(), n);
    }
    int status = ::pclose(p);
    if (status != 0) {
        ADD_FAILURE() << "ort_run failed: " << out;
        return {};
    }
    return json::parse(out)["outputs"];
}

double value_of(const json& v) {
    return v.is_null() ? std::nan("") : v.get<double>();
}

// Compares every expected output with ONNX Runtime's: floats to 1e-5 absolute (docs/design/onnx.md §8),
// labels exactly.
void expect_parity(const std::string& name) {
    json f = fixture(name);
    auto built = build_sklearn_model(f["description"], {});
    ASSERT_TRUE(built) << built.error().what();
    json got = run_ort(built->model.proto(), f["inputs"]);
    ASSERT_FALSE(got.is_null());
    for (const auto& [out, want] : f["expected"].items()) {
        ASSERT_TRUE(got.contains(out)) << name << ": no output " << out;
        const json& data = got[out]["data"];
        if (out == "label") {
            ASSERT_EQ(data.size(), want.size());
            for (std::size_t i = 0; i < want.size(); ++i) {
                std::string w = want[i].is_string() ? want[i].get<std::string>()
                                                    : std::to_string(want[i].get<long long>());
                EXPECT_EQ(data[i].get<std::string>(), w) << name << " row " << i;
            }
            continue;
        }
        std::vector<double> flat;
        for (const auto& row : want) {
            for (const auto& v : row) {
                flat.push_back(v.get<double>());
            }
        }
        ASSERT_EQ(data.size(), flat.size()) << name << ": " << out;
        double max_err = 0;
        for (std::size_t i = 0; i < flat.size(); ++i) {
            max_err = std::max(max_err, std::abs(value_of(data[i]) - flat[i]));
        }
        EXPECT_LE(max_err, 1e-5) << name << ": " << out;
    }
}

TEST(FrameworkSklearn, DecisionTreeMatchesScikitLearn) {
    expect_parity("decision_tree_binary");
}
TEST(FrameworkSklearn, ForestRegressorMatchesScikitLearn) {
    expect_parity("forest_regressor");
}
TEST(FrameworkSklearn, HistGradientBoostingWithNaNMatchesScikitLearn) {
    expect_parity("hist_gradient_boosting_nan");
}
TEST(FrameworkSklearn, ImputeScaleLogisticOvrWithStringLabelsMatches) {
    expect_parity("pipeline_impute_scale_logistic");
}
TEST(FrameworkSklearn, LinearSvcWithShiftedLabelsMatches) {
    expect_parity("linear_svc_multi");
}
TEST(FrameworkSklearn, ScalerInFrontOfTreeMatches) {
    expect_parity("pipeline_minmax_tree");
}

// --- structure

const onnx::NodeProto* find_op(const onnx::GraphProto& g, const std::string& op) {
    for (const auto& n : g.node()) {
        if (n.op_type() == op) {
            return &n;
        }
    }
    return nullptr;
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
    for (const auto& a : n.attribute()) {
        if (a.name() == name) {
            return &a;
        }
    }
    return nullptr;
}

json one_tree_regressor(json threshold, json missing = nullptr) {
    json tree = {{"left", {1, -1, -1}},
                 {"right", {2, -1, -1}},
                 {"feature", {0, -2, -2}},
                 {"threshold", {threshold, -2.0, -2.0}},
                 {"value", {{0.0}, {1.0}, {2.0}}}};
    if (!missing.is_null()) {
        tree["missing_go_to_left"] = missing;
    }
    return {
        {"schema", "edgeship-sklearn-1"},
        {"sklearn_version", "1.2.1"},
        {"estimator",
         {{"class", "DecisionTreeRegressor"}, {"n_features_in", 2}, {"n_outputs", 1}, {"trees", {tree}}}}};
}

TEST(FrameworkSklearn, DoubleThresholdBecomesLargestFloatAtOrBelow) {
    // 0.1 is not a float: the nearest float is above it, so x = float(0.1) must go right
    // (docs/design/onnx.md §6; scikit-learn issue #14747).
    auto built = build_sklearn_model(one_tree_regressor(0.1), {});
    ASSERT_TRUE(built) << built.error().what();
    const auto* tree = find_op(built->model.proto().graph(), "TreeEnsembleRegressor");
    ASSERT_NE(tree, nullptr);
    const float want = float_at_or_below(0.1);
    EXPECT_LT(static_cast<double>(want), 0.1);
    EXPECT_EQ(attr(*tree, "nodes_values")->floats(0), want);
    EXPECT_EQ(attr(*tree, "nodes_modes")->strings(0), "BRANCH_LEQ");
    EXPECT_EQ(attr(*tree, "nodes_missing_value_tracks_true")->ints(0), 0); // no learned NaN routing: right

    json rows = {{static_cast<double>(want), 0.0}, {static_cast<double>(std::nextafter(want, 1.0f)), 0.0}};
    json got = run_ort(built->model.proto(), rows);
    ASSERT_FALSE(got.is_null());
    EXPECT_EQ(got["prediction"]["data"], json({1.0, 2.0}));
}

TEST(FrameworkSklearn, LearnedMissingRouteIsKept) {
    auto built = build_sklearn_model(one_tree_regressor(0.5, {1, 0, 0}), {});
    ASSERT_TRUE(built) << built.error().what();
    const auto* tree = find_op(built->model.proto().graph(), "TreeEnsembleRegressor");
    EXPECT_EQ(attr(*tree, "nodes_missing_value_tracks_true")->ints(0), 1);
    json got = run_ort(built->model.proto(), json{{nullptr, 0.0}, {0.7, 0.0}});
    ASSERT_FALSE(got.is_null());
    EXPECT_EQ(got["prediction"]["data"], json({1.0, 2.0}));
}

TEST(FrameworkSklearn, InfiniteThresholdSendsEveryNumberLeft) {
    // HistGradientBoosting's "split on NaN" nodes: x <= +inf holds for every number, +inf included.
    auto built = build_sklearn_model(one_tree_regressor("inf", {0, 0, 0}), {});
    ASSERT_TRUE(built) << built.error().what();
    const auto* tree = find_op(built->model.proto().graph(), "TreeEnsembleRegressor");
    EXPECT_EQ(attr(*tree, "nodes_modes")->strings_size(), 4); // one extra node for +inf
    json got = run_ort(built->model.proto(), json{{1e30, 0.0}, {-3.0, 0.0}, {nullptr, 0.0}});
    ASSERT_FALSE(got.is_null());
    EXPECT_EQ(got["prediction"]["data"], json({1.0, 1.0, 2.0}));
}

TEST(FrameworkSklearn, ThresholdBelowTheFloatRangeUsesStrictLess) {
    auto built = build_sklearn_model(one_tree_regressor(-1e300), {});
    ASSERT_TRUE(built) << built.error().what();
    const auto* tree = find_op(built->model.proto().graph(), "TreeEnsembleRegressor");
    EXPECT_EQ(attr(*tree, "nodes_modes")->strings(0), "BRANCH_LT");
}

json logistic(const std::string& multi_class, int classes) {
    json coef = json::array();
    json intercept = json::array();
    for (int c = 0; c < (classes == 2 ? 1 : classes); ++c) {
        coef.push_back({0.5 * c + 0.1, -0.25});
        intercept.push_back(0.1 * c);
    }
    json labels = json::array();
    for (int c = 0; c < classes; ++c) {
        labels.push_back(c);
    }
    return {{"schema", "edgeship-sklearn-1"},
            {"estimator",
             {{"class", "LogisticRegression"},
              {"n_features_in", 2},
              {"coef", coef},
              {"intercept", intercept},
              {"classes", labels},
              {"multi_class", multi_class},
              {"solver", "lbfgs"}}}};
}

TEST(FrameworkSklearn, LogisticRegressionProbabilityRuleFollowsMultiClass) {
    auto ovr = build_sklearn_model(logistic("ovr", 3), {});
    ASSERT_TRUE(ovr) << ovr.error().what();
    EXPECT_NE(find_op(ovr->model.proto().graph(), "ReduceSum"), nullptr);
    EXPECT_EQ(find_op(ovr->model.proto().graph(), "Softmax"), nullptr);
    auto multi = build_sklearn_model(logistic("auto", 3), {});
    ASSERT_TRUE(multi);
    EXPECT_NE(find_op(multi->model.proto().graph(), "Softmax"), nullptr);
    // Binary multinomial: softmax over [-d, d], i.e. sigmoid(2d), not sigmoid(d).
    auto bin = build_sklearn_model(logistic("multinomial", 2), {});
    ASSERT_TRUE(bin);
    json got = run_ort(bin->model.proto(), json{{1.0, 0.0}});
    ASSERT_FALSE(got.is_null());
    const double d = 0.1;
    EXPECT_NEAR(got["probabilities"]["data"][1].get<double>(), 1.0 / (1.0 + std::exp(-2 * d)), 1e-6);
    auto bin_ovr = build_sklearn_model(logistic("auto", 2), {});
    ASSERT_TRUE(bin_ovr);
    got = run_ort(bin_ovr->model.proto(), json{{1.0, 0.0}});
    EXPECT_NEAR(got["probabilities"]["data"][1].get<double>(), 1.0 / (1.0 + std::exp(-d)), 1e-6);
}

TEST(FrameworkSklearn, OutputsAndInputAreNamedAsDocumented) {
    SklearnBuildOptions o;
    o.input_name = "x";
    o.opset = 13;
    auto built = build_sklearn_model(fixture("pipeline_minmax_tree")["description"], o);
    ASSERT_TRUE(built) << built.error().what();
    const auto& m = built->model.proto();
    ASSERT_EQ(m.graph().input_size(), 1);
    EXPECT_EQ(m.graph().input(0).name(), "x");
    EXPECT_EQ(m.graph().input(0).type().tensor_type().shape().dim(1).dim_value(), 3);
    EXPECT_EQ(output_names(m), (std::vector<std::string>{"label", "probabilities"}));
    EXPECT_EQ(m.graph().node(0).op_type(), "Mul"); // the scaler runs before the trees
    EXPECT_EQ(m.ir_version(), 7);
    EXPECT_EQ(built->summary.estimator, "Pipeline(MinMaxScaler, DecisionTreeClassifier)");
    EXPECT_EQ(built->summary.task, "classifier");
    EXPECT_EQ(built->summary.classes, 3);
    EXPECT_EQ(built->summary.trees, 1u);
}

TEST(FrameworkSklearn, ImputerDropsFeaturesThatWereEmptyAtFit) {
    json d = {{"schema", "edgeship-sklearn-1"},
              {"estimator",
               {{"class", "SimpleImputer"},
                {"n_features_in", 3},
                {"statistics", {1.5, "nan", -2.0}},
                {"missing_values", "nan"},
                {"add_indicator", false},
                {"keep_empty_features", false}}}};
    auto built = build_sklearn_model(d, {});
    ASSERT_TRUE(built) << built.error().what();
    EXPECT_EQ(built->summary.targets, 2);
    json got = run_ort(built->model.proto(), json{{nullptr, 7.0, nullptr}, {3.0, 4.0, 5.0}});
    ASSERT_FALSE(got.is_null());
    EXPECT_EQ(got["transformed"]["dims"], json({2, 2}));
    EXPECT_EQ(got["transformed"]["data"], json({1.5, -2.0, 3.0, 5.0}));
}

// --- errors

TEST(FrameworkSklearn, UnsupportedEstimatorIsNamedWithTheSupportedList) {
    json d = {{"schema", "edgeship-sklearn-1"},
              {"estimator", {{"class", "KNeighborsClassifier"}, {"n_features_in", 2}}}};
    auto r = build_sklearn_model(d, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::failure);
    EXPECT_NE(r.error().message().find("KNeighborsClassifier"), std::string::npos);
    EXPECT_NE(r.error().hint_text().find("HistGradientBoostingClassifier"), std::string::npos);
}

TEST(FrameworkSklearn, PipelineWidthMismatchNamesTheStep) {
    json d = {
        {"schema", "edgeship-sklearn-1"},
        {"estimator",
         {{"class", "Pipeline"},
          {"steps",
           {{{"name", "scale"},
             {"estimator",
              {{"class", "StandardScaler"}, {"n_features_in", 2}, {"mean", {0, 0}}, {"scale", {1, 1}}}}},
            {{"name", "model"},
             {"estimator",
              {{"class", "Ridge"}, {"n_features_in", 3}, {"coef", {{1, 2, 3}}}, {"intercept", {0}}}}}}}}}};
    auto r = build_sklearn_model(d, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "Pipeline step 'model' expects 3 features but receives 2");
}

TEST(FrameworkSklearn, EstimatorBeforeTheLastStepIsRefused) {
    json ridge = {{"class", "Ridge"}, {"n_features_in", 1}, {"coef", {{1}}}, {"intercept", {0}}};
    json d = {{"schema", "edgeship-sklearn-1"},
              {"estimator",
               {{"class", "Pipeline"},
                {"steps", {{{"name", "a"}, {"estimator", ridge}}, {{"name", "b"}, {"estimator", ridge}}}}}}};
    auto r = build_sklearn_model(d, {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("must be the last step"), std::string::npos);
}

TEST(FrameworkSklearn, MalformedDescriptionNamesTheField) {
    json d = one_tree_regressor(0.5);
    d["estimator"]["trees"][0].erase("threshold");
    auto r = build_sklearn_model(d, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "DecisionTreeRegressor: tree 0: missing field 'threshold'");
    json wrong_schema = {{"schema", "other"}};
    EXPECT_FALSE(build_sklearn_model(wrong_schema, {}));
    json bad_feature = one_tree_regressor(0.5);
    bad_feature["estimator"]["trees"][0]["feature"][0] = 5;
    r = build_sklearn_model(bad_feature, {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("feature 5 out of range (2 features)"), std::string::npos);
}

TEST(FrameworkSklearn, OpsetOutsideTheCheckableRangeIsAUsageError) {
    SklearnBuildOptions o;
    o.opset = 18;
    auto r = build_sklearn_model(one_tree_regressor(0.5), o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::usage);
}

TEST(FrameworkSklearn, SupportedListIsSortedAndCoversTheIssue) {
    const auto& s = supported_sklearn_estimators();
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
    EXPECT_EQ(s.size(), 21u);
}

} // namespace
} // namespace edgeship::model

namespace edgeship::model {
namespace {

TEST(FrameworkSklearn, OutputNameRenamesRegressionsOnly) {
    SklearnBuildOptions o;
    o.output_name = "y";
    auto reg = build_sklearn_model(one_tree_regressor(0.5), o);
    ASSERT_TRUE(reg) << reg.error().what();
    EXPECT_EQ(output_names(reg->model.proto()), std::vector<std::string>{"y"});
    auto cls = build_sklearn_model(logistic("auto", 3), o);
    ASSERT_FALSE(cls);
    EXPECT_EQ(cls.error().code(), ExitCode::usage);
}

} // namespace
} // namespace edgeship::model
