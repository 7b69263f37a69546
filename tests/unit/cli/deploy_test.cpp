// In-process tests of `edgeship deploy` (parse via hooks, run with FakeIo) and of the shared IoT Hub
// helpers; runs that need a hub use the HTTPS test double (tests/iothub_double).
#include "cli/app.hpp"
#include "cli/iothub_commands.hpp"
#include "edgeship/version_info.hpp"
#include "http/client.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include "../iothub_double/double_process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace edgeship::cli {
namespace {

using test::run_cli;
using test::TempDir;

const std::string k_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const std::string k_cs = "HostName=testhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" + k_key;

std::string manifest_text() {
    return R"({"modulesContent":{"$edgeAgent":{"properties.desired":{"schemaVersion":"1.1","runtime":{"type":"docker","settings":{"minDockerVersion":"v1.25","loggingOptions":"","registryCredentials":{}}},"systemModules":{"edgeAgent":{"type":"docker","settings":{"image":"mcr.microsoft.com/azureiotedge-agent:1.4","createOptions":"{}"}},"edgeHub":{"type":"docker","status":"running","restartPolicy":"always","settings":{"image":"mcr.microsoft.com/azureiotedge-hub:1.4","createOptions":"{}"}}},"modules":{"score":{"version":"1.0","type":"docker","status":"running","restartPolicy":"always","settings":{"image":"localhost:5000/score:0.0.1-amd64","createOptions":"{}"}}}}},"$edgeHub":{"properties.desired":{"schemaVersion":"1.2","routes":{"scoreToIoTHub":"FROM /messages/modules/score/outputs/* INTO $upstream"},"storeAndForwardConfiguration":{"timeToLiveSecs":7200}}}}})";
}

template <class Options, class Register>
Options parse_with_hook(Register reg, std::vector<std::string> args) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    Options captured;
    reg(app, ctx, [&captured](const Options& o, Context&) -> Result<void> {
        captured = o;
        return {};
    });
    std::reverse(args.begin(), args.end());
    app.parse(args);
    EXPECT_TRUE(static_cast<bool>(ctx.action));
    EXPECT_TRUE(ctx.action());
    return captured;
}

TEST(Deploy, ParseBindsEveryFlag) {
    auto o = parse_with_hook<DeployOptions>(
        [](CLI::App& a, Context& c, Runner<DeployOptions> r) { register_deploy(a, c, std::move(r)); },
        {"deploy", "--device", "dev1", "-m", "m.json", "--wait", "--timeout", "5m", "--interval", "2s", "--json",
         "--no-validate", "--dry-run", "--hub-url", "https://h:1", "--ca-file", "ca.pem", "--api-version",
         "2024-03-31", "--connection-string-file", "cs.txt", "--page-size", "50"});
    EXPECT_EQ(o.device, "dev1");
    EXPECT_EQ(o.manifest, "m.json");
    EXPECT_TRUE(o.wait.wait);
    EXPECT_EQ(o.wait.timeout, "5m");
    EXPECT_EQ(o.wait.interval, "2s");
    EXPECT_EQ(o.wait.page_size, 50);
    EXPECT_TRUE(o.json && o.no_validate && o.dry_run);
    EXPECT_EQ(o.hub.hub_url, "https://h:1");
    EXPECT_EQ(o.hub.ca_file, "ca.pem");
    EXPECT_EQ(o.hub.api_version, "2024-03-31");
    EXPECT_EQ(o.hub.connection_string_file, "cs.txt");
}

TEST(Deploy, DeviceIsRequired) {
    auto r = run_cli({"deploy", "-m", "x.json"}, {});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: --device is required\nhint: run 'edgeship deploy --help'\n");
}

TEST(Deploy, DryRunPrintsTheExactRequestAndSendsNothing) {
    TempDir dir;
    test::write_text(dir / "m.json", manifest_text());
    auto r = run_cli({"deploy", "--device", "dev1", "--manifest", (dir / "m.json").string(), "--dry-run"},
                     {{"IOTHUB_CONNECTION_STRING", k_cs}});
    ASSERT_EQ(r.code, 0) << r.err;
    std::string body = nlohmann::json::parse(manifest_text()).dump(2);
    EXPECT_EQ(r.out, "POST https://testhub.azure-devices.net/devices/dev1/applyConfigurationContent?api-version=2021-04-12\n"
                     "Content-Type: application/json; charset=utf-8\n"
                     "Accept: application/json\n"
                     "Authorization: SharedAccessSignature sr=testhub.azure-devices.net&sig=<redacted>&se=<expiry>&skn=iothubowner\n"
                     "User-Agent: " + http::default_user_agent(build_info::k_version) + "\n\n" + body + "\n");
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out.find(k_key), std::string::npos);
}

TEST(Deploy, DryRunJson) {
    TempDir dir;
    test::write_text(dir / "m.json", manifest_text());
    auto r = run_cli({"deploy", "-d", "dev 1", "-m", (dir / "m.json").string(), "--dry-run", "--json"},
                     {{"IOTHUB_CONNECTION_STRING", k_cs}});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: device id 'dev 1': character ' ' (space) is not allowed\n"
                     "hint: ids use letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ '\n");
    r = run_cli({"deploy", "-d", "dev$1", "-m", (dir / "m.json").string(), "--dry-run", "--json"},
                {{"IOTHUB_CONNECTION_STRING", k_cs}, {"EDGESHIP_IOTHUB_API_VERSION", "2024-03-31"}});
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["url"], "https://testhub.azure-devices.net/devices/dev%241/applyConfigurationContent?api-version=2024-03-31");
    EXPECT_EQ(j["body"], nlohmann::json::parse(manifest_text()));
}

TEST(Deploy, CredentialErrorsExitFourAndNeverShowTheKey) {
    TempDir dir;
    test::write_text(dir / "m.json", manifest_text());
    auto m = (dir / "m.json").string();
    auto r = run_cli({"deploy", "-d", "dev1", "-m", m, "--dry-run"}, {});
    EXPECT_EQ(r.code, 4);
    EXPECT_EQ(r.err, "edgeship: error: no IoT Hub connection string\n"
                     "hint: set IOTHUB_CONNECTION_STRING in the environment or the solution's .env, or pass "
                     "--connection-string-file FILE (Azure portal: IoT Hub > Shared access policies)\n");
    r = run_cli({"deploy", "-d", "dev1", "-m", m, "--dry-run"}, {{"IOTHUB_CONNECTION_STRING", "HostName=h;SharedAccessKey=" + k_key}});
    EXPECT_EQ(r.code, 4);
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
              "edgeship: error: env IOTHUB_CONNECTION_STRING: connection string: missing SharedAccessKeyName");
    EXPECT_EQ(r.err.find(k_key), std::string::npos);
    test::write_text(dir / "cs.txt", "HostName=h;SharedAccessKeyName=p;SharedAccessKey=not-base64!");
    r = run_cli({"deploy", "-d", "dev1", "-m", m, "--dry-run", "--connection-string-file", (dir / "cs.txt").string()}, {});
    EXPECT_EQ(r.code, 4);
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "edgeship: error: " + (dir / "cs.txt").string() +
                                                     ": connection string: SharedAccessKey is not valid base64");
    EXPECT_EQ(r.err.find("not-base64!"), std::string::npos);
    r = run_cli({"deploy", "-d", "dev1", "-m", m, "--dry-run", "--connection-string-file", (dir / "none.txt").string()}, {});
    EXPECT_EQ(r.code, 4);
}

TEST(Deploy, DotenvEmptyValueCountsAsUnset) {
    TempDir dir;
    test::write_text(dir / "m.json", manifest_text());
    test::write_text(dir / "sol.env", "IOTHUB_CONNECTION_STRING=\"\"\n");
    auto r = run_cli({"--env-file", (dir / "sol.env").string(), "deploy", "-d", "dev1", "-m", (dir / "m.json").string(),
                      "--dry-run"},
                     {});
    EXPECT_EQ(r.code, 4);
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "edgeship: error: no IoT Hub connection string");
}

TEST(Deploy, LayeredManifestIsRefusedForOneDevice) {
    TempDir dir;
    test::write_text(dir / "l.json", R"({"modulesContent":{"$edgeAgent":{"properties.desired.modules.x":{}}}})");
    auto r = run_cli({"deploy", "-d", "dev1", "-m", (dir / "l.json").string()}, {{"IOTHUB_CONNECTION_STRING", k_cs}});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("a layered manifest"), std::string::npos);
}

TEST(Deploy, BadDurationIsAUsageError) {
    auto d = parse_duration("5x", "--timeout");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().what(), "--timeout '5x': expected a duration like 30s, 5m or 1h");
    EXPECT_EQ(d.error().code(), ExitCode::usage);
    EXPECT_EQ(*parse_duration("90", "--timeout"), std::chrono::seconds(90));
    EXPECT_EQ(*parse_duration("1m30s", "--timeout"), std::chrono::seconds(90));
    EXPECT_EQ(*parse_duration("250ms", "--timeout"), std::chrono::milliseconds(250));
    EXPECT_EQ(*parse_duration("2h", "--timeout"), std::chrono::hours(2));
    EXPECT_FALSE(parse_duration("", "--timeout"));
    EXPECT_FALSE(parse_duration("m", "--timeout"));
    EXPECT_FALSE(parse_duration("1.5s", "--timeout"));
}

TEST(Deploy, PairsNeedAnEqualsSign) {
    EXPECT_EQ((*parse_pairs({"a=b", "c=d=e"}, "--label")), (std::map<std::string, std::string>{{"a", "b"}, {"c", "d=e"}}));
    auto bad = parse_pairs({"nope"}, "--label");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().what(), "--label 'nope': expected NAME=VALUE");
}

// --wait against the double: progress redrawn on a TTY, one phase line without one.
class DeployWithDouble : public ::testing::Test {
protected:
    TempDir dir;
    std::unique_ptr<test::DoubleProcess> hub;
    void SetUp() override {
        hub = std::make_unique<test::DoubleProcess>(
            test::source_dir(), dir.path(),
            nlohmann::json{{"devices", {{{"id", "dev1"}, {"delay", 0.5}}, {{"id", "bad"}, {"behavior", "crash_loop"}}}}});
        test::write_text(dir / "m.json", manifest_text());
    }
    core::Environment env() const {
        auto e = hub->env();
        e["EDGESHIP_IOTHUB_RETRY_DELAY"] = "50ms";
        return e;
    }
};

TEST_F(DeployWithDouble, WaitDrawsProgressOnATty) {
    auto r = run_cli({"deploy", "-d", "dev1", "-m", (dir / "m.json").string(), "--wait", "--timeout", "20s",
                      "--interval", "100ms"},
                     env(), test::on_tty());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "device dev1: 1/1 succeeded, 0 failed, 0 pending (targeted 1, applied 1)\n");
    EXPECT_NE(r.err.find("\rdevice dev1: 0/1 succeeded, 0 failed, 1 pending (targeted 1, applied 1) [0s]"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("waiting for"), std::string::npos);
}

TEST_F(DeployWithDouble, WaitWithoutATtyPrintsOnePhaseLine) {
    auto r = run_cli({"deploy", "-d", "dev1", "-m", (dir / "m.json").string(), "--wait", "--timeout", "20s",
                      "--interval", "100ms"},
                     env());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "applied " + (dir / "m.json").string() + " to dev1\nwaiting for device dev1 (timeout 20s)\n");
    EXPECT_EQ(r.err.find('\r'), std::string::npos);
}

TEST_F(DeployWithDouble, JsonTurnsProgressOffAndReportsFailuresWithModules) {
    auto r = run_cli({"deploy", "-d", "bad", "-m", (dir / "m.json").string(), "--wait", "--timeout", "20s",
                      "--interval", "100ms", "--json"},
                     env(), test::on_tty());
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.find('\r'), std::string::npos);
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["outcome"], "failed");
    EXPECT_EQ(j["rollout"]["failures"][0]["device_id"], "bad");
    EXPECT_EQ(j["rollout"]["failures"][0]["modules"][0]["name"], "score");
    EXPECT_EQ(j["rollout"]["failures"][0]["modules"][0]["failed"], true);
}

} // namespace
} // namespace edgeship::cli
