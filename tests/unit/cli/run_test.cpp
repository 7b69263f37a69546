// In-process tests of `edgeship run`: flag parsing through a hook, and the failures that need no engine
// (tests/container/run_e2e.py runs it against a real dockerd).
#include "cli/app.hpp"
#include "cli/run_commands.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace edgeship::cli {
namespace {

using test::TempDir;

struct Run {
    int code;
    std::string out;
    std::string err;
};

Run run_cli(const std::vector<std::string>& args, core::Environment env = {}) {
    FakeIo fake(false);
    env.emplace("NO_COLOR", "1");
    int code = run(args, fake.io, std::move(env));
    return {code, fake.out.str(), fake.err.str()};
}

int error_lines(const std::string& err) {
    int n = 0;
    for (std::size_t pos = 0; (pos = err.find("edgeship: error:", pos)) != std::string::npos; ++pos) {
        ++n;
    }
    return n;
}

std::string write_manifest(const TempDir& dir, const std::string& create_options) {
    nlohmann::json m = {{"modulesContent",
                         {{"$edgeAgent",
                           {{"properties.desired",
                             {{"schemaVersion", "1.1"},
                              {"runtime", {{"type", "docker"}, {"settings", nlohmann::json::object()}}},
                              {"systemModules", nlohmann::json::object()},
                              {"modules",
                               {{"scoring",
                                 {{"type", "docker"},
                                  {"status", "running"},
                                  {"settings", {{"image", "127.0.0.1:5000/scoring:1"}, {"createOptions", create_options}}}}}}}}}}}}}};
    auto path = (dir.path() / "deployment.amd64.json").string();
    std::ofstream(path) << m.dump();
    return path;
}

TEST(Run, ParseBindsEveryFlag) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    RunOptions captured;
    register_run(app, ctx, [&captured](const RunOptions& o, Context&) -> Result<void> {
        captured = o;
        return {};
    });
    std::vector<std::string> args{"run", "m.json", "--engine", "unix:///s.sock", "--network", "host", "--detach",
                                  "--json", "--timeout", "30", "--platform", "arm64v8", "--solution", "sol"};
    std::reverse(args.begin(), args.end());
    app.parse(args);
    ASSERT_TRUE(static_cast<bool>(ctx.action));
    ASSERT_TRUE(ctx.action());
    EXPECT_EQ(captured.manifest, "m.json");
    EXPECT_EQ(captured.engine, "unix:///s.sock");
    EXPECT_EQ(captured.network, "host");
    EXPECT_TRUE(captured.detach && captured.json);
    EXPECT_EQ(captured.timeout, 30u);
    EXPECT_EQ(captured.platform, "arm64v8");
    EXPECT_EQ(captured.solution, "sol");
    EXPECT_FALSE(captured.stop);
    EXPECT_EQ(captured.tail, 20u);
}

TEST(Run, NoEngineAtTheGivenSocketIsOneLine) {
    TempDir dir;
    auto manifest = write_manifest(dir, "{}");
    auto r = run_cli({"run", manifest, "--engine", "unix://" + (dir.path() / "none.sock").string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(error_lines(r.err), 1);
    EXPECT_NE(r.err.find("edgeship: error: no container engine reachable at unix://"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(from --engine)"), std::string::npos) << r.err;
}

TEST(Run, TcpDockerHostIsRefused) {
    TempDir dir;
    auto manifest = write_manifest(dir, "{}");
    auto r = run_cli({"run", manifest}, {{"DOCKER_HOST", "tcp://10.1.2.3:2376"}});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("edgeship: error: DOCKER_HOST tcp://10.1.2.3:2376: tcp:// engines are not supported"),
              std::string::npos)
        << r.err;
}

TEST(Run, BadCreateOptionsNameTheModuleBeforeAnyEngine) {
    TempDir dir;
    auto manifest = write_manifest(dir, "{\"HostConfig\":");
    auto r = run_cli({"run", manifest, "--engine", "unix:///nonexistent/engine.sock"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(error_lines(r.err), 1);
    EXPECT_NE(r.err.find("edgeship: error: module scoring: createOptions is not JSON"), std::string::npos) << r.err;
}

TEST(Run, StopAndLogsTogetherIsAUsageError) {
    auto r = run_cli({"run", "--stop", "--logs", "m"});
    EXPECT_EQ(r.code, 2);
}

} // namespace
} // namespace edgeship::cli
