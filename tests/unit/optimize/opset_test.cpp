#include "optimize/opset.hpp"

#include "optimize_fixtures.hpp"

#include <gtest/gtest.h>

namespace edgeship::optimize {
namespace {

TEST(Opset, IrVersionTable) {
    EXPECT_EQ(ir_version_for_opset(11), 6);
    EXPECT_EQ(ir_version_for_opset(13), 7);
    EXPECT_EQ(ir_version_for_opset(15), 8);
    EXPECT_EQ(ir_version_for_opset(17), 8);
    EXPECT_EQ(ir_version_for_opset(19), 9);
    EXPECT_EQ(ir_version_for_opset(21), 10);
    EXPECT_EQ(max_supported_opset(), 17);
}

TEST(Opset, UpgradeSetsIrVersionAndKeepsMetadata) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    m.set_producer_name("pytorch");
    auto* kv = m.add_metadata_props();
    kv->set_key("author");
    kv->set_value("me");
    auto change = convert_opset(m, 17, {});
    ASSERT_TRUE(change) << change.error().what();
    EXPECT_EQ(change->from, 13);
    EXPECT_EQ(change->to, 17);
    EXPECT_EQ(change->ir_from, 7);
    EXPECT_EQ(change->ir_to, 8);
    EXPECT_EQ(detail::default_opset(m), 17);
    EXPECT_EQ(m.ir_version(), 8);
    EXPECT_EQ(m.producer_name(), "pytorch");
    EXPECT_EQ(test::metadata(m, "author"), "me");
    EXPECT_EQ(test::op_types(m), (std::vector<std::string>{"Gemm", "Relu", "Gemm"}));
    EXPECT_EQ(detail::validation_problem(m), "");
}

TEST(Opset, DowngradeWithoutAdapterIsRefusedClearly) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    ASSERT_TRUE(convert_opset(m, 17, {}));
    auto down = convert_opset(m, 13, {});
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().message(),
              "cannot downgrade opset 17 to 13: the ONNX version converter has no adapter for Relu from version 14");
    EXPECT_NE(down.error().hint_text().find("re-export the model at opset 13"), std::string::npos);
    EXPECT_EQ(detail::default_opset(m), 17) << "the model is left as it was";
}

TEST(Opset, OutOfRangeTargetFailsBeforeConverting) {
    auto m = test::parse_onnx_text(test::k_opt_mlp);
    auto r = convert_opset(m, 18, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "opset 18 is outside what this build supports (1..17, ONNX 1.12.0)");
    auto same = convert_opset(m, 13, {});
    ASSERT_TRUE(same);
    EXPECT_EQ(same->from, same->to);
}

} // namespace
} // namespace edgeship::optimize
