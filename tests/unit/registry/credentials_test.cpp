// Credential precedence and the docker-credential helper protocol (docs/design/registry.md §5.7, §6).

#include "registry/credentials.hpp"
#include "registry/docker_config.hpp"
#include "registry/keychain.hpp"
#include "registry/helper_fixture.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::registry {
namespace {

using test::TempDir;
using test::write_text;

struct Fixture {
    TempDir dir;
    core::Environment env;
    Fixture() {
        std::filesystem::create_directories(dir / "bin");
        std::filesystem::create_directories(dir / "docker");
        env["PATH"] = test::install_fake_helper(dir / "bin");
        env["DOCKER_CONFIG"] = (dir / "docker").string();
        env["HOME"] = dir.path().string();
    }
    void config(const std::string& json) { write_text(dir / "docker" / "config.json", json); }
    void helper_has(const std::string& server, const std::string& user, const std::string& secret) {
        nlohmann::json j = nlohmann::json::object();
        auto p = dir / "bin" / "creds.json";
        if (std::filesystem::exists(p)) {
            j = nlohmann::json::parse(test::read_text(p));
        }
        j[server] = {user, secret};
        write_text(p, j.dump());
    }
    std::string calls() { return test::read_text(dir / "bin" / "calls.log"); }
    Result<Credential> resolve(const std::string& host) {
        CredentialQuery q;
        q.registry_host = host;
        q.env = &env;
        return resolve_credential(q);
    }
    /// A keychain with an explicit --username credential given for `for_host`.
    Keychain keychain(const std::string& for_host, const std::string& user, const std::string& pass) {
        return Keychain(env, ExplicitCredential{for_host, user, pass});
    }
    std::string config_source() { return "docker config " + (dir / "docker" / "config.json").string(); }
};

TEST(ResolveCredential, AnonymousWhenNothingKnown) {
    Fixture f;
    auto c = f.resolve("registry.example");
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->kind, Credential::Kind::anonymous);
}

TEST(Keychain, ExplicitCredentialWinsForItsHost) {
    Fixture f;
    f.env["CONTAINER_REGISTRY_SERVER"] = "registry.example";
    f.env["CONTAINER_REGISTRY_USERNAME"] = "envuser";
    f.env["CONTAINER_REGISTRY_PASSWORD"] = "envpass";
    f.config(R"({"auths":{"registry.example":{"auth":"Y2ZnOmNmZ3Bhc3M="}}})");
    auto c = f.keychain("registry.example", "flaguser", "flagpass").resolve("registry.example");
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->kind, Credential::Kind::basic);
    EXPECT_EQ(c->username, "flaguser");
    EXPECT_EQ(c->secret, "flagpass");
    EXPECT_EQ(c->source, "--username");
}

TEST(Keychain, ExplicitCredentialIsNeverReturnedForAnotherHost) {
    // The credential given for A must not reach B (a base image's registry, a mounted layer's source):
    // B gets its own from docker config.json, or nothing.
    Fixture f;
    f.config(R"({"auths":{"b.example:5000":{"auth":"YnVzZXI6YnBhc3M="}}})"); // buser:bpass
    auto keys = f.keychain("a.example:5000", "auser", "apass");
    auto b = keys.resolve("b.example:5000");
    ASSERT_TRUE(b) << b.error().what();
    EXPECT_EQ(b->username, "buser");
    EXPECT_EQ(b->secret, "bpass");
    for (const std::string other : {"c.example:5000", "a.example", "a.example:5001", "docker.io", "127.0.0.1:5000"}) {
        auto c = keys.resolve(other);
        ASSERT_TRUE(c) << c.error().what();
        EXPECT_EQ(c->kind, Credential::Kind::anonymous) << other;
        EXPECT_NE(c->secret, "apass") << other;
    }
    // the same registry under another spelling is the same host
    auto a = keys.resolve("A.EXAMPLE:5000");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->username, "auser");
    auto hub = f.keychain("docker.io", "hubuser", "hubpass").resolve("registry-1.docker.io");
    ASSERT_TRUE(hub);
    EXPECT_EQ(hub->username, "hubuser");
}

TEST(Keychain, ResolvesEachHostOnceAndLayersTheSolutionEnvUnderTheProcess) {
    Fixture f;
    f.config(R"({"credsStore":"edgeshiptest"})");
    f.helper_has("helper.example", "helperuser", "helperpass");
    Keychain keys(f.env);
    for (int i = 0; i < 3; ++i) {
        auto c = keys.resolve("helper.example");
        ASSERT_TRUE(c) << c.error().what();
        EXPECT_EQ(c->username, "helperuser");
    }
    EXPECT_EQ(f.calls(), "get helper.example\n"); // one helper process for three look-ups

    core::Environment process{{"CONTAINER_REGISTRY_SERVER", "r.example"}, {"CONTAINER_REGISTRY_USERNAME", "proc"}};
    core::Environment dotenv{{"CONTAINER_REGISTRY_USERNAME", "file"}, {"CONTAINER_REGISTRY_PASSWORD", "filepass"}};
    auto c = Keychain(layered_environment(process, dotenv)).resolve("r.example");
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->username, "proc");      // the process environment wins
    EXPECT_EQ(c->secret, "filepass");    // the .env fills what it does not set
}

TEST(ResolveCredential, EnvironmentOnlyForTheNamedServer) {
    Fixture f;
    f.env["CONTAINER_REGISTRY_SERVER"] = "myacr.azurecr.io";
    f.env["CONTAINER_REGISTRY_USERNAME"] = "myacr";
    f.env["CONTAINER_REGISTRY_PASSWORD"] = "pw";
    f.config(R"({"auths":{"myacr.azurecr.io":{"auth":"Y2ZnOmNmZ3Bhc3M="}}})");
    auto c = f.resolve("myacr.azurecr.io");
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->username, "myacr");
    EXPECT_EQ(c->source, "environment CONTAINER_REGISTRY_USERNAME");
    auto other = f.resolve("localhost:5000");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->kind, Credential::Kind::anonymous);
}

TEST(ResolveCredential, EnvironmentServerWithSchemeAndSuffix) {
    Fixture f;
    f.env["CONTAINER_REGISTRY_SERVER"] = "localhost:5000";
    f.env["CONTAINER_REGISTRY_USERNAME"] = "";
    f.env["CONTAINER_REGISTRY_SERVER_PROD"] = "https://Prod.azurecr.io/";
    f.env["CONTAINER_REGISTRY_USERNAME_PROD"] = "prod";
    f.env["CONTAINER_REGISTRY_PASSWORD_PROD"] = "prodpw";
    auto c = f.resolve("prod.azurecr.io");
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->username, "prod");
    EXPECT_EQ(c->source, "environment CONTAINER_REGISTRY_USERNAME_PROD");
    auto local = f.resolve("localhost:5000"); // server named, user empty: anonymous
    ASSERT_TRUE(local);
    EXPECT_EQ(local->kind, Credential::Kind::anonymous);
}

TEST(ResolveCredential, EnvironmentUserWithoutPassword) {
    Fixture f;
    f.env["CONTAINER_REGISTRY_SERVER"] = "r.example";
    f.env["CONTAINER_REGISTRY_USERNAME"] = "u";
    auto c = f.resolve("r.example");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::auth);
    EXPECT_NE(c.error().what().find("CONTAINER_REGISTRY_PASSWORD is empty"), std::string::npos);
}

TEST(ResolveCredential, ConfigAuthsForms) {
    Fixture f;
    f.config(R"({
      "auths": {
        "https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="},
        "https://explicit.example/v2/": {"username": "eu", "password": "ep"},
        "identity.example": {"auth": "PHRva2VuPjo=", "identitytoken": "refresh-1"},
        "regtoken.example": {"registrytoken": "bearer-1"},
        "bad.example": {"auth": "%%%not-base64"},
        "nocolon.example": {"auth": "bm9jb2xvbg=="}
      },
      "HttpHeaders": {"X-Meta-Source-Client": "azure/iot"}
    })");
    for (const char* hub : {"docker.io", "index.docker.io", "registry-1.docker.io"}) {
        auto c = f.resolve(hub);
        ASSERT_TRUE(c) << c.error().what();
        EXPECT_EQ(c->username, "hub") << hub;
        EXPECT_EQ(c->secret, "hubpass") << hub;
        EXPECT_EQ(c->source, f.config_source());
    }
    auto e = f.resolve("explicit.example");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->username, "eu");
    EXPECT_EQ(e->secret, "ep");
    auto id = f.resolve("identity.example");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->kind, Credential::Kind::identity_token);
    EXPECT_EQ(id->secret, "refresh-1");
    auto rt = f.resolve("regtoken.example");
    ASSERT_TRUE(rt);
    EXPECT_EQ(rt->kind, Credential::Kind::registry_token);
    EXPECT_EQ(rt->secret, "bearer-1");
    for (const char* bad : {"bad.example", "nocolon.example"}) {
        auto b = f.resolve(bad);
        ASSERT_FALSE(b) << bad;
        EXPECT_EQ(b.error().code(), ExitCode::auth);
        EXPECT_NE(b.error().what().find("is not base64 of \"user:password\""), std::string::npos);
        EXPECT_EQ(b.error().what().find("not-base64"), std::string::npos);
    }
}

TEST(ResolveCredential, MalformedConfigNamesTheFile) {
    Fixture f;
    f.config("{ not json");
    auto c = f.resolve("r.example");
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().what().find("config.json: not valid JSON"), std::string::npos) << c.error().what();
}

TEST(ResolveCredential, HomeDockerConfigWhenNoDockerConfigVariable) {
    Fixture f;
    f.env.erase("DOCKER_CONFIG");
    std::filesystem::create_directories(f.dir / ".docker");
    write_text(f.dir / ".docker" / "config.json", R"({"auths":{"r.example":{"auth":"dTpw"}}})");
    auto c = f.resolve("r.example");
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->username, "u");
    EXPECT_EQ(c->secret, "p");
}

TEST(ResolveCredential, CredHelperBeforeCredsStoreBeforeAuths) {
    Fixture f;
    f.config(R"({"credHelpers": {"helped.example": "edgeshiptest"}, "credsStore": "edgeshiptest",
                 "auths": {"helped.example": {}, "plain.example": {"auth": "dTpw"}}})");
    f.helper_has("helped.example", "helperuser", "helpersecret");
    auto c = f.resolve("helped.example");
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->username, "helperuser");
    EXPECT_EQ(c->secret, "helpersecret");
    EXPECT_EQ(c->source, "credential helper docker-credential-edgeshiptest");
    // Not in the helper: "credentials not found" falls through to auths.
    auto p = f.resolve("plain.example");
    ASSERT_TRUE(p) << p.error().what();
    EXPECT_EQ(p->username, "u");
    EXPECT_EQ(p->source, f.config_source());
    EXPECT_EQ(f.calls(), "get helped.example\nget plain.example\n");
}

TEST(ResolveCredential, HelperTokenUserIsIdentityToken) {
    Fixture f;
    f.config(R"({"credsStore": "edgeshiptest"})");
    f.helper_has("https://index.docker.io/v1/", "<token>", "refresh-xyz");
    auto c = f.resolve("docker.io");
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->kind, Credential::Kind::identity_token);
    EXPECT_EQ(c->secret, "refresh-xyz");
}

TEST(ResolveCredential, HelperFailureIsOneClearError) {
    Fixture f;
    f.config(R"({"credsStore": "edgeshiptest"})");
    auto c = f.resolve("fail.example");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::auth);
    EXPECT_EQ(c.error().what(),
              "credentials for fail.example: docker-credential-edgeshiptest get failed (exit 3): keychain locked");
}

TEST(ResolveCredential, MissingHelperIsAnError) {
    Fixture f;
    f.config(R"({"credsStore": "nosuchhelper"})");
    auto c = f.resolve("r.example");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::auth);
    EXPECT_NE(c.error().what().find("docker-credential-nosuchhelper not found on PATH"), std::string::npos);
}

TEST(HelperProtocol, TimeoutKillsTheHelper) {
    Fixture f;
    HelperOptions o;
    o.env = &f.env;
    o.timeout = std::chrono::milliseconds(500);
    auto start = std::chrono::steady_clock::now();
    auto r = helper_get("edgeshiptest", "slow.example", o);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("did not finish within"), std::string::npos) << r.error().what();
    EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(HelperProtocol, StoreGetErase) {
    Fixture f;
    HelperOptions o;
    o.env = &f.env;
    ASSERT_TRUE(helper_store("edgeshiptest", "r.example", {"u", "s3cret"}, o));
    auto got = helper_get("edgeshiptest", "r.example", o);
    ASSERT_TRUE(got && *got);
    EXPECT_EQ((*got)->username, "u");
    EXPECT_EQ((*got)->secret, "s3cret");
    EXPECT_EQ(helper_erase("edgeshiptest", "r.example", o).value_or(false), true);
    EXPECT_EQ(helper_erase("edgeshiptest", "r.example", o).value_or(true), false);
    auto gone = helper_get("edgeshiptest", "r.example", o);
    ASSERT_TRUE(gone);
    EXPECT_FALSE(*gone);
}

TEST(MakeCredential, TokenUsers) {
    EXPECT_EQ(make_credential("<token>", "x", "s").kind, Credential::Kind::identity_token);
    EXPECT_EQ(make_credential("00000000-0000-0000-0000-000000000000", "x", "s").kind, Credential::Kind::identity_token);
    EXPECT_EQ(make_credential("admin", "x", "s").kind, Credential::Kind::basic);
}

TEST(ConfigKey, DockerHub) {
    EXPECT_EQ(config_key("docker.io"), "https://index.docker.io/v1/");
    EXPECT_EQ(config_key("registry-1.docker.io"), "https://index.docker.io/v1/");
    EXPECT_EQ(config_key("localhost:5000"), "localhost:5000");
    EXPECT_TRUE(is_docker_hub("https://index.docker.io/v1/"));
    EXPECT_FALSE(is_docker_hub("myacr.azurecr.io"));
}

} // namespace
} // namespace edgeship::registry
