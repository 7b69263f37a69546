// The run's one configuration as the commands see it (issue 16): five layers, command flags as the top
// layer, the solution's .env at its own layer, and `-v` listing only the values a run used.

#include "cli/app.hpp"
#include "imagebuild/fixture.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

namespace edgeship::cli {
namespace {

namespace fs = std::filesystem;
using test::run_cli;
using test::TempDir;

const std::string k_cs = "HostName=testhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey="
                         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

const char* k_manifest =
    R"({"modulesContent":{"$edgeAgent":{"properties.desired":{"schemaVersion":"1.1","runtime":{"type":"docker","settings":{"minDockerVersion":"v1.25","loggingOptions":"","registryCredentials":{}}},"systemModules":{"edgeAgent":{"type":"docker","settings":{"image":"mcr.microsoft.com/azureiotedge-agent:1.4","createOptions":"{}"}},"edgeHub":{"type":"docker","status":"running","restartPolicy":"always","settings":{"image":"mcr.microsoft.com/azureiotedge-hub:1.4","createOptions":"{}"}}},"modules":{}}},"$edgeHub":{"properties.desired":{"schemaVersion":"1.2","routes":{},"storeAndForwardConfiguration":{"timeToLiveSecs":7200}}}}})";

std::vector<std::string> debug_lines(const std::string& err) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < err.size()) {
        auto end = err.find('\n', start);
        auto line = err.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (line.starts_with("debug: (")) {
            out.push_back(line.substr(7));
        }
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    return out;
}

TEST(Config, VerboseListsOnlyTheValuesTheRunUsed) {
    auto r = run_cli({"-v", "version"}, {{"EDGESHIP_IOTHUB_TIER", "S3"}, {"EDGESHIP_NPM", "/opt/npm"}});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(debug_lines(r.err), (std::vector<std::string>{"(default) color = auto"}));
}

TEST(Config, DeployShowsItsFlagsEnvironmentAndDefaultsAsOrigins) {
    TempDir dir;
    test::write_text(dir / "m.json", k_manifest);
    test::write_text(dir / "global.env", "EDGESHIP_IOTHUB_UNITS=3\nIOTHUB_CONNECTION_STRING=not-this-one\n");
    auto r = run_cli({"-v", "--env-file", (dir / "global.env").string(), "deploy", "-d", "dev1", "-m",
                      (dir / "m.json").string(), "--dry-run", "--hub-url", "https://127.0.0.1:8443"},
                     {{"IOTHUB_CONNECTION_STRING", k_cs}, {"EDGESHIP_NPM", "/opt/npm"}});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("POST https://127.0.0.1:8443/devices/dev1/applyConfigurationContent"), std::string::npos) << r.out;
    const std::string env_file = (dir / "global.env").string();
    EXPECT_EQ(debug_lines(r.err), (std::vector<std::string>{
                                      "(default) color = auto",
                                      "(env IOTHUB_CONNECTION_STRING) iothub_connection_string = <redacted>",
                                      "(flag --hub-url) iothub_endpoint = https://127.0.0.1:8443",
                                      "(default) iothub_tier = S1",
                                      "(" + env_file + " EDGESHIP_IOTHUB_UNITS) iothub_units = 3",
                                      "(default) iothub_retry_delay = 10s",
                                  }));
    EXPECT_EQ(r.err.find("AAECAwQF"), std::string::npos);
}

TEST(Config, BuildReadsTheSolutionDotenvBetweenTheEnvironmentAndTheGlobalOne) {
    TempDir dir;
    auto sol = test::make_solution(dir / "pm", {"amd64"});
    test::make_base_layout(dir / "base", {"amd64"});
    {
        std::ofstream(sol / ".env", std::ios::app) << "EDGESHIP_BASE_REGISTRY=mirror.solution.example\n"
                                                     "EDGESHIP_PIP=from-solution-env\n";
    }
    test::write_text(dir / "global.env", "EDGESHIP_BASE_REGISTRY=mirror.global.example\nEDGESHIP_NPM=from-global\n");
    test::CliOptions tools;
    tools.fake_tools = dir / "tools";
    auto r = run_cli({"-v", "--env-file", (dir / "global.env").string(), "build", "--solution", sol.string(), "--base",
                      "oci:" + (dir / "base").string() + ":3.11", "--oci-layout", (dir / "out").string()},
                     {}, tools);
    ASSERT_EQ(r.code, 0) << r.err;
    auto lines = debug_lines(r.err);
    auto has = [&lines](const std::string& l) { return std::find(lines.begin(), lines.end(), l) != lines.end(); };
    const std::string sol_env = (sol / ".env").string();
    EXPECT_TRUE(has("(" + sol_env + " EDGESHIP_BASE_REGISTRY) base_registry = mirror.solution.example")) << r.err;
    // The stand-in tools come from the environment, which is above both .env files.
    auto starts = [&lines](const std::string& p) {
        return std::any_of(lines.begin(), lines.end(), [&p](const std::string& l) { return l.starts_with(p); });
    };
    EXPECT_TRUE(starts("(env EDGESHIP_NPM) npm = ")) << r.err;
    EXPECT_TRUE(starts("(env EDGESHIP_PIP) pip = ")) << r.err;
    EXPECT_FALSE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) { return l.find("iothub_") != std::string::npos; }))
        << r.err;
}

} // namespace
} // namespace edgeship::cli
