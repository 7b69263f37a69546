#include "optimize/float16.hpp"

#include "optimize/detail/tensor_data.hpp"
#include "optimize/evaluator.hpp"
#include "optimize_fixtures.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace edgeship::optimize {
namespace {

using TP = onnx::TensorProto;

int input_type(const onnx::ModelProto& m, int k) { return m.graph().input(k).type().tensor_type().elem_type(); }
int output_type(const onnx::ModelProto& m, int k) { return m.graph().output(k).type().tensor_type().elem_type(); }

TEST(Float16, HalfConversionRoundsToNearestEven) {
    EXPECT_EQ(detail::float_to_half(1.0f), 0x3C00);
    EXPECT_EQ(detail::float_to_half(-2.0f), 0xC000);
    EXPECT_EQ(detail::float_to_half(65504.0f), 0x7BFF);
    EXPECT_EQ(detail::float_to_half(1.0f + 1.0f / 2048.0f), 0x3C00); // halfway: to even
    EXPECT_FLOAT_EQ(detail::half_to_float(0x3555), 0.33325195f);
}

TEST(Float16, MlpKeepsFloatIoBehindCasts) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    auto stats = convert_to_float16(m, {}, {});
    ASSERT_TRUE(stats) << stats.error().what();
    EXPECT_EQ(stats->nodes_fp16, 3u);
    EXPECT_EQ(stats->nodes_fp32, 0u);
    EXPECT_EQ(stats->casts_added, 2u);
    EXPECT_EQ(stats->tensors_converted, 4u);
    EXPECT_EQ(test::op_types(m), (std::vector<std::string>{"Cast", "Gemm", "Relu", "Gemm", "Cast"}));
    EXPECT_EQ(input_type(m, 0), TP::FLOAT);
    EXPECT_EQ(output_type(m, 0), TP::FLOAT);
    EXPECT_EQ(m.graph().node(0).input(0), "x");
    EXPECT_EQ(m.graph().node(4).output(0), "y");
    EXPECT_EQ(m.graph().node(4).attribute(0).i(), TP::FLOAT);
    for (const auto& t : m.graph().initializer()) {
        EXPECT_EQ(t.data_type(), TP::FLOAT16) << t.name();
        EXPECT_EQ(t.raw_data().size(), detail::element_count(t) * 2);
    }
    EXPECT_EQ(detail::validation_problem(m), "");
}

TEST(Float16, OutputsStayCloseToFloat32) {
    auto ref = test::parse_onnx_text(test::k_opt_mlp);
    auto m = ref;
    ASSERT_TRUE(convert_to_float16(m, {}, {}));
    Tensor x;
    x.dims = {2, 3};
    x.f = {1, 2, 3, -0.7f, 0.2f, 1.9f};
    auto a = Evaluator::create(ref, {"y"})->run({{"x", x}});
    auto b = Evaluator::create(m, {"y"})->run({{"x", x}}); // the evaluator reads the float16 weights
    ASSERT_TRUE(a && b);
    for (std::size_t k = 0; k < a->at("y").f.size(); ++k) {
        EXPECT_NEAR(b->at("y").f[k], a->at("y").f[k], 1e-2 * std::fabs(a->at("y").f[k]) + 1e-3);
    }
}

TEST(Float16, CastToFloatAndConstantsFollow) {
    auto m = test::parse_onnx_text(test::k_opt_cast_constant);
    auto stats = convert_to_float16(m, {}, {});
    ASSERT_TRUE(stats) << stats.error().what();
    const onnx::NodeProto* cast = nullptr;
    const onnx::NodeProto* constant = nullptr;
    for (const auto& n : m.graph().node()) {
        if (n.op_type() == "Cast" && n.input(0) == "i") {
            cast = &n;
        }
        if (n.op_type() == "Constant") {
            constant = &n;
        }
    }
    ASSERT_NE(cast, nullptr);
    EXPECT_EQ(cast->attribute(0).i(), TP::FLOAT16) << "Cast(to=FLOAT) must become Cast(to=FLOAT16)";
    ASSERT_NE(constant, nullptr);
    const auto& value = constant->attribute(0).t();
    EXPECT_EQ(value.data_type(), TP::FLOAT16);
    auto values = detail::float_values(value);
    ASSERT_TRUE(values);
    EXPECT_EQ(*values, (std::vector<float>{0.5f, 65504.0f})); // 1e5 clipped to the float16 maximum
    EXPECT_EQ(stats->values_clipped, 1u);
    EXPECT_EQ(input_type(m, 1), TP::FLOAT);
    EXPECT_EQ(output_type(m, 0), TP::FLOAT);
    EXPECT_EQ(detail::validation_problem(m), "");
}

TEST(Float16, BlockedOpStaysFloat32BetweenCasts) {
    auto m = test::parse_onnx_text(test::k_opt_reduce);
    auto stats = convert_to_float16(m, {}, {});
    ASSERT_TRUE(stats) << stats.error().what();
    EXPECT_EQ(stats->kept_ops, (std::map<std::string, std::size_t>{{"ReduceMean", 1}}));
    EXPECT_EQ(test::op_types(m),
              (std::vector<std::string>{"Cast", "MatMul", "Cast", "ReduceMean", "Cast", "Mul", "Cast"}));
    EXPECT_EQ(detail::validation_problem(m), "");

    // The block list is configurable: allowing ReduceMean removes the Casts around it.
    auto m2 = test::parse_onnx_text(test::k_opt_reduce);
    Fp16Options opts;
    opts.block_list.erase("ReduceMean");
    ASSERT_TRUE(convert_to_float16(m2, opts, {}));
    EXPECT_EQ(test::op_types(m2), (std::vector<std::string>{"Cast", "MatMul", "ReduceMean", "Mul", "Cast"}));
    // And blocking Mul keeps its weight in float32.
    auto m3 = test::parse_onnx_text(test::k_opt_reduce);
    Fp16Options block_mul;
    block_mul.block_list.insert("Mul");
    ASSERT_TRUE(convert_to_float16(m3, block_mul, {}));
    EXPECT_EQ(test::find_initializer(m3, "k")->data_type(), TP::FLOAT);
    EXPECT_EQ(test::find_initializer(m3, "w")->data_type(), TP::FLOAT16);
    EXPECT_EQ(detail::validation_problem(m3), "");
}

TEST(Float16, TinyWeightsAreFlushedToTheFloat16Minimum) {
    auto m = test::parse_onnx_text(R"(
<ir_version: 7, opset_import: ["" : 13]>
tiny (float[N, 3] x) => (float[N, 3] y) <float[3] w = {1e-9, -1e-9, 0}> {
  y = Mul(x, w)
}
)");
    auto stats = convert_to_float16(m, {}, {});
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->values_flushed, 2u);
    auto v = detail::float_values(*test::find_initializer(m, "w"));
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, (std::vector<float>{5.9604645e-08f, -5.9604645e-08f, 0.0f}));
}

TEST(Float16, ModelWithoutFloat16CapableOpsIsRefused) {
    auto m = test::parse_onnx_text(test::k_opt_tree);
    auto stats = convert_to_float16(m, {}, {});
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().message(),
              "no op in this model can compute in float16 (kept in float32: ai.onnx.ml.TreeEnsembleRegressor x1)");
    EXPECT_EQ(stats.error().code(), ExitCode::failure);
}

TEST(Float16, GraphOutputUsedInsideTheGraphKeepsBothPrecisions) {
    auto m = test::parse_onnx_text(R"(
<ir_version: 7, opset_import: ["" : 13]>
two (float[N, 2] x) => (float[N, 2] h, float[N, 2] y) <float[2] w = {2, 3}> {
  h = Mul(x, w)
  y = Relu(h)
}
)");
    ASSERT_TRUE(convert_to_float16(m, {}, {}));
    EXPECT_EQ(test::op_types(m), (std::vector<std::string>{"Cast", "Mul", "Cast", "Relu", "Cast"}));
    EXPECT_EQ(m.graph().node(2).output(0), "h");
    EXPECT_NE(m.graph().node(3).input(0), "h"); // Relu reads the float16 copy
    EXPECT_EQ(detail::validation_problem(m), "");
}

// If bodies: converted as graphs of their own, the boundary (branch outputs, the outer value h, the
// If node) keeps float32.
constexpr const char* k_if_model = R"(
<ir_version: 7, opset_import: ["" : 13]>
g (float[N, 4] x, bool c) => (float[N, 2] y) <float[4, 4] w0 = {1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1}> {
  h = MatMul(x, w0)
  y = If(c) <then_branch = g1 () => (float[N, 2] t) <float[4, 2] w1 = {1,2,3,4,5,6,7,8}> {
      t0 = MatMul(h, w1)
      t = Relu(t0)
    }, else_branch = g2 () => (float[N, 2] e) <float[4, 2] w2 = {1,1,1,1,2,2,2,2}, float[2] b = {0.5, 1}> {
      m = MatMul(h, w2)
      e = Add(m, b)
    }>
}
)";

TEST(Float16, IfBodiesAreConvertedBehindTheirBoundary) {
    auto m = test::parse_onnx_text(k_if_model);
    auto stats = convert_to_float16(m, {}, {});
    ASSERT_TRUE(stats) << stats.error().what();
    EXPECT_EQ(stats->subgraphs_fp16, 2u);
    EXPECT_EQ(stats->subgraphs_fp32, 0u);
    EXPECT_EQ(stats->kept_ops.at("If"), 1u);
    EXPECT_EQ(detail::validation_problem(m), "");
    const onnx::NodeProto* if_node = nullptr;
    for (const auto& n : m.graph().node()) {
        if (n.op_type() == "If") {
            if_node = &n;
        }
    }
    ASSERT_NE(if_node, nullptr);
    EXPECT_EQ(if_node->output(0), "y");
    for (const auto& a : if_node->attribute()) {
        const auto& body = a.g();
        for (const auto& t : body.initializer()) {
            EXPECT_EQ(t.data_type(), TP::FLOAT16) << a.name() << " " << t.name();
        }
        EXPECT_EQ(body.output(0).type().tensor_type().elem_type(), TP::FLOAT) << a.name();
        EXPECT_EQ(body.input_size(), 0) << a.name(); // the outer value h did not become a formal input
        // h comes in float32 and is cast inside; the result is cast back before it leaves the body.
        auto ops = std::vector<std::string>();
        for (const auto& n : body.node()) {
            ops.push_back(n.op_type());
        }
        EXPECT_EQ(ops.front(), "Cast") << a.name();
        EXPECT_EQ(body.node(0).input(0), "h") << a.name();
        EXPECT_EQ(ops.back(), "Cast") << a.name();
    }
    // The main graph still hands h to the bodies in float32 (a Cast restores the pinned name).
    EXPECT_EQ(test::find_initializer(m, "w0")->data_type(), TP::FLOAT16);
}

TEST(Float16, BlockingIfKeepsItsBodiesFloat32) {
    auto m = test::parse_onnx_text(k_if_model);
    Fp16Options o;
    o.block_list.insert("If");
    auto stats = convert_to_float16(m, o, {});
    ASSERT_TRUE(stats) << stats.error().what();
    EXPECT_EQ(stats->subgraphs_fp16, 0u);
    for (const auto& a : m.graph().node(m.graph().node_size() - 1).attribute()) {
        for (const auto& t : a.g().initializer()) {
            EXPECT_EQ(t.data_type(), TP::FLOAT) << t.name();
        }
    }
    EXPECT_EQ(detail::validation_problem(m), "");
}

} // namespace
} // namespace edgeship::optimize
