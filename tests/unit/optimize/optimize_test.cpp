#include "optimize/optimize.hpp"

#include "model/onnx_model.hpp"
#include "optimize_fixtures.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::optimize {
namespace {

using test::TempDir;

TEST(Apply, Fp16ReportsSizesAndStampsMetadata) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    OptimizeOptions o;
    o.fp16 = Fp16Options{};
    auto r = apply(m, o, {});
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->steps, (std::vector<std::string>{"fp16"}));
    EXPECT_EQ(r->parameter_count_before, 26u);
    EXPECT_EQ(r->parameter_count_after, 26u);
    EXPECT_EQ(r->parameter_bytes_before, 104u);
    EXPECT_EQ(r->parameter_bytes_after, 52u);
    EXPECT_EQ(test::metadata(m, "edgeship.optimize.steps"), "fp16");
    EXPECT_EQ(test::metadata(m, "edgeship.optimize.fp16"), "io=float32; kept_float32=none");
    EXPECT_EQ(test::metadata(m, "edgeship.optimize.parameter_bytes"), "104->52");
    EXPECT_EQ(r->size_after, m.ByteSizeLong());
}

TEST(Apply, OpsetThenQuantizeInOrder) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    OptimizeOptions o;
    o.opset = 17;
    o.quantize = QuantizeMode::dynamic_int8;
    o.per_channel = PerChannel::yes;
    auto r = apply(m, o, {});
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->steps, (std::vector<std::string>{"opset 13->17", "dynamic-int8"}));
    EXPECT_EQ(test::metadata(m, "edgeship.optimize.opset"), "13->17");
    EXPECT_EQ(test::metadata(m, "edgeship.optimize.quantize"), "dynamic-int8");
    EXPECT_EQ(test::metadata(m, "edgeship.optimize.per_channel"), "true");
    EXPECT_EQ(detail::default_opset(m), 17);
    EXPECT_EQ(detail::validation_problem(m), "");
}

TEST(Apply, ContradictoryOptionsAreUsageErrors) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    OptimizeOptions both;
    both.fp16 = Fp16Options{};
    both.quantize = QuantizeMode::dynamic_int8;
    auto r = apply(m, both, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "--fp16 and --quantize cannot be combined");
    EXPECT_EQ(r.error().code(), ExitCode::usage);
    OptimizeOptions no_data;
    no_data.quantize = QuantizeMode::static_int8;
    EXPECT_EQ(validate_options(no_data).error().message(), "--quantize static-int8 needs --calibration DATA (.npy or JSON rows)");
    OptimizeOptions stray;
    stray.calibration = "x.npy";
    EXPECT_EQ(validate_options(stray).error().code(), ExitCode::usage);
}

TEST(OptimizeFile, WritesNothingOnError) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_opt_tree), dir / "tree.onnx");
    OptimizeOptions o;
    o.fp16 = Fp16Options{};
    auto r = optimize_file(dir / "tree.onnx", dir / "out.onnx", o, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "--fp16: no op in this model can compute in float16 (kept in float32: "
                                "ai.onnx.ml.TreeEnsembleRegressor x1)");
    EXPECT_FALSE(std::filesystem::exists(dir / "out.onnx"));
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1) << "no temporary files left";
}

TEST(OptimizeFile, DryRunWritesNothing) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_opt_mlp), dir / "m.onnx");
    OptimizeOptions o;
    o.fp16 = Fp16Options{};
    auto r = optimize_file(dir / "m.onnx", dir / "out.onnx", o, {}, DryRun::yes);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->output, "");
    EXPECT_FALSE(std::filesystem::exists(dir / "out.onnx"));
}

TEST(OptimizeFile, ExternalDataOutputLoadsAndReoptimizes) {
    TempDir dir;
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    // Make the first weight big enough to go external (>= 1024 bytes): 3 x 128.
    auto* w1 = m.mutable_graph()->mutable_initializer(0);
    w1->clear_float_data();
    w1->set_dims(1, 128);
    for (int k = 0; k < 3 * 128; ++k) {
        w1->add_float_data(0.01f * static_cast<float>(k % 17));
    }
    auto* b1 = m.mutable_graph()->mutable_initializer(1);
    b1->clear_float_data();
    b1->set_dims(0, 128);
    for (int k = 0; k < 128; ++k) {
        b1->add_float_data(0.0f);
    }
    auto* w2 = m.mutable_graph()->mutable_initializer(2);
    w2->clear_float_data();
    w2->set_dims(1, 128);
    for (int k = 0; k < 2 * 128; ++k) {
        w2->add_float_data(0.5f);
    }
    m.mutable_graph()->clear_value_info();
    test::save_proto(m, dir / "m.onnx");
    OptimizeOptions o;
    o.external_data = ExternalData::yes;
    auto r = optimize_file(dir / "m.onnx", dir / "ext.onnx", o, {});
    ASSERT_TRUE(r) << r.error().what();
    ASSERT_TRUE(r->external_data);
    EXPECT_EQ(r->external_data->tensors, 2u);
    EXPECT_EQ(r->steps, (std::vector<std::string>{"external-data"}));
    EXPECT_EQ(r->size_after, std::filesystem::file_size(dir / "ext.onnx") + std::filesystem::file_size(dir / "ext.onnx.data"));
    auto loaded = model::load_model(dir / "ext.onnx");
    ASSERT_TRUE(loaded);
    EXPECT_TRUE(model::check_model(*loaded).empty());
    EXPECT_EQ(test::metadata(loaded->proto, "edgeship.optimize.external_data"), "ext.onnx.data");
    EXPECT_EQ(test::metadata(loaded->proto, "edgeship.optimize.source_sha256").size(), 64u);

    OptimizeOptions f;
    f.fp16 = Fp16Options{};
    auto again = optimize_file(dir / "ext.onnx", dir / "f.onnx", f, {});
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_EQ(again->size_before, r->size_after);
    EXPECT_EQ(again->parameter_bytes_after * 2, again->parameter_bytes_before);
    auto f16 = model::load_model(dir / "f.onnx");
    EXPECT_TRUE(model::external_data_refs(f16->proto).empty()) << "weights are back inside the file";
}

} // namespace
} // namespace edgeship::optimize
