#include "model/inspect.hpp"
#include "model_fixtures.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::model {
namespace {

using test::TempDir;

TEST(Inspect, TreeModelSignatureAndOps) {
    TempDir dir;
    auto proto = test::parse_onnx_text(test::k_tiny_tree);
    auto* kv = proto.add_metadata_props();
    kv->set_key("edgeship.source_format");
    kv->set_value("xgboost");
    proto.set_producer_name("edgeship");
    proto.set_producer_version("0.1.0");
    test::save_proto(proto, dir / "tree.onnx");

    auto r = inspect_model(dir / "tree.onnx");
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->ir_version, 8);
    EXPECT_EQ(r->opset_imports.at(""), 17);
    EXPECT_EQ(r->opset_imports.at("ai.onnx.ml"), 3);
    ASSERT_EQ(r->inputs.size(), 1u);
    EXPECT_EQ(format_signature(r->inputs[0]), "float[N,1]");
    EXPECT_EQ(format_signature(r->outputs[0]), "float[N,1]");
    EXPECT_EQ(r->op_histogram.at("ai.onnx.ml.TreeEnsembleRegressor"), 1u);
    EXPECT_EQ(r->metadata.at("edgeship.source_format"), "xgboost");
    EXPECT_EQ(r->initializer_count, 0u);
    EXPECT_TRUE(r->valid());

    auto j = report_to_json(*r);
    EXPECT_EQ(j["inputs"][0]["shape"][0], "N");
    EXPECT_EQ(j["inputs"][0]["shape"][1], 1);
    EXPECT_EQ(j["producer"]["name"], "edgeship");
    EXPECT_EQ(j["opset_imports"][0]["domain"], "ai.onnx");
    EXPECT_EQ(j["opset_imports"][1]["domain"], "ai.onnx.ml");
    EXPECT_EQ(j["valid"], true);
    EXPECT_EQ(j["sha256"].get<std::string>().size(), 64u);
}

TEST(Inspect, ParametersCountedFromInitializers) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_mlp), dir / "mlp.onnx");
    auto r = inspect_model(dir / "mlp.onnx");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->initializer_count, 4u);
    EXPECT_EQ(r->parameter_count, 26u);
    EXPECT_EQ(r->parameter_bytes, 26u * 4u);
    EXPECT_EQ(r->node_count, 3u);
    EXPECT_EQ(r->op_histogram.at("Gemm"), 2u);
    EXPECT_EQ(r->op_histogram.at("Relu"), 1u);
}

TEST(Inspect, UnknownDimsAndSubgraphs) {
    TempDir dir;
    auto proto = test::parse_onnx_text(R"(
<ir_version: 8, opset_import: ["" : 13]>
g (bool cond, float[?, 2] x) => (float[?, 2] y) {
  y = If (cond) <then_branch = then_g () => (float[?, 2] t) { t = Relu(x) },
                 else_branch = else_g () => (float[?, 2] e) { e = Neg(x) }>
}
)");
    test::save_proto(proto, dir / "if.onnx");
    auto r = inspect_model(dir / "if.onnx");
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(format_signature(r->inputs[1]), "float[?,2]");
    EXPECT_EQ(r->node_count, 3u); // If + one node in each branch
    EXPECT_EQ(r->op_histogram.at("Relu"), 1u);
    EXPECT_EQ(r->op_histogram.at("Neg"), 1u);
}

TEST(Inspect, InitializersListedAsInputsAreNotInputs) {
    TempDir dir;
    auto proto = test::parse_onnx_text(test::k_mlp);
    // IR 3 style: weights also appear as graph inputs.
    auto* in = proto.mutable_graph()->add_input();
    in->set_name("w1");
    in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    test::save_proto(proto, dir / "old.onnx");
    auto r = inspect_model(dir / "old.onnx");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->inputs.size(), 1u);
    EXPECT_EQ(r->inputs[0].name, "x");
}

} // namespace
} // namespace edgeship::model
