// `edgeship convert` in-process: a parse test (the hook captures the options) and run tests with
// FakeIo asserting stdout/stderr and that failures leave no output file.

#include "cli/app.hpp"
#include "cli/convert_commands.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

namespace edgeship::cli {
namespace {

using test::run_cli;
using test::TempDir;

std::string fixture(const std::string& rel) { return (test::source_dir() / "tests/fixtures" / rel).string(); }

TEST(ConvertParse, BindsFlags) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    ConvertOptions seen;
    bool ran = false;
    register_convert(app, ctx, [&](const ConvertOptions& o, Context&) -> Result<void> {
        seen = o;
        ran = true;
        return {};
    });
    app.parse(std::vector<std::string>{"--json", "--best-iteration", "--margin", "n", "--name", "15", "--opset",
                                       "xgboost", "--from", "out.onnx", "-o", "m.json", "convert"});
    ASSERT_TRUE(ctx.action);
    EXPECT_FALSE(ran);
    ASSERT_TRUE(ctx.action());
    EXPECT_TRUE(ran);
    EXPECT_EQ(seen.model, "m.json");
    EXPECT_EQ(seen.output, "out.onnx");
    EXPECT_EQ(seen.from, "xgboost");
    EXPECT_EQ(seen.opset, 15);
    EXPECT_EQ(seen.name, "n");
    EXPECT_TRUE(seen.margin);
    EXPECT_TRUE(seen.best_iteration);
    EXPECT_TRUE(seen.json);
}

TEST(ConvertRun, JsonReport) {
    TempDir dir;
    auto out = (dir / "m.onnx").string();
    auto r = run_cli({"convert", fixture("xgboost/binary.json"), "-o", out, "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["source_format"], "xgboost-json");
    EXPECT_EQ(j["source_version"], "1.7.4");
    EXPECT_EQ(j["objective"], "binary:logistic");
    EXPECT_EQ(j["trees"], 6);
    EXPECT_EQ(j["features"], 4);
    EXPECT_EQ(j["classes"], 2);
    EXPECT_EQ(j["outputs"], nlohmann::json::array({"label", "probabilities"}));
    EXPECT_EQ(j["inputs"], nlohmann::json::array({"features"}));
    EXPECT_EQ(j["opsets"]["ai.onnx"], 17);
    EXPECT_EQ(j["opsets"]["ai.onnx.ml"], 3);
    EXPECT_EQ(j["ir_version"], 8);
    EXPECT_EQ(j["output"], out);
    EXPECT_EQ(j["sha256"].get<std::string>().size(), 64u);
    EXPECT_TRUE(std::filesystem::exists(out));
}

TEST(ConvertRun, TextModePrintsThePathOnStdoutAndASummaryOnStderr) {
    TempDir dir;
    auto out = (dir / "m.onnx").string();
    auto r = run_cli({"convert", fixture("lightgbm/multiclass.txt"), "-o", out});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, out + "\n");
    EXPECT_NE(r.err.find("converted " + fixture("lightgbm/multiclass.txt") +
                         " (lightgbm-text v4, multiclass num_class:3, 6 trees, 4 features) -> " + out +
                         " [outputs: label, probabilities], sha256 "),
              std::string::npos)
        << r.err;
    auto quiet = run_cli({"convert", fixture("lightgbm/multiclass.txt"), "-o", out, "-q"});
    EXPECT_EQ(quiet.code, 0);
    EXPECT_EQ(quiet.err, "");
}

TEST(ConvertRun, StdoutOutput) {
    auto r = run_cli({"convert", fixture("lightgbm/regression.txt"), "-o", "-", "-q"});
    ASSERT_EQ(r.code, 0) << r.err;
    onnx::ModelProto m;
    ASSERT_TRUE(m.ParseFromString(r.out));
    EXPECT_EQ(m.producer_name(), "edgeship");
    auto both = run_cli({"convert", fixture("lightgbm/regression.txt"), "-o", "-", "--json"});
    EXPECT_EQ(both.code, 2);
    EXPECT_NE(both.err.find("edgeship: error: --json cannot be combined with -o -"), std::string::npos) << both.err;
}

TEST(ConvertRun, ErrorsAreOneLineAndLeaveNoFile) {
    TempDir dir;
    auto out = dir / "m.onnx";
    auto missing = run_cli({"convert", (dir / "nope.json").string(), "-o", out.string()});
    EXPECT_EQ(missing.code, 1);
    EXPECT_EQ(missing.err.rfind("edgeship: error: ", 0), 0u) << missing.err;
    EXPECT_EQ(missing.out, "");

    auto refused = run_cli({"convert", fixture("lightgbm/refuse_truncated.txt"), "-o", out.string()});
    EXPECT_EQ(refused.code, 1);
    EXPECT_EQ(refused.err, "edgeship: error: " + fixture("lightgbm/refuse_truncated.txt") +
                               ": missing 'end of trees' (the file is truncated)\n");

    std::string text = test::read_text(fixture("lightgbm/regression.txt"));
    text.replace(text.find("left_child=1 -1 -3 -4"), 21, "left_child=7 -1 -3 -4");
    test::write_text(dir / "bad.txt", text);
    auto invalid = run_cli({"convert", (dir / "bad.txt").string(), "-o", out.string()});
    EXPECT_EQ(invalid.code, 3);
    EXPECT_NE(invalid.err.find("tree 0 node 0: left child 7 is out of range"), std::string::npos) << invalid.err;
    EXPECT_FALSE(std::filesystem::exists(out));
    // Nothing else either: no temporary files left in the directory.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
        ++entries;
    }
    EXPECT_EQ(entries, 1u); // bad.txt only

    auto bad_from = run_cli({"convert", fixture("lightgbm/regression.txt"), "-o", out.string(), "--from", "catboost"});
    EXPECT_EQ(bad_from.code, 2);
    auto no_output = run_cli({"convert", fixture("lightgbm/regression.txt")});
    EXPECT_EQ(no_output.code, 2);
}

TEST(ConvertRun, HelpHasExamples) {
    auto r = run_cli({"convert", "--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("Examples:"), std::string::npos);
    EXPECT_NE(r.out.find("--best-iteration"), std::string::npos);
}

} // namespace
} // namespace edgeship::cli
