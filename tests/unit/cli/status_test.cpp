// In-process tests of `edgeship status`.
#include "cli/app.hpp"
#include "cli/iothub_commands.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include "../iothub_double/double_process.hpp"

#include <gtest/gtest.h>

namespace edgeship::cli {
namespace {

using test::run_cli;

TEST(Status, ParseDeviceAndWait) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    StatusOptions got;
    register_status(app, ctx, [&got](const StatusOptions& o, Context&) -> Result<void> {
        got = o;
        return {};
    });
    std::vector<std::string> args = {"status", "--device", "dev1", "--wait", "--timeout", "30s", "--json"};
    std::reverse(args.begin(), args.end());
    app.parse(args);
    ASSERT_TRUE(ctx.action());
    EXPECT_EQ(got.device, "dev1");
    EXPECT_TRUE(got.wait.wait);
    EXPECT_EQ(got.wait.timeout, "30s");
    EXPECT_TRUE(got.json);
}

TEST(Status, DeviceAndDeploymentExcludeEachOther) {
    auto r = run_cli({"status", "--device", "a", "--deployment", "b"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err.substr(0, 16), "edgeship: error:");
}

TEST(Status, OneTargetIsRequired) {
    auto r = run_cli({"status"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: give --device ID or --deployment ID\n"
                     "hint: edgeship status --device dev1, or edgeship status --deployment score-v2\n");
}

TEST(Status, BadTimeoutIsAUsageError) {
    test::TempDir dir;
    test::DoubleProcess hub(test::source_dir(), dir.path(), nlohmann::json{{"devices", {{{"id", "dev1"}}}}});
    auto r = run_cli({"status", "--device", "dev1", "--wait", "--timeout", "soon"}, hub.env());
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: --timeout 'soon': expected a duration like 30s, 5m or 1h\n");
}

TEST(Status, FleetSummaryAgainstTheDouble) {
    test::TempDir dir;
    nlohmann::json manifest = {{"$edgeAgent", {{"properties.desired", {{"modules", {{"m", {{"status", "running"}, {"settings", {{"image", "m:1"}}}}}}}}}}}};
    nlohmann::json scenario = {
        {"fleet", {{"count", 5}, {"prefix", "d"}, {"tags", {{"env", "prod"}}}}},
        {"configurations", {{{"id", "v1"}, {"schemaVersion", "2.0"}, {"content", {{"modulesContent", manifest}}},
                              {"targetCondition", "tags.env='prod'"}, {"priority", 1}}}}};
    test::DoubleProcess hub(test::source_dir(), dir.path(), scenario);
    auto r = run_cli({"status", "--deployment", "v1", "--page-size", "2"}, hub.env());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "deployment v1: 5/5 succeeded, 0 failed, 0 pending (targeted 5, applied 5)\n");
    r = run_cli({"status", "--deployment", "v1", "--json"}, hub.env());
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["targeted"], 5);
    EXPECT_EQ(j["complete"], true);
}

} // namespace
} // namespace edgeship::cli
