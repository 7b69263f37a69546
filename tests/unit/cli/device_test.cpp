// In-process tests of `edgeship device …`.
#include "cli/app.hpp"
#include "cli/iothub_commands.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include "../iothub_double/double_process.hpp"

#include <gtest/gtest.h>

namespace edgeship::cli {
namespace {

using test::run_cli;

TEST(Device, ParseCreate) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    DeviceCreateOptions got;
    DeviceRunners r = device_runners();
    r.create = [&got](const DeviceCreateOptions& o, Context&) -> Result<void> {
        got = o;
        return {};
    };
    register_device(app, ctx, r);
    std::vector<std::string> args = {"device", "create", "dev1", "--edge", "--show-keys"};
    std::reverse(args.begin(), args.end());
    app.parse(args);
    ASSERT_TRUE(ctx.action());
    EXPECT_EQ(got.id, "dev1");
    EXPECT_TRUE(got.edge);
    EXPECT_TRUE(got.show_keys);
}

TEST(Device, ForbiddenIdIsRejectedBeforeAnyRequest) {
    auto r = run_cli({"device", "create", "bad id", "--edge"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "edgeship: error: device id 'bad id': character ' ' (space) is not allowed");
}

TEST(Device, CreateShowListAgainstTheDouble) {
    test::TempDir dir;
    test::DoubleProcess hub(test::source_dir(), dir.path(), nlohmann::json{{"devices", {{{"id", "leaf"}, {"edge", false}}}}});
    auto r = run_cli({"device", "create", "edge1", "--edge"}, hub.env());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "created edge device edge1\n");
    r = run_cli({"device", "show", "edge1"}, hub.env());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "device id:   edge1\nedge:        yes\nstatus:      enabled\nconnection:  Connected\nauth:        sas\n");
    r = run_cli({"device", "show", "edge1", "--json"}, hub.env());
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["authentication"]["symmetricKey"]["primaryKey"], "<redacted>");
    EXPECT_EQ(j["authentication"]["symmetricKey"]["secondaryKey"], "<redacted>");
    r = run_cli({"device", "list"}, hub.env());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "DEVICE ID\tEDGE\tSTATUS\tCONNECTION\nedge1\tyes\tenabled\tConnected\nleaf\tno\tenabled\tDisconnected\n");
    r = run_cli({"device", "show", "nosuch"}, hub.env());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("404 Not Found: DeviceNotFound: Device nosuch not found"), std::string::npos);
}

} // namespace
} // namespace edgeship::cli
