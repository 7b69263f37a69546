#include "optimize/quantize.hpp"

#include "optimize/detail/tensor_data.hpp"
#include "optimize/evaluator.hpp"
#include "optimize_fixtures.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace edgeship::optimize {
namespace {

using TP = onnx::TensorProto;

TEST(QuantizeMode, ParsesKnownModesAndNamesTheOthers) {
    EXPECT_EQ(*parse_quantize_mode("dynamic-int8"), QuantizeMode::dynamic_int8);
    EXPECT_EQ(*parse_quantize_mode("static-int8"), QuantizeMode::static_int8);
    auto bad = parse_quantize_mode("int4");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message(), "unknown quantize mode 'int4' (supported: dynamic-int8, static-int8)");
    EXPECT_EQ(bad.error().code(), ExitCode::failure);
}

TEST(QuantizeDynamic, GemmsBecomeMatMulInteger) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    auto stats = quantize_dynamic(m, PerChannel::no, {});
    ASSERT_TRUE(stats) << stats.error().what();
    EXPECT_EQ(stats->nodes_quantized, 2u);
    EXPECT_EQ(stats->weights_quantized, 2u);
    EXPECT_EQ(test::op_types(m), (std::vector<std::string>{"DynamicQuantizeLinear", "MatMulInteger", "Cast", "Mul", "Mul",
                                                            "Add", "Relu", "DynamicQuantizeLinear", "MatMulInteger",
                                                            "Cast", "Mul", "Mul", "Add"}));
    EXPECT_EQ(test::find_initializer(m, "w1"), nullptr) << "float weights are dropped";
    EXPECT_EQ(test::find_initializer(m, "w2"), nullptr);
    const auto* w2q = test::find_initializer(m, "w2_quantized");
    ASSERT_NE(w2q, nullptr);
    EXPECT_EQ(w2q->data_type(), TP::INT8);
    EXPECT_EQ(std::vector<std::int64_t>(w2q->dims().begin(), w2q->dims().end()), (std::vector<std::int64_t>{4, 2}))
        << "transB weights are stored as [K, N] for MatMulInteger";
    // Symmetric: scale = max|w| / 127 and q * scale reproduces w within half a step.
    auto scale = detail::float_values(*test::find_initializer(m, "w2_scale"));
    ASSERT_TRUE(scale);
    EXPECT_FLOAT_EQ(scale->at(0), 2.0f / 127.0f);
    auto q = detail::float_values(*w2q);
    std::vector<float> w2t = {1, -0.5f, -1, 0.25f, 0.5f, 1, 2, -1.5f}; // w2 transposed
    for (std::size_t k = 0; k < w2t.size(); ++k) {
        EXPECT_NEAR(q->at(k) * scale->at(0), w2t[k], scale->at(0) / 2 + 1e-7);
    }
    EXPECT_EQ(m.graph().node(m.graph().node_size() - 1).output(0), "y");
    EXPECT_EQ(detail::validation_problem(m), "");
}

TEST(QuantizeDynamic, PerChannelHasOneScalePerColumn) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    ASSERT_TRUE(quantize_dynamic(m, PerChannel::yes, {}));
    const auto* s = test::find_initializer(m, "w1_scale");
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(s->dims_size(), 1);
    EXPECT_EQ(s->dims(0), 4);
    auto v = detail::float_values(*s);
    EXPECT_FLOAT_EQ(v->at(2), 2.0f / 127.0f); // column 2 of w1 is {2, -2, -0.3}
    EXPECT_FLOAT_EQ(v->at(3), 1.0f / 127.0f);
    EXPECT_EQ(test::find_initializer(m, "w1_zero_point")->dims(0), 4);
    EXPECT_EQ(detail::validation_problem(m), "");
}

TEST(QuantizeDynamic, NeedsOpset11AndSomethingToQuantize) {
    auto old = test::parse_onnx_text(R"(
<ir_version: 5, opset_import: ["" : 10]>
old (float[N, 2] x) => (float[N, 2] y) <float[2, 2] w = {1, 2, 3, 4}> {
  y = MatMul(x, w)
}
)");
    auto r = quantize_dynamic(old, PerChannel::no, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(),
              "dynamic-int8 (DynamicQuantizeLinear) needs ai.onnx opset 11 or newer; the model has 10");
    EXPECT_EQ(r.error().hint_text(), "add --opset 13 to convert the model first");
    auto relu = test::parse_onnx_text(R"(
<ir_version: 7, opset_import: ["" : 13]>
r (float[N, 2] x) => (float[N, 2] y) { y = Relu(x) }
)");
    EXPECT_FALSE(quantize_dynamic(relu, PerChannel::no, {}));
}

CalibrationData rows_for_mlp() {
    CalibrationData d;
    d.path = "rows.json";
    d.rows = 2;
    Tensor t;
    t.dims = {2, 3};
    t.f = {-2, 1, 0.5f, 3, -1, 0};
    d.inputs["x"] = t;
    return d;
}

TEST(QuantizeStatic, ScalesComeFromTheCalibrationRange) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    auto stats = quantize_static(m, rows_for_mlp(), PerChannel::no, {});
    ASSERT_TRUE(stats) << stats.error().what();
    EXPECT_EQ(stats->nodes_quantized, 2u);
    EXPECT_EQ(stats->activations_calibrated, 2u);
    // x spans [-2, 3]: int8 symmetric, scale 3/127, zero point 0 (docs/design/onnx.md §10.5).
    const auto* xs = test::find_initializer(m, "x_scale");
    ASSERT_NE(xs, nullptr);
    EXPECT_FLOAT_EQ(detail::float_values(*xs)->at(0), 3.0f / 127.0f);
    EXPECT_EQ(test::find_initializer(m, "x_zero_point")->data_type(), TP::INT8);
    // r = relu(h) is non-negative: uint8 with zero point 0 and scale max/255. Compute max(r) here.
    auto ref = test::parse_onnx_text(test::k_opt_mlp);
    auto r = Evaluator::create(ref, {"r"})->run({{"x", rows_for_mlp().inputs["x"]}});
    ASSERT_TRUE(r);
    float rmax = *std::max_element(r->at("r").f.begin(), r->at("r").f.end());
    EXPECT_FLOAT_EQ(detail::float_values(*test::find_initializer(m, "r_scale"))->at(0), rmax / 255.0f);
    EXPECT_EQ(test::find_initializer(m, "r_zero_point")->data_type(), TP::UINT8);
    EXPECT_EQ(test::op_types(m), (std::vector<std::string>{"QuantizeLinear", "DequantizeLinear", "DequantizeLinear",
                                                            "Gemm", "Relu", "QuantizeLinear", "DequantizeLinear",
                                                            "DequantizeLinear", "Gemm"}));
    EXPECT_EQ(test::find_initializer(m, "w1"), nullptr);
    EXPECT_EQ(test::find_initializer(m, "w1_quantized")->data_type(), TP::INT8);
    EXPECT_EQ(detail::validation_problem(m), "");
}

TEST(QuantizeStatic, PerChannelConvUsesAxisZero) {
    auto m = test::parse_onnx_text(test::k_opt_cnn);
    CalibrationData d;
    d.path = "x.npy";
    d.rows = 1;
    Tensor t;
    t.dims = {1, 1, 4, 4};
    t.f.assign(16, 0.5f);
    d.inputs["x"] = t;
    auto stats = quantize_static(m, d, PerChannel::yes, {});
    ASSERT_TRUE(stats) << stats.error().what();
    EXPECT_EQ(stats->quantized_ops, (std::map<std::string, std::size_t>{{"Conv", 1}, {"Gemm", 1}}));
    const onnx::NodeProto* dq = nullptr;
    for (const auto& n : m.graph().node()) {
        if (n.op_type() == "DequantizeLinear" && n.input(0) == "cw_quantized") {
            dq = &n;
        }
    }
    ASSERT_NE(dq, nullptr);
    ASSERT_EQ(dq->attribute_size(), 1);
    EXPECT_EQ(dq->attribute(0).i(), 0);
    EXPECT_EQ(test::find_initializer(m, "cw_scale")->dims(0), 2);
    EXPECT_EQ(detail::validation_problem(m), "");
}

TEST(QuantizeStatic, OpTheEvaluatorCannotRunIsNamed) {
    auto m = test::parse_onnx_text(R"(
<ir_version: 7, opset_import: ["" : 13]>
erf (float[N, 2] x) => (float[N, 2] y) <float[2, 2] w = {1, 2, 3, 4}> {
  e = Erf(x)
  y = MatMul(e, w)
}
)");
    CalibrationData d;
    d.rows = 1;
    d.inputs["x"].dims = {1, 2};
    d.inputs["x"].f = {1, 2};
    auto r = quantize_static(m, d, PerChannel::no, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(),
              "static-int8: calibration needs to run Erf (node 0), which edgeship's reference evaluator does not support");
}

} // namespace
} // namespace edgeship::optimize
