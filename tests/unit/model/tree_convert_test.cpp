// Tree conversion: the structural validator, the XGBoost and LightGBM readers, the emitter and the
// convert facade. Prediction parity lives in tests/parity (run by e2e.convert.parity.*); these tests
// pin structure, metadata and every bad-input path, with committed fixtures and in-test mutations.

#include "core/fs.hpp"
#include "core/sha256.hpp"
#include "model/convert.hpp"
#include "model/lightgbm_reader.hpp"
#include "model/onnx_model.hpp"
#include "model/tree_validator.hpp"
#include "model/xgboost_reader.hpp"
#include "model_fixtures.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <limits>

namespace edgeship::model {
namespace {

using nlohmann::json;
using test::TempDir;

std::filesystem::path xgb_fixture(const std::string& name) { return test::source_dir() / "tests/fixtures/xgboost" / name; }
std::filesystem::path lgbm_fixture(const std::string& name) {
    return test::source_dir() / "tests/fixtures/lightgbm" / name;
}

std::string read(const std::filesystem::path& p) { return test::read_text(p); }

json xgb_doc(const std::string& name) { return json::parse(read(xgb_fixture(name))); }

json& tree_of(json& doc, std::size_t t) { return doc["learner"]["gradient_booster"]["model"]["trees"][t]; }

std::string joined(const std::vector<Finding>& f) {
    std::string s;
    for (const auto& x : f) {
        s += x.message + "\n";
    }
    return s;
}

// --- structural validator (docs/design/onnx.md §10.3) ------------------------------------------------

onnx::AttributeProto* attr(onnx::NodeProto& n, const std::string& name) {
    for (auto& a : *n.mutable_attribute()) {
        if (a.name() == name) {
            return &a;
        }
    }
    return nullptr;
}

onnx::ModelProto tiny() { return test::parse_onnx_text(test::k_tiny_tree); }

TEST(TreeValidator, AcceptsTheMinimalFixture) {
    auto m = tiny();
    EXPECT_TRUE(validate_tree_ensembles(m).empty()) << joined(validate_tree_ensembles(m));
}

TEST(TreeValidator, ReportsArraysOfDifferentLength) {
    auto m = tiny();
    attr(*m.mutable_graph()->mutable_node(0), "nodes_featureids")->mutable_ints()->RemoveLast();
    auto f = validate_tree_ensembles(m);
    ASSERT_FALSE(f.empty());
    EXPECT_EQ(f[0].stage, "tree_structure");
    EXPECT_NE(f[0].message.find("nodes_featureids has 2 entries but nodes_treeids has 3"), std::string::npos) << f[0].message;
}

TEST(TreeValidator, ReportsAnInvalidMode) {
    auto m = tiny();
    *attr(*m.mutable_graph()->mutable_node(0), "nodes_modes")->mutable_strings(0) = "BRANCH_FOO";
    auto f = validate_tree_ensembles(m);
    ASSERT_FALSE(f.empty());
    EXPECT_NE(f[0].message.find("tree 0 node 0: invalid mode 'BRANCH_FOO'"), std::string::npos) << f[0].message;
}

TEST(TreeValidator, ReportsAChildOutOfRange) {
    auto m = tiny();
    attr(*m.mutable_graph()->mutable_node(0), "nodes_truenodeids")->set_ints(0, 7);
    auto f = validate_tree_ensembles(m);
    ASSERT_FALSE(f.empty());
    EXPECT_NE(f[0].message.find("tree 0 node 0: true child 7 does not exist (tree has 3 nodes)"), std::string::npos)
        << f[0].message;
}

// A three-node tree where node 1 is a branch whose false edge points back to the root.
TEST(TreeValidator, ReportsACycle) {
    auto m = tiny();
    auto& n = *m.mutable_graph()->mutable_node(0);
    *attr(n, "nodes_modes")->mutable_strings(1) = "BRANCH_LT";
    attr(n, "nodes_truenodeids")->set_ints(1, 2);
    attr(n, "nodes_falsenodeids")->set_ints(1, 0);
    // node 1 is no longer a leaf: move its vote to node 2 only
    attr(n, "target_nodeids")->set_ints(0, 2);
    auto f = validate_tree_ensembles(m);
    ASSERT_FALSE(f.empty());
    EXPECT_NE(joined(f).find("cycle through node 0"), std::string::npos) << joined(f);
}

TEST(TreeValidator, ReportsASharedFalseChild) {
    // root: false -> 1; node 1 (branch): false -> 2, true -> 3; root true -> 2: node 2 is shared, and
    // ORT places it through node 1's false edge first... then the root's true edge is fine. Make the
    // second reference a false edge instead: node 1 false -> 2 and root false -> 2.
    auto m = test::parse_onnx_text(R"(
<ir_version: 8, opset_import: ["" : 17, "ai.onnx.ml" : 3]>
g (float[N, 1] X) => (float[N, 1] Y) {
  Y = ai.onnx.ml.TreeEnsembleRegressor <n_targets = 1,
    nodes_treeids = [0, 0, 0, 0], nodes_nodeids = [0, 1, 2, 3], nodes_featureids = [0, 0, 0, 0],
    nodes_modes = ["BRANCH_LT", "BRANCH_LT", "LEAF", "LEAF"], nodes_values = [0.5, 0.2, 0.0, 0.0],
    nodes_truenodeids = [1, 3, 0, 0], nodes_falsenodeids = [2, 2, 0, 0],
    target_treeids = [0, 0], target_nodeids = [2, 3], target_ids = [0, 0], target_weights = [1.0, 2.0]> (X)
}
)");
    auto f = validate_tree_ensembles(m);
    ASSERT_FALSE(f.empty());
    EXPECT_NE(f[0].message.find("tree 0 node 1: false child 2 is shared"), std::string::npos) << f[0].message;
}

TEST(TreeValidator, ReportsVoteProblems) {
    auto m = tiny();
    auto& n = *m.mutable_graph()->mutable_node(0);
    attr(n, "target_nodeids")->set_ints(0, 0); // a vote on the interior root; leaf 1 then has none
    attr(n, "target_ids")->set_ints(1, 3);     // target 3 of 1
    auto all = joined(validate_tree_ensembles(m));
    EXPECT_NE(all.find("tree 0 node 0: vote on an interior node"), std::string::npos) << all;
    EXPECT_NE(all.find("target_ids entry 3 is outside 0..0"), std::string::npos) << all;
    EXPECT_NE(all.find("tree 0 node 1: leaf has no vote"), std::string::npos) << all;
}

TEST(TreeValidator, ReportsBaseValuesAndFeatureRange) {
    auto m = tiny();
    auto& n = *m.mutable_graph()->mutable_node(0);
    attr(n, "base_values")->add_floats(1.0f);
    attr(n, "nodes_featureids")->set_ints(0, 4);
    auto all = joined(validate_tree_ensembles(m));
    EXPECT_NE(all.find("feature id 4 is out of range (the input has 1 features)"), std::string::npos) << all;
    auto m2 = tiny();
    attr(*m2.mutable_graph()->mutable_node(0), "base_values")->add_floats(1.0f);
    auto f2 = joined(validate_tree_ensembles(m2));
    EXPECT_NE(f2.find("base_values has 2 entries; expected 0 or 1"), std::string::npos) << f2;
}

TEST(TreeValidator, ClassifierNeedsExactlyOneLabelList) {
    auto m = test::parse_onnx_text(R"(
<ir_version: 8, opset_import: ["" : 17, "ai.onnx.ml" : 3]>
g (float[N, 1] X) => (int64[N] L, float[N, 2] P) {
  L, P = ai.onnx.ml.TreeEnsembleClassifier <
    nodes_treeids = [0, 0, 0], nodes_nodeids = [0, 1, 2], nodes_featureids = [0, 0, 0],
    nodes_modes = ["BRANCH_LT", "LEAF", "LEAF"], nodes_values = [0.5, 0.0, 0.0],
    nodes_truenodeids = [1, 0, 0], nodes_falsenodeids = [2, 0, 0],
    class_treeids = [0, 0], class_nodeids = [1, 2], class_ids = [0, 0], class_weights = [-1.0, 2.0],
    classlabels_int64s = [0, 1], classlabels_strings = ["a", "b"], post_transform = "LOGISTIC"> (X)
}
)");
    auto f = validate_tree_ensembles(m);
    ASSERT_FALSE(f.empty());
    EXPECT_NE(f[0].message.find("exactly one of classlabels_int64s and classlabels_strings"), std::string::npos);
}

// --- neutral helpers ---------------------------------------------------------------------------------

TEST(TreeEnsemble, FloatAtOrBelowKeepsTheDoubleComparison) {
    EXPECT_EQ(float_at_or_below(2.7500000000000004), 2.75f);
    float f = float_at_or_below(0.1);
    EXPECT_LE(static_cast<double>(f), 0.1);
    EXPECT_GT(static_cast<double>(std::nextafter(f, 1.0f)), 0.1);
    EXPECT_EQ(float_at_or_below(1e300), std::numeric_limits<float>::max());
    auto t = float_leq_threshold(-1e300);
    EXPECT_EQ(t.mode, NodeMode::branch_lt);
}

TEST(TreeEnsemble, CategoryIntervalsMergeRunsAndTruncation) {
    std::vector<std::int64_t> cats{0, 1, 2, 5};
    auto lgbm = category_intervals(cats, true);
    ASSERT_EQ(lgbm.size(), 2u);
    EXPECT_EQ(lgbm[0].lo, -1.0);
    EXPECT_FALSE(lgbm[0].lo_inclusive);
    EXPECT_EQ(lgbm[0].hi, 3.0);
    EXPECT_EQ(lgbm[1].lo, 5.0);
    EXPECT_EQ(lgbm[1].hi, 6.0);
    auto xgb = category_intervals(cats, false);
    EXPECT_EQ(xgb[0].lo, 0.0);
    EXPECT_TRUE(xgb[0].lo_inclusive);
}

// --- XGBoost ----------------------------------------------------------------------------------------

TEST(XgboostReader, ParsesEveryBaseScoreForm) {
    EXPECT_EQ(*parse_base_score("5E-1"), std::vector<double>{0.5});
    EXPECT_EQ(*parse_base_score("0.25"), std::vector<double>{0.25});
    EXPECT_EQ(*parse_base_score("[5E-1]"), std::vector<double>{0.5});
    EXPECT_EQ(*parse_base_score("[1E-1,2E-1,3E-1]"), (std::vector<double>{0.1, 0.2, 0.3}));
    EXPECT_FALSE(parse_base_score("abc"));
    EXPECT_FALSE(parse_base_score("[1,x]"));
    EXPECT_FALSE(parse_base_score("[]"));
}

TEST(XgboostReader, JsonAndUbjGiveTheSameEnsemble) {
    auto j = read_xgboost(read(xgb_fixture("binary.json")), XgboostEncoding::json, {});
    auto u = read_xgboost(read(xgb_fixture("binary.ubj")), XgboostEncoding::ubjson, {});
    ASSERT_TRUE(j) << j.error().what();
    ASSERT_TRUE(u) << u.error().what();
    EXPECT_EQ(j->info.format, "xgboost-json");
    EXPECT_EQ(u->info.format, "xgboost-ubj");
    EXPECT_EQ(j->info.version, "1.7.4");
    EXPECT_EQ(j->info.objective, "binary:logistic");
    EXPECT_EQ(j->info.feature_names, (std::vector<std::string>{"vibration_rms", "bearing_temp_c", "current_a", "rpm"}));
    ASSERT_EQ(j->ensemble.trees.size(), 6u);
    ASSERT_EQ(u->ensemble.trees.size(), 6u);
    EXPECT_EQ(j->ensemble.head.kind, HeadKind::classifier);
    ASSERT_EQ(j->ensemble.base_values.size(), 1u);
    EXPECT_NEAR(j->ensemble.base_values[0], std::log(0.2 / 0.8), 1e-6); // logit(base_score) (§4.3)
    for (std::size_t t = 0; t < 6; ++t) {
        const auto& a = j->ensemble.trees[t];
        const auto& b = u->ensemble.trees[t];
        ASSERT_EQ(a.nodes.size(), b.nodes.size());
        for (std::size_t i = 0; i < a.nodes.size(); ++i) {
            EXPECT_EQ(a.nodes[i].threshold, b.nodes[i].threshold);
            EXPECT_EQ(a.nodes[i].mode, b.nodes[i].mode);
            EXPECT_EQ(a.nodes[i].missing_tracks_true, b.nodes[i].missing_tracks_true);
        }
        ASSERT_EQ(a.votes.size(), b.votes.size());
        for (std::size_t i = 0; i < a.votes.size(); ++i) {
            EXPECT_EQ(static_cast<float>(a.votes[i].weight), static_cast<float>(b.votes[i].weight));
        }
    }
    // Numerical splits are strict '<' (BRANCH_LT), never '<=' (§4.1, §16).
    EXPECT_EQ(j->ensemble.trees[0].nodes[0].mode, NodeMode::branch_lt);
}

TEST(XgboostReader, DartLeavesAreScaledByWeightDrop) {
    auto doc = xgb_doc("dart.json");
    auto r = read_xgboost(doc.dump(), XgboostEncoding::json, {});
    ASSERT_TRUE(r) << r.error().what();
    const auto& gb = doc["learner"]["gradient_booster"];
    ASSERT_EQ(gb["name"], "dart");
    const auto& trees = gb["gbtree"]["model"]["trees"];
    bool some_weight_differs = false;
    for (std::size_t t = 0; t < trees.size(); ++t) {
        double w = gb["weight_drop"][t].get<double>();
        some_weight_differs = some_weight_differs || w != 1.0;
        // The first leaf in DFS order is the leftmost: follow left children from the root.
        int i = 0;
        while (trees[t]["left_children"][i].get<int>() != -1) {
            i = trees[t]["left_children"][i].get<int>();
        }
        float leaf = trees[t]["split_conditions"][i].get<float>();
        EXPECT_FLOAT_EQ(static_cast<float>(r->ensemble.trees[t].votes.front().weight), static_cast<float>(leaf * w));
    }
    EXPECT_TRUE(some_weight_differs);
}

TEST(XgboostReader, CategoricalSplitsBecomeChainsWithNaNConditions) {
    // XGBoost writes NaN split conditions for categorical nodes, which strict JSON refuses.
    ASSERT_NE(read(xgb_fixture("categorical.json")).find("NaN"), std::string::npos);
    auto r = read_xgboost(read(xgb_fixture("categorical.json")), XgboostEncoding::json, {});
    ASSERT_TRUE(r) << r.error().what();
    auto emitted = emit_tree_ensemble(std::move(r->ensemble), {});
    ASSERT_TRUE(emitted) << emitted.error().what(); // validator + checker + strict shape inference
}

TEST(XgboostReader, BestIterationTruncates) {
    auto doc = xgb_doc("binary.json");
    doc["learner"]["attributes"]["best_iteration"] = "2";
    ReadOptions o;
    o.iterations = IterationLimit::best_iteration;
    auto r = read_xgboost(doc.dump(), XgboostEncoding::json, o);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->ensemble.trees.size(), 3u);
    EXPECT_EQ(r->info.iteration_limit, "best_iteration=2: 3 iterations, 3 trees");
    auto all = read_xgboost(doc.dump(), XgboostEncoding::json, {});
    EXPECT_EQ(all->ensemble.trees.size(), 6u);
    doc["learner"]["attributes"].erase("best_iteration");
    auto missing = read_xgboost(doc.dump(), XgboostEncoding::json, o);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ExitCode::usage);
}

TEST(XgboostReader, BaseScoreVectorPerClass) {
    auto doc = xgb_doc("multiclass.json");
    doc["learner"]["learner_model_param"]["base_score"] = "[1E-1,3E-1,6E-1]";
    auto ubj = json::to_ubjson(doc);
    auto r = read_xgboost(std::string(ubj.begin(), ubj.end()), XgboostEncoding::ubjson, {});
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->ensemble.base_values, (std::vector<double>{0.1, 0.3, 0.6}));
    doc["learner"]["learner_model_param"]["base_score"] = "[1E-1,3E-1]";
    auto bad = read_xgboost(doc.dump(), XgboostEncoding::json, {});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), ExitCode::validation);
    EXPECT_NE(bad.error().message().find("base_score has 2 values; expected 1 or 3"), std::string::npos);
}

struct BadXgb {
    const char* name;
    std::function<void(json&)> edit;
    ExitCode code;
    const char* message;
};

class XgboostBadInput : public ::testing::TestWithParam<BadXgb> {};

TEST_P(XgboostBadInput, FailsWithAClearMessage) {
    auto doc = xgb_doc("binary.json");
    GetParam().edit(doc);
    auto r = read_xgboost(doc.dump(), XgboostEncoding::json, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), GetParam().code) << r.error().what();
    EXPECT_NE(r.error().what().find(GetParam().message), std::string::npos) << r.error().what();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, XgboostBadInput,
    ::testing::Values(
        BadXgb{"unknown_objective", [](json& d) { d["learner"]["objective"]["name"] = "survival:cox"; },
               ExitCode::failure, "unsupported objective 'survival:cox'"},
        BadXgb{"inconsistent_arrays", [](json& d) { tree_of(d, 2)["left_children"].erase(0); }, ExitCode::validation,
               "tree 2: left_children has"},
        BadXgb{"child_out_of_range", [](json& d) { tree_of(d, 1)["left_children"][0] = 999; }, ExitCode::validation,
               "tree 1 node 0: left child 999 is out of range"},
        BadXgb{"cycle",
               [](json& d) {
                   auto& tree = tree_of(d, 0);
                   int l = tree["left_children"][0].get<int>();
                   tree["left_children"][l] = 0; // node l's left child is the root again
               },
               ExitCode::validation, "reached twice from the root"},
        BadXgb{"empty_model",
               [](json& d) {
                   auto& m = d["learner"]["gradient_booster"]["model"];
                   m["trees"] = json::array();
                   m["tree_info"] = json::array();
               },
               ExitCode::failure, "the model has no trees"},
        BadXgb{"feature_out_of_range", [](json& d) { tree_of(d, 0)["split_indices"][0] = 40; }, ExitCode::validation,
               "tree 0 node 0: split feature 40 is outside the model's 4 features"},
        BadXgb{"tree_info_length", [](json& d) { d["learner"]["gradient_booster"]["model"]["tree_info"].erase(0); },
               ExitCode::validation, "tree_info has 5 entries but the model has 6 trees"},
        BadXgb{"vector_leaves", [](json& d) { tree_of(d, 0)["tree_param"]["size_leaf_vector"] = "3"; },
               ExitCode::failure, "vector leaves"},
        BadXgb{"logit_base_out_of_range", [](json& d) { d["learner"]["learner_model_param"]["base_score"] = "1.5"; },
               ExitCode::validation, "must lie in (0, 1)"}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(XgboostReader, RefusesGblinear) {
    auto r = read_xgboost(read(xgb_fixture("gblinear.json")), XgboostEncoding::json, {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("gblinear boosters are linear models without trees"), std::string::npos);
}

TEST(XgboostReader, TruncatedFilesNameTheByte) {
    std::string text = read(xgb_fixture("binary.json"));
    auto r = read_xgboost(text.substr(0, text.size() / 2), XgboostEncoding::json, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::failure);
    EXPECT_NE(r.error().message().find("invalid or truncated file at byte"), std::string::npos) << r.error().message();
    std::string ubj = read(xgb_fixture("binary.ubj"));
    auto u = read_xgboost(ubj.substr(0, ubj.size() - 100), XgboostEncoding::ubjson, {});
    ASSERT_FALSE(u);
    EXPECT_NE(u.error().message().find("invalid or truncated file"), std::string::npos) << u.error().message();
}

TEST(XgboostReader, TruncationPositionIsAFileOffset) {
    // The contents of unused arrays are cut before parsing; errors still report offsets in the file.
    std::string text = read(xgb_fixture("binary.json"));
    std::size_t cut = text.rfind("split_conditions");
    auto r = read_xgboost(text.substr(0, cut), XgboostEncoding::json, {});
    ASSERT_FALSE(r);
    const std::string& msg = r.error().message();
    auto at = msg.find("at byte ");
    ASSERT_NE(at, std::string::npos) << msg;
    long reported = std::stol(msg.substr(at + 8));
    EXPECT_LE(std::labs(reported - static_cast<long>(cut)), 2) << msg << " (cut at " << cut << ")";
}

// --- LightGBM ---------------------------------------------------------------------------------------

TEST(LightgbmReader, ReadsTheHandWrittenModels) {
    for (const char* name : {"regression", "binary", "binary_sigmoid2", "multiclass", "multiclassova", "poisson",
                             "rf_regression", "lambdarank"}) {
        auto r = read_lightgbm(read(lgbm_fixture(std::string(name) + ".txt")), {});
        ASSERT_TRUE(r) << name << ": " << r.error().what();
        EXPECT_EQ(r->info.format, "lightgbm-text");
        EXPECT_EQ(r->ensemble.n_features, 4);
        EXPECT_EQ(r->info.feature_names.front(), "temp_c");
        auto e = emit_tree_ensemble(std::move(r->ensemble), {});
        ASSERT_TRUE(e) << name << ": " << e.error().what();
    }
    auto bin = read_lightgbm(read(lgbm_fixture("binary_sigmoid2.txt")), {});
    EXPECT_EQ(bin->ensemble.head.scale, 2.5);
    // Numerical splits are '<=' on the largest float <= the double threshold (§5.2, §6).
    EXPECT_EQ(bin->ensemble.trees[0].nodes[0].mode, NodeMode::branch_leq);
    EXPECT_EQ(bin->ensemble.trees[0].nodes[3].threshold, 2.75f);
    // missing None with a negative threshold: NaN acts as 0.0 and goes right (onnxmltools PR #488).
    EXPECT_FALSE(bin->ensemble.trees[0].nodes[1].missing_tracks_true);
}

struct BadLgbm {
    const char* file;
    ExitCode code;
    const char* message;
};

class LightgbmRefuses : public ::testing::TestWithParam<BadLgbm> {};

TEST_P(LightgbmRefuses, WithAClearMessage) {
    auto r = read_lightgbm(read(lgbm_fixture(GetParam().file)), {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), GetParam().code) << r.error().what();
    EXPECT_NE(r.error().what().find(GetParam().message), std::string::npos) << r.error().what();
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, LightgbmRefuses,
    ::testing::Values(BadLgbm{"refuse_linear_tree.txt", ExitCode::failure, "tree 0: linear trees"},
                      BadLgbm{"refuse_zero_missing.txt", ExitCode::failure, "tree 3 node 1: missing type Zero"},
                      BadLgbm{"refuse_truncated.txt", ExitCode::failure, "missing 'end of trees'"},
                      BadLgbm{"refuse_regression_sqrt.txt", ExitCode::failure, "reg_sqrt"},
                      BadLgbm{"refuse_cross_entropy.txt", ExitCode::failure, "unsupported objective 'cross_entropy'"}),
    [](const auto& test_info) {
        std::string n = test_info.param.file;
        return n.substr(7, n.size() - 11);
    });

TEST(LightgbmReader, StructuralErrorsNameTreeAndNode) {
    std::string text = read(lgbm_fixture("regression.txt"));
    auto edit = [&](const std::string& from, const std::string& to) {
        std::string t = text;
        auto p = t.find(from);
        EXPECT_NE(p, std::string::npos) << from;
        return t.replace(p, from.size(), to);
    };
    auto oob = read_lightgbm(edit("left_child=1 -1 -3 -4", "left_child=9 -1 -3 -4"), {});
    ASSERT_FALSE(oob);
    EXPECT_EQ(oob.error().code(), ExitCode::validation);
    EXPECT_NE(oob.error().message().find("tree 0 node 0: left child 9 is out of range"), std::string::npos)
        << oob.error().message();
    auto cycle = read_lightgbm(edit("left_child=1 -1 -3 -4", "left_child=1 0 -3 -4"), {});
    ASSERT_FALSE(cycle);
    EXPECT_EQ(cycle.error().code(), ExitCode::validation);
    EXPECT_NE(cycle.error().message().find("reached twice from the root"), std::string::npos) << cycle.error().message();
    auto lengths = read_lightgbm(edit("leaf_value=0.25 -0.15 0.075 -0.3", "leaf_value=0.25 -0.15 0.075"), {});
    ASSERT_FALSE(lengths);
    EXPECT_EQ(lengths.error().code(), ExitCode::validation);
    EXPECT_NE(lengths.error().message().find("tree 1: leaf_value has 3 entries; expected 4"), std::string::npos)
        << lengths.error().message();
    auto number = read_lightgbm(edit("threshold=0.5 -0.25", "threshold=0,5 -0.25"), {});
    ASSERT_FALSE(number);
    EXPECT_NE(number.error().message().find("is not a valid number"), std::string::npos);
    auto empty = read_lightgbm("", {});
    ASSERT_FALSE(empty);
}

// --- convert facade ---------------------------------------------------------------------------------

TEST(Convert, DetectsFormatsFromContent) {
    EXPECT_EQ(detect_format("{\"learner\":"), "xgboost-json");
    EXPECT_EQ(detect_format("  \n{ \"version\""), "xgboost-json");
    EXPECT_EQ(detect_format(std::string("{L\0\0\0\0\0\0\0\x07learner", 17)), "xgboost-ubj");
    EXPECT_EQ(detect_format("tree\nversion=v4\n"), "lightgbm-text");
    EXPECT_EQ(detect_format(std::string("\x08\x08\x12", 3)), "onnx");
    EXPECT_EQ(detect_format("hello"), "");
}

TEST(Convert, WritesMetadataAndReportsTheModel) {
    TempDir dir;
    ConvertOptions o;
    o.input = xgb_fixture("binary.ubj");
    o.edgeship_version = "9.9.9";
    auto c = convert_model(o);
    ASSERT_TRUE(c) << c.error().what();
    auto out = dir / "m.onnx";
    ASSERT_TRUE(write_conversion(*c, out));
    const auto& r = c->report;
    EXPECT_EQ(r.source_format, "xgboost-ubj");
    EXPECT_EQ(r.trees, 6u);
    EXPECT_EQ(r.features, 4);
    EXPECT_EQ(r.classes, 2);
    EXPECT_EQ(r.outputs, (std::vector<std::string>{"label", "probabilities"}));
    EXPECT_EQ(r.opsets.at(""), 17);
    EXPECT_EQ(r.opsets.at("ai.onnx.ml"), 3);
    EXPECT_EQ(r.ir_version, 8);
    EXPECT_EQ(r.sha256, *core::sha256_file(out));
    auto loaded = load_model(out);
    ASSERT_TRUE(loaded);
    EXPECT_TRUE(check_model(*loaded, StrictShapes::yes).empty());
    std::map<std::string, std::string> meta;
    for (const auto& kv : loaded->proto.metadata_props()) {
        meta[kv.key()] = kv.value();
    }
    EXPECT_EQ(meta["edgeship.version"], "9.9.9");
    EXPECT_EQ(meta["edgeship.source_format"], "xgboost-ubj");
    EXPECT_EQ(meta["edgeship.source_version"], "1.7.4");
    EXPECT_EQ(meta["edgeship.source_sha256"], *core::sha256_file(o.input));
    EXPECT_EQ(meta["edgeship.objective"], "binary:logistic");
    EXPECT_EQ(meta["edgeship.feature_names"], R"(["vibration_rms","bearing_temp_c","current_a","rpm"])");
    EXPECT_EQ(meta["edgeship.iteration_limit"], "all 6 trees");
    EXPECT_EQ(loaded->proto.producer_name(), "edgeship");
    EXPECT_EQ(loaded->proto.graph().name(), "binary");
}

TEST(Convert, OpsetOutsideTheTreeRangeIsAUsageError) {
    ConvertOptions o;
    o.input = xgb_fixture("binary.json");
    o.opset = 12;
    auto c = convert_model(o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::usage);
    o.opset = 13;
    auto ok = convert_model(o);
    ASSERT_TRUE(ok) << ok.error().what();
    EXPECT_EQ(ok->report.ir_version, 7);
}

TEST(Convert, ReEmitsOnnxAndUpgradesTheOpset) {
    TempDir dir;
    auto src = dir / "mlp.onnx";
    test::save_proto(test::parse_onnx_text(test::k_mlp), src);
    ConvertOptions o;
    o.input = src;
    o.opset = 17;
    auto c = convert_model(o);
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->report.source_format, "onnx");
    EXPECT_EQ(c->report.opsets.at(""), 17);
    EXPECT_EQ(c->report.ir_version, 8);
    ASSERT_TRUE(write_conversion(*c, dir / "out.onnx"));
    auto loaded = load_model(dir / "out.onnx");
    ASSERT_TRUE(loaded);
    EXPECT_TRUE(check_model(*loaded).empty());

    o.opset = 11; // a downgrade: no adapter for Gemm-13 -> 11
    auto down = convert_model(o);
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code(), ExitCode::failure);
    EXPECT_NE(down.error().message().find("converting opset 13 to 11"), std::string::npos) << down.error().what();
}

TEST(Convert, ReEmittedTreeModelsKeepTheirMetadata) {
    TempDir dir;
    ConvertOptions o;
    o.input = lgbm_fixture("multiclass.txt");
    auto c = convert_model(o);
    ASSERT_TRUE(c) << c.error().what();
    ASSERT_TRUE(write_conversion(*c, dir / "a.onnx"));
    ConvertOptions again;
    again.input = dir / "a.onnx";
    auto c2 = convert_model(again);
    ASSERT_TRUE(c2) << c2.error().what();
    EXPECT_EQ(c2->report.objective, "multiclass num_class:3");
    EXPECT_EQ(c2->report.trees, 6u);
}

TEST(Convert, FailedWritesLeaveNothingBehind) {
    TempDir dir;
    ConvertOptions o;
    o.input = xgb_fixture("binary.json");
    auto c = convert_model(o);
    ASSERT_TRUE(c);
    auto r = write_conversion(*c, dir / "missing-dir" / "m.onnx");
    EXPECT_FALSE(r);
    EXPECT_FALSE(std::filesystem::exists(dir / "missing-dir"));
}

TEST(Convert, UnknownContentAsksForFrom) {
    TempDir dir;
    test::write_text(dir / "x.bin", "hello world");
    ConvertOptions o;
    o.input = dir / "x.bin";
    auto c = convert_model(o);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find("unknown model format"), std::string::npos);
    EXPECT_NE(c.error().hint_text().find("--from"), std::string::npos);
}

} // namespace
} // namespace edgeship::model
