#include "core/exit_code.hpp"
#include "iothub/connect.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace edgeship::iothub {
namespace {

const std::string k_key = "c2VjcmV0LWtleS1ub3Qtc2hvd24="; // base64 of "secret-key-not-shown"
const std::string k_cs = "HostName=testhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" + k_key;

core::Config config(const core::Environment& env, const core::Environment& dotenv = {}) {
    return core::Config::resolve(settings_keys(), {}, env, dotenv, ".env");
}

Result<HubClient> open(const core::Config& c) { return connect(c, {"edgeship-test", {}}); }

TEST(Connect, MissingConnectionStringIsAnAuthErrorWithAHint) {
    for (const auto& env : {core::Environment{}, core::Environment{{"IOTHUB_CONNECTION_STRING", "  "}}}) {
        auto r = open(config(env));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code(), ExitCode::auth);
        EXPECT_EQ(r.error().message(), "no IoT Hub connection string");
        EXPECT_NE(r.error().hint_text().find("IOTHUB_CONNECTION_STRING"), std::string::npos);
    }
}

TEST(Connect, MalformedConnectionStringNamesItsOriginNeverTheKey) {
    auto r = open(config({}, {{"IOTHUB_CONNECTION_STRING", "HostName=h;SharedAccessKey=" + k_key}}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::auth);
    EXPECT_EQ(r.error().what(), ".env IOTHUB_CONNECTION_STRING: connection string: missing SharedAccessKeyName");
    EXPECT_EQ(r.error().what().find(k_key), std::string::npos);
}

TEST(Connect, FileBeatsTheSettingAndErrorsNameTheFile) {
    auto dir = std::filesystem::temp_directory_path() / ("edgeship-connect-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "cs.txt") << "HostName=h;SharedAccessKeyName=p;SharedAccessKey=not-base64!\n";
    auto c = config({{"IOTHUB_CONNECTION_STRING", k_cs}});
    c.set_flag("iothub_connection_string_file", (dir / "cs.txt").string());
    auto r = open(c);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), (dir / "cs.txt").string() + ": connection string: SharedAccessKey is not valid base64");
    c.set_flag("iothub_connection_string_file", (dir / "none.txt").string());
    r = open(c);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::auth);
    EXPECT_TRUE(r.error().what().starts_with("--connection-string-file: ")) << r.error().what();
    std::ofstream(dir / "good.txt") << k_cs << "\n";
    c.set_flag("iothub_connection_string_file", (dir / "good.txt").string());
    r = open(c);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->options().credentials.host_name, "testhub.azure-devices.net");
    std::filesystem::remove_all(dir);
}

TEST(Connect, EndpointDefaultsToTheHostNameAndCanBeOverridden) {
    auto r = open(config({{"IOTHUB_CONNECTION_STRING", k_cs}}));
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->endpoint(), "https://testhub.azure-devices.net");
    EXPECT_EQ(r->options().api_version, k_default_api_version);

    auto c = config({{"IOTHUB_CONNECTION_STRING", k_cs}, {"EDGESHIP_IOTHUB_ENDPOINT", "https://127.0.0.1:8443"},
                     {"EDGESHIP_IOTHUB_API_VERSION", "2024-03-31"}});
    c.set_flag("iothub_endpoint", "https://hub.internal:9443", "--hub-url");
    r = open(c);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->endpoint(), "https://hub.internal:9443");
    EXPECT_EQ(r->make_request("GET", {"devices", "d"}).url, "https://hub.internal:9443/devices/d?api-version=2024-03-31");
    auto used = c.describe();
    EXPECT_NE(std::find(used.begin(), used.end(), "(flag --hub-url) iothub_endpoint = https://hub.internal:9443"), used.end());
    EXPECT_NE(std::find(used.begin(), used.end(), "(env IOTHUB_CONNECTION_STRING) iothub_connection_string = <redacted>"),
              used.end());

    c.set_flag("iothub_endpoint", "http://hub.internal");
    r = open(c);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::usage);
}

TEST(Connect, BudgetsFollowTierAndUnits) {
    auto r = open(config({{"IOTHUB_CONNECTION_STRING", k_cs}}));
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->options().budgets.registry_per_min, budgets_for(Tier::s1, 1).registry_per_min);
    r = open(config({{"IOTHUB_CONNECTION_STRING", k_cs}, {"EDGESHIP_IOTHUB_TIER", "s3"}, {"EDGESHIP_IOTHUB_UNITS", "2"}}));
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->options().budgets.registry_per_min, budgets_for(Tier::s3, 2).registry_per_min);
    EXPECT_EQ(r->options().budgets.query_per_min, budgets_for(Tier::s3, 2).query_per_min);
    EXPECT_NE(budgets_for(Tier::s3, 2).registry_per_min, budgets_for(Tier::s1, 1).registry_per_min);

    r = open(config({{"IOTHUB_CONNECTION_STRING", k_cs}, {"EDGESHIP_IOTHUB_TIER", "S9"}}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::usage);
    EXPECT_EQ(r.error().what(), "EDGESHIP_IOTHUB_TIER: unknown tier 'S9'");
    r = open(config({{"IOTHUB_CONNECTION_STRING", k_cs}, {"EDGESHIP_IOTHUB_UNITS", "0"}}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "EDGESHIP_IOTHUB_UNITS: '0' is not a positive unit count");
    r = open(config({{"IOTHUB_CONNECTION_STRING", k_cs}, {"EDGESHIP_IOTHUB_RETRY_DELAY", "soon"}}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "EDGESHIP_IOTHUB_RETRY_DELAY 'soon': expected a duration like 30s, 5m or 1h");
}

TEST(Connect, Durations) {
    EXPECT_EQ(parse_duration("1m30s", "--timeout").value(), std::chrono::seconds(90));
    EXPECT_EQ(parse_duration("90", "--timeout").value(), std::chrono::seconds(90));
    EXPECT_EQ(parse_duration("250ms", "--timeout").value(), std::chrono::milliseconds(250));
    EXPECT_FALSE(parse_duration("5x", "--timeout"));
}

} // namespace
} // namespace edgeship::iothub
