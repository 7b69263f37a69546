#include "cli/app.hpp"
#include "cli/optimize_commands.hpp"
#include "../optimize/optimize_fixtures.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace edgeship::cli {
namespace {

using test::run_cli;
using test::TempDir;

TEST(OptimizeParse, BindsFlags) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    OptimizeOptions seen;
    register_optimize(app, ctx, [&](const OptimizeOptions& o, Context&) -> Result<void> {
        seen = o;
        return {};
    });
    std::vector<std::string> args = {"optimize", "in.onnx",       "-o",         "out.onnx", "--fp16", "--fp16-block",
                                     "Add,Mul",  "--fp16-allow", "ReduceMean", "--opset",  "17",     "--external-data",
                                     "--json",   "--dry-run"};
    std::reverse(args.begin(), args.end());
    app.parse(args);
    ASSERT_TRUE(ctx.action);
    ASSERT_TRUE(ctx.action());
    EXPECT_EQ(seen.input, "in.onnx");
    EXPECT_EQ(seen.output, "out.onnx");
    EXPECT_TRUE(seen.passes.fp16);
    EXPECT_EQ(seen.passes.fp16_block, (std::vector<std::string>{"Add,Mul"}));
    EXPECT_EQ(seen.passes.fp16_allow, (std::vector<std::string>{"ReduceMean"}));
    EXPECT_EQ(seen.opset, 17);
    EXPECT_TRUE(seen.passes.external_data);
    EXPECT_TRUE(seen.json);
    EXPECT_TRUE(seen.dry_run);
    EXPECT_EQ(seen.passes.quantize, "");
}

TEST(Optimize, TextReport) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_opt_mlp), dir / "m.onnx");
    auto r = run_cli({"optimize", (dir / "m.onnx").string(), "-o", (dir / "o.onnx").string(), "--fp16"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "optimizing " + (dir / "m.onnx").string() + "\n");
    auto size_before = std::filesystem::file_size(dir / "m.onnx");
    auto size_after = std::filesystem::file_size(dir / "o.onnx");
    std::ostringstream ratio;
    ratio << std::fixed << std::setprecision(2)
          << (size_after < size_before ? static_cast<double>(size_before) / static_cast<double>(size_after)
                                       : static_cast<double>(size_after) / static_cast<double>(size_before))
          << (size_after < size_before ? "x smaller" : "x larger");
    EXPECT_EQ(r.out, "wrote:           " + (dir / "o.onnx").string() + "\n" +
                         "size:            " + std::to_string(size_before) + " B -> " + std::to_string(size_after) +
                         " B (" + ratio.str() + ")\n" +
                         "parameter bytes: 104 B -> 52 B (2.00x smaller)\n"
                         "fp16:            3 nodes in float16, 0 kept float32; 2 casts added\n");
}

TEST(Optimize, JsonReport) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_opt_mlp), dir / "m.onnx");
    auto r = run_cli({"optimize", (dir / "m.onnx").string(), "-o", (dir / "o.onnx").string(), "--quantize",
                      "dynamic-int8", "--json", "-q"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["steps"], nlohmann::json::parse(R"(["dynamic-int8"])"));
    EXPECT_EQ(j["quantize"]["mode"], "dynamic-int8");
    EXPECT_EQ(j["quantize"]["nodes_quantized"], 2);
    EXPECT_EQ(j["parameter_bytes_before"], 104);
    EXPECT_EQ(j["size_after"], std::filesystem::file_size(dir / "o.onnx"));
    EXPECT_EQ(j["output"], (dir / "o.onnx").string());
    EXPECT_EQ(j["dry_run"], false);
    EXPECT_TRUE(j["fp16"].is_null());
}

TEST(Optimize, BadInputIsOneLineAndWritesNothing) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_opt_mlp), dir / "m.onnx");
    test::save_proto(test::parse_onnx_text(test::k_opt_tree), dir / "t.onnx");
    auto out = (dir / "o.onnx").string();
    auto mode = run_cli({"optimize", (dir / "m.onnx").string(), "-o", out, "--quantize", "int4"});
    EXPECT_EQ(mode.code, 1);
    EXPECT_EQ(mode.err, "edgeship: error: unknown quantize mode 'int4' (supported: dynamic-int8, static-int8)\n");
    auto tree = run_cli({"optimize", (dir / "t.onnx").string(), "-o", out, "--fp16"});
    EXPECT_EQ(tree.code, 1);
    EXPECT_EQ(tree.err, "optimizing " + (dir / "t.onnx").string() + "\nedgeship: error: optimizing " +
                            (dir / "t.onnx").string() +
                            ": --fp16: no op in this model can compute in float16 (kept in float32: "
                            "ai.onnx.ml.TreeEnsembleRegressor x1)\n"
                            "hint: float16 suits MatMul/Gemm/Conv networks; ai.onnx.ml tree ops have no float16 form, "
                            "and --fp16-allow OP lifts a default block\n");
    EXPECT_EQ(tree.out, "");
    auto stdout_out = run_cli({"optimize", (dir / "m.onnx").string(), "-o", "-", "--fp16"});
    EXPECT_EQ(stdout_out.code, 2);
    auto both = run_cli({"optimize", (dir / "m.onnx").string(), "-o", out, "--fp16", "--quantize", "dynamic-int8"});
    EXPECT_EQ(both.code, 2);
    EXPECT_EQ(both.err, "edgeship: error: --fp16 and --quantize cannot be combined\nhint: choose float16 or int8\n");
    EXPECT_FALSE(std::filesystem::exists(out));
}

} // namespace
} // namespace edgeship::cli
