#include "cli/app.hpp"
#include "cli/io.hpp"
#include "cli/solution_commands.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <CLI/CLI.hpp>

namespace edgeship::cli {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string example_model() { return (test::source_dir() / "examples/predictive-maintenance/model.onnx").string(); }

TEST(InitCommand, ParsesFlagsIntoOptions) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    InitOptions seen;
    register_init(app, ctx, [&](const InitOptions& o, Context&) {
        seen = o;
        return Result<void>();
    });
    app.parse(std::vector<std::string>{"arm64v8,amd64", "--platforms", "node-onnxruntime", "--runtime", "pm", "--module",
                                       "myacr.azurecr.io", "--registry", "--dry-run", "dir", "init"});
    ASSERT_TRUE(ctx.action);
    ASSERT_TRUE(ctx.action());
    EXPECT_EQ(seen.dir, "dir");
    EXPECT_EQ(seen.module, "pm");
    EXPECT_EQ(seen.runtime, "node-onnxruntime");
    EXPECT_EQ(seen.platforms, (std::vector<std::string>{"arm64v8", "amd64"}));
    EXPECT_EQ(seen.registry, "myacr.azurecr.io");
    EXPECT_TRUE(seen.dry_run);
}

TEST(InitCommand, WritesTheSolutionAndListsFiles) {
    TempDir dir;
    FakeIo fake;
    std::string sol = (dir / "pm").string();
    int rc = run({"init", sol, "--model", example_model()}, fake.io, {});
    EXPECT_EQ(rc, 0) << fake.err.str();
    EXPECT_EQ(fake.err.str(), "created " + sol + " with module scoring (python-onnxruntime)\nnext: edgeship gen --solution " +
                                  sol + "\n");
    std::string out = fake.out.str();
    EXPECT_EQ(out.rfind(sol + "/.env\n" + sol + "/.gitignore\n" + sol + "/deployment.debug.template.json\n", 0), 0u) << out;
    EXPECT_NE(out.find(sol + "/modules/scoring/model/model.onnx\n"), std::string::npos);
    EXPECT_TRUE(fs::is_regular_file(dir / "pm/modules/scoring/app/main.py"));
}

TEST(InitCommand, DryRunJsonWritesNothing) {
    TempDir dir;
    FakeIo fake;
    std::string sol = (dir / "pm").string();
    int rc = run({"init", sol, "--runtime", "node-onnxruntime", "--dry-run", "--json"}, fake.io, {});
    EXPECT_EQ(rc, 0) << fake.err.str();
    EXPECT_EQ(fake.err.str(), "");
    auto j = nlohmann::json::parse(fake.out.str());
    EXPECT_EQ(j["runtime"], "node-onnxruntime");
    EXPECT_EQ(j["dry_run"], true);
    EXPECT_EQ(j["files"][0]["path"], sol + "/.env");
    EXPECT_EQ(j["files"][0]["action"], "create");
    EXPECT_FALSE(fs::exists(dir / "pm"));
}

TEST(InitCommand, RefusedPlatformIsAUsageError) {
    TempDir dir;
    FakeIo fake;
    int rc = run({"init", (dir / "x").string(), "--platforms", "arm32v7"}, fake.io, {});
    EXPECT_EQ(rc, 2);
    EXPECT_EQ(fake.out.str(), "");
    EXPECT_EQ(fake.err.str(), "edgeship: error: init " + (dir / "x").string() +
                                  ": runtime python-onnxruntime cannot serve platform arm32v7: ONNX Runtime publishes no "
                                  "Python wheels for 32-bit ARM (linux/arm/v7); use arm64v8 on a 64-bit OS\n"
                                  "hint: drop arm32v7 from --platforms\n");
}

} // namespace
} // namespace edgeship::cli
