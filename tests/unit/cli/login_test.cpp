// login/logout in-process: parse tests through the hook, runs against a Basic registry double on
// 127.0.0.1 with FakeIo, exact stderr on failures, config.json untouched on refusals
// (docs/design/registry.md §6).

#include "cli/app.hpp"
#include "cli/registry_commands.hpp"
#include "http/test_server.hpp"
#include "registry/docker_config.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

namespace edgeship::cli {
namespace {

using test::run_cli;
using test::TempDir;

// A Basic-auth registry: /v2/ answers 200 for testuser:testpass, else 401 with a Basic challenge.
struct BasicRegistry {
    test::TestServer server{[](const test::RawRequest& r) {
        if (r.header("Authorization") == "Basic dGVzdHVzZXI6dGVzdHBhc3M=") {
            return test::reply(200, "{}", {{"Docker-Distribution-Api-Version", "registry/2.0"}});
        }
        return test::reply(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})",
                           {{"WWW-Authenticate", "Basic realm=\"test-realm\""}});
    }};
    std::string host() const { return "127.0.0.1:" + std::to_string(server.port()); }
};

TEST(LoginParse, BindsFlags) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    LoginOptions got;
    register_login(app, ctx, [&](const LoginOptions& o, Context&) {
        got = o;
        return Result<void>{};
    });
    // CLI11 takes the vector in reverse order.
    app.parse(std::vector<std::string>{"--json", "--password-stdin", "u", "--username", "--plain-http", "r.example",
                                       "login"});
    ASSERT_TRUE(ctx.action);
    ASSERT_TRUE(ctx.action());
    EXPECT_EQ(got.registry, "r.example");
    EXPECT_EQ(got.flags.username, "u");
    EXPECT_TRUE(got.flags.password_stdin);
    EXPECT_TRUE(got.flags.plain_http);
    EXPECT_FALSE(got.flags.insecure);
    EXPECT_TRUE(got.json);
}

TEST(LoginParse, NoPasswordFlag) {
    auto r = run_cli({"login", "r.example", "--password", "x"}, {});
    EXPECT_EQ(r.code, 2);
}

TEST(Login, StoresAfterVerifying) {
    TempDir t;
    BasicRegistry reg;
    core::Environment env = {{"DOCKER_CONFIG", (t / "docker").string()}};
    auto r = run_cli({"login", reg.host(), "--plain-http", "-u", "testuser", "--password-stdin", "--json"},
                     env, test::with_stdin("testpass\n"));
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["registry"], reg.host());
    EXPECT_EQ(j["username"], "testuser");
    EXPECT_EQ(j["scheme"], "basic");
    EXPECT_EQ(j["stored_in"], "docker config " + (t / "docker" / "config.json").string());
    EXPECT_EQ(r.err, "login succeeded: testuser @ " + reg.host() + " (stored in docker config " +
                         (t / "docker" / "config.json").string() + ")\n");
    auto cfg = nlohmann::json::parse(test::read_text(t / "docker" / "config.json"));
    EXPECT_EQ(cfg["auths"][reg.host()]["auth"], "dGVzdHVzZXI6dGVzdHBhc3M=");
    struct stat st {};
    ::stat((t / "docker" / "config.json").c_str(), &st);
    EXPECT_EQ(st.st_mode & 0777U, 0600U);
    auto reqs = reg.server.requests();
    ASSERT_EQ(reqs.size(), 2U);
    EXPECT_FALSE(reqs[0].has_header("Authorization"));
    EXPECT_NE(reqs[1].header("User-Agent").find("edgeship/"), std::string::npos);

    auto out = run_cli({"logout", reg.host()}, env);
    ASSERT_EQ(out.code, 0) << out.err;
    EXPECT_EQ(out.err, "removed the credential for " + reg.host() + "\n");
}

TEST(Login, WrongPasswordExit4NothingStored) {
    TempDir t;
    BasicRegistry reg;
    core::Environment env = {{"DOCKER_CONFIG", (t / "docker").string()}};
    auto r = run_cli({"login", reg.host(), "--plain-http", "-u", "testuser", "--password-stdin"}, env,
                     test::with_stdin("nope\n"));
    EXPECT_EQ(r.code, 4);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "edgeship: error: registry " + reg.host() +
                         ": authentication failed for testuser (credential from --username): the registry answered 401\n");
    EXPECT_FALSE(std::filesystem::exists(t / "docker" / "config.json"));
}

TEST(Login, UsageErrors) {
    core::Environment env = {{"DOCKER_CONFIG", "/nonexistent-edgeship-test"}};
    auto both = run_cli({"login", "r.example", "--insecure", "--plain-http", "-u", "u", "--password-stdin"},
                        env, test::with_stdin("p"));
    EXPECT_EQ(both.code, 2);
    EXPECT_EQ(both.err.substr(0, both.err.find('\n')),
              "edgeship: error: login r.example: --insecure and --plain-http exclude each other");
    auto no_stdin = run_cli({"login", "r.example", "-u", "u"}, env);
    EXPECT_EQ(no_stdin.code, 2);
    auto none = run_cli({"login", "r.example"}, env);
    EXPECT_EQ(none.code, 2);
    EXPECT_NE(none.err.find("no credential given"), std::string::npos) << none.err;
    auto bad_host = run_cli({"logout", "bad host"}, env);
    EXPECT_EQ(bad_host.code, 2);
}

TEST(Logout, NothingStoredIsNotAnError) {
    TempDir t;
    auto r = run_cli({"logout", "https://r.example/", "--json"}, {{"DOCKER_CONFIG", t.path().string()}});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out), (nlohmann::json{{"registry", "r.example"}, {"removed", false}}));
}

TEST(RegistryOptions, ReadsStdinOnceForTwoRegistries) {
    FakeIo fake(false, "pw\n");
    Context ctx(fake.io, {{"DOCKER_CONFIG", "/nonexistent-edgeship-test"}});
    RegistryFlags flags;
    flags.username = "u";
    flags.password_stdin = true;
    auto a = registry_options(ctx, flags, "a.example");
    auto b = registry_options(ctx, flags, "b.example");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->credential.secret, "pw");
    EXPECT_EQ(b->credential.secret, "pw");
    EXPECT_EQ(a->transport, registry::Transport::https);
}

TEST(RegistryOptions, SolutionEnvUnderProcessEnv) {
    FakeIo fake;
    Context ctx(fake.io, {{"DOCKER_CONFIG", "/nonexistent-edgeship-test"}, {"CONTAINER_REGISTRY_PASSWORD", "procpw"}});
    core::Environment dotenv = {{"CONTAINER_REGISTRY_SERVER", "acr.example"},
                                {"CONTAINER_REGISTRY_USERNAME", "envuser"},
                                {"CONTAINER_REGISTRY_PASSWORD", "dotenvpw"}};
    RegistryFlags flags;
    flags.insecure = true;
    auto o = registry_options(ctx, flags, "acr.example", &dotenv);
    ASSERT_TRUE(o) << o.error().what();
    EXPECT_EQ(o->credential.username, "envuser");
    EXPECT_EQ(o->credential.secret, "procpw");
    EXPECT_EQ(o->transport, registry::Transport::https_insecure);
}

} // namespace
} // namespace edgeship::cli
