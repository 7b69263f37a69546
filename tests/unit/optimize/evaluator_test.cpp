#include "optimize/evaluator.hpp"

#include "optimize_fixtures.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace edgeship::optimize {
namespace {

Tensor make(std::vector<std::int64_t> dims, std::vector<float> v) {
    Tensor t;
    t.dims = std::move(dims);
    t.f = std::move(v);
    return t;
}

TEST(Evaluator, MlpMatchesHandComputation) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    auto ev = Evaluator::create(m, {"h", "y"});
    ASSERT_TRUE(ev) << ev.error().what();
    auto out = ev->run({{"x", make({1, 3}, {1, 2, 3})}});
    ASSERT_TRUE(out) << out.error().what();
    // h = x·w1 + b1
    std::vector<float> h = {0.5f - 1.0f + 2.25f + 0.1f, -1.0f + 3.0f + 0.3f - 0.2f, 2.0f - 4.0f - 0.9f + 0.3f,
                            0.25f + 2.0f + 2.7f};
    ASSERT_EQ(out->at("h").dims, (std::vector<std::int64_t>{1, 4}));
    for (int k = 0; k < 4; ++k) {
        EXPECT_NEAR(out->at("h").f[static_cast<std::size_t>(k)], h[static_cast<std::size_t>(k)], 1e-5);
    }
    // y = relu(h)·w2ᵀ + b2
    std::vector<float> r = {h[0] > 0 ? h[0] : 0, h[1] > 0 ? h[1] : 0, h[2] > 0 ? h[2] : 0, h[3] > 0 ? h[3] : 0};
    float y0 = r[0] * 1 + r[1] * -1 + r[2] * 0.5f + r[3] * 2 + 0.5f;
    float y1 = r[0] * -0.5f + r[1] * 0.25f + r[2] * 1 + r[3] * -1.5f - 0.5f;
    EXPECT_NEAR(out->at("y").f[0], y0, 1e-5);
    EXPECT_NEAR(out->at("y").f[1], y1, 1e-5);
}

TEST(Evaluator, CnnOpsMatchHandComputation) {
    auto m = test::parse_onnx_text(test::k_opt_cnn);
    auto ev = Evaluator::create(m, {"c", "p", "y"});
    ASSERT_TRUE(ev) << ev.error().what();
    std::vector<float> x(16, 1.0f); // all ones
    auto out = ev->run({{"x", make({1, 1, 4, 4}, x)}});
    ASSERT_TRUE(out) << out.error().what();
    const auto& c = out->at("c");
    ASSERT_EQ(c.dims, (std::vector<std::int64_t>{1, 2, 4, 4}));
    // Channel 0 is a Laplacian: corner = 1+1-4 = -2, edge = -1, centre 0; plus bias 0.5.
    EXPECT_FLOAT_EQ(c.f[0], -1.5f);
    EXPECT_FLOAT_EQ(c.f[1], -0.5f);
    EXPECT_FLOAT_EQ(c.f[5], 0.5f);
    // Channel 1: corner sums 0.4+0.2+0.2+0.1 = 0.9, minus 0.5.
    EXPECT_NEAR(c.f[16], 0.4f, 1e-6);
    const auto& p = out->at("p");
    ASSERT_EQ(p.dims, (std::vector<std::int64_t>{1, 2, 2, 2}));
    EXPECT_FLOAT_EQ(p.f[0], 0.5f); // max of relu over the top-left 2x2 block of channel 0
    ASSERT_EQ(out->at("y").dims, (std::vector<std::int64_t>{1, 2}));
}

TEST(Evaluator, PoolingCeilModeAndPadsCountOnlyRealCells) {
    auto m = test::parse_onnx_text(R"(
<ir_version: 7, opset_import: ["" : 13]>
pool (float[1, 1, 3, 3] x) => (float[1, 1, 2, 2] y) {
  y = AveragePool <kernel_shape = [2, 2], strides = [2, 2], ceil_mode = 1> (x)
}
)");
    auto ev = Evaluator::create(m, {"y"});
    ASSERT_TRUE(ev);
    auto out = ev->run({{"x", make({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})}});
    ASSERT_TRUE(out) << out.error().what();
    EXPECT_EQ(out->at("y").f, (std::vector<float>{3.0f, 4.5f, 7.5f, 9.0f}));
}

TEST(Evaluator, SoftmaxAndReshapeThroughShapeOps) {
    auto m = test::parse_onnx_text(R"(
<ir_version: 7, opset_import: ["" : 13]>
sm (float[N, 2, 2] x) => (float[N, 4] y) {
  s = Shape(x)
  zero = Constant <value = int64[1] {0}> ()
  n = Gather(s, zero)
  minus = Constant <value = int64[1] {-1}> ()
  shape = Concat <axis = 0> (n, minus)
  f = Reshape(x, shape)
  y = Softmax <axis = 1> (f)
}
)");
    auto ev = Evaluator::create(m, {"y"});
    ASSERT_TRUE(ev) << ev.error().what();
    auto out = ev->run({{"x", make({1, 2, 2}, {0, 0, 0, std::log(2.0f)})}});
    ASSERT_TRUE(out) << out.error().what();
    ASSERT_EQ(out->at("y").dims, (std::vector<std::int64_t>{1, 4}));
    EXPECT_NEAR(out->at("y").f[0], 0.2f, 1e-6);
    EXPECT_NEAR(out->at("y").f[3], 0.4f, 1e-6);
}

TEST(Evaluator, UnsupportedOpOnThePathIsNamed) {
    auto m = test::parse_onnx_text(R"(
<ir_version: 7, opset_import: ["" : 13]>
erf (float[N, 2] x) => (float[N, 2] y) {
  e = Erf(x)
  y = Relu(e)
}
)");
    auto ev = Evaluator::create(m, {"y"});
    ASSERT_FALSE(ev);
    EXPECT_EQ(ev.error().message(), "calibration needs to run Erf (node 0), which edgeship's reference evaluator does not support");
    EXPECT_NE(ev.error().hint_text().find("Conv"), std::string::npos);
    // Values that do not depend on the unsupported op are fine.
    EXPECT_TRUE(Evaluator::create(m, {"x"}));
}

} // namespace
} // namespace edgeship::optimize
