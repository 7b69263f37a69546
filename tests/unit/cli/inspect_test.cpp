#include "cli/app.hpp"
#include "cli/commands.hpp"
#include "../model/model_fixtures.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace edgeship::cli {
namespace {

using test::run_cli;
using test::TempDir;

// Parse tests: the hook captures the options and nothing runs.
TEST(InspectParse, BindsFlags) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    InspectOptions seen;
    bool ran = false;
    register_inspect(app, ctx, [&](const InspectOptions& o, Context&) -> Result<void> {
        seen = o;
        ran = true;
        return {};
    });
    app.parse(std::vector<std::string>{"--strict-shapes", "--json", "m.onnx", "inspect"});
    ASSERT_TRUE(ctx.action);
    EXPECT_FALSE(ran); // parsing only records the action
    ASSERT_TRUE(ctx.action());
    EXPECT_TRUE(ran);
    EXPECT_EQ(seen.model, "m.onnx");
    EXPECT_TRUE(seen.json);
    EXPECT_TRUE(seen.strict_shapes);
}

TEST(Inspect, TextReport) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_mlp), dir / "mlp.onnx");
    auto r = run_cli({"inspect", (dir / "mlp.onnx").string()});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("inputs:\n  x: float[batch,3]\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("outputs:\n  y: float[batch,2]\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("parameters:   26 in 4 initializers, 104 B\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  Gemm 2\n"), std::string::npos);
    EXPECT_NE(r.out.find("check:        ok"), std::string::npos);
}

TEST(Inspect, JsonReport) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_tiny_tree), dir / "t.onnx");
    auto r = run_cli({"inspect", (dir / "t.onnx").string(), "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["ir_version"], 8);
    EXPECT_EQ(j["inputs"][0]["name"], "X");
    EXPECT_EQ(j["inputs"][0]["elem_type"], "float");
    EXPECT_EQ(j["outputs"][0]["shape"], nlohmann::json::parse(R"(["N", 1])"));
    EXPECT_EQ(j["op_histogram"]["ai.onnx.ml.TreeEnsembleRegressor"], 1);
    EXPECT_EQ(j["file_size"], std::filesystem::file_size(dir / "t.onnx"));
    EXPECT_EQ(j["valid"], true);
}

TEST(Inspect, InvalidModelPrintsReportAndExitsThree) {
    TempDir dir;
    auto proto = test::parse_onnx_text(test::k_mlp);
    proto.set_ir_version(11);
    test::save_proto(proto, dir / "new.onnx");
    auto r = run_cli({"inspect", (dir / "new.onnx").string(), "--json"});
    EXPECT_EQ(r.code, 3);
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["valid"], false);
    EXPECT_EQ(j["findings"][0]["stage"], "ir_version");
    EXPECT_EQ(r.err, "edgeship: error: " + (dir / "new.onnx").string() +
                         ": invalid model: ir_version: IR version 11 is newer than this build supports "
                         "(ONNX 1.12: IR 8 at most)\n");
}

TEST(Inspect, UnreadableInputsExitOneWithOneLine) {
    TempDir dir;
    test::write_text(dir / "empty.onnx", "");
    for (const auto& path : {(dir / "empty.onnx").string(), dir.path().string(), (dir / "none.onnx").string()}) {
        auto r = run_cli({"inspect", path});
        EXPECT_EQ(r.code, 1) << path;
        EXPECT_EQ(r.out, "");
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_TRUE(r.err.starts_with("edgeship: error: " + path)) << r.err;
    }
}

TEST(Check, ValidAndInvalid) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_mlp), dir / "ok.onnx");
    auto ok = run_cli({"check", (dir / "ok.onnx").string()});
    EXPECT_EQ(ok.code, 0);
    EXPECT_EQ(ok.out, (dir / "ok.onnx").string() + ": ok\n");

    auto proto = test::parse_onnx_text(test::k_mlp);
    proto.mutable_graph()->mutable_node(0)->set_op_type("Gemmm");
    test::save_proto(proto, dir / "bad.onnx");
    auto bad = run_cli({"check", (dir / "bad.onnx").string(), "--json"});
    EXPECT_EQ(bad.code, 3);
    auto j = nlohmann::json::parse(bad.out);
    EXPECT_EQ(j["valid"], false);
    EXPECT_EQ(j["findings"][0]["stage"], "checker");
    const std::size_t n = j["findings"].size();
    EXPECT_EQ(bad.err, "edgeship: error: " + (dir / "bad.onnx").string() + ": invalid model: checker: " +
                           j["findings"][0]["message"].get<std::string>() +
                           (n == 1 ? std::string() : " (and " + std::to_string(n - 1) + " more finding" +
                                                         (n == 2 ? "" : "s") + ")") +
                           "\n");
}

} // namespace
} // namespace edgeship::cli
