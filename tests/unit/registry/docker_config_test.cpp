// config.json location, round trips that keep unknown keys, mode 0600, helper-backed store/erase
// (docs/design/registry.md §6).

#include "registry/credentials.hpp"
#include "registry/docker_config.hpp"
#include "core/base64.hpp"
#include "registry/helper_fixture.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace edgeship::registry {
namespace {

using test::read_text;
using test::TempDir;
using test::write_text;

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777U;
}

TEST(DockerConfigPath, DockerConfigThenHome) {
    EXPECT_EQ(docker_config_path({{"DOCKER_CONFIG", "/cfg"}, {"HOME", "/home/u"}}).value(), "/cfg/config.json");
    EXPECT_EQ(docker_config_path({{"HOME", "/home/u"}}).value(), "/home/u/.docker/config.json");
    EXPECT_EQ(docker_config_path({{"DOCKER_CONFIG", ""}, {"HOME", "/home/u"}}).value(), "/home/u/.docker/config.json");
    EXPECT_FALSE(docker_config_path({}));
}

TEST(DockerConfig, MissingFileIsEmpty) {
    TempDir t;
    auto c = read_docker_config(t / "config.json");
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->exists);
    EXPECT_TRUE(c->json.is_object());
}

TEST(DockerConfig, RejectsWrongShapes) {
    TempDir t;
    for (const char* text : {"[1]", R"({"auths": []})", R"({"credsStore": 3})", "{"}) {
        write_text(t / "config.json", text);
        EXPECT_FALSE(read_docker_config(t / "config.json")) << text;
    }
}

TEST(StoreCredential, CreatesDirAndFile0600AndKeepsUnknownKeys) {
    TempDir t;
    core::Environment env = {{"HOME", t.path().string()}};
    auto r = store_credential(env, "127.0.0.1:5000", "testuser", "testpass");
    ASSERT_TRUE(r) << r.error().what();
    auto path = t / ".docker" / "config.json";
    EXPECT_EQ(r->location, "docker config " + path.string());
    EXPECT_EQ(mode_of(t / ".docker"), 0700U);
    EXPECT_EQ(mode_of(path), 0600U);
    auto j = nlohmann::json::parse(read_text(path));
    EXPECT_EQ(j["auths"]["127.0.0.1:5000"]["auth"], "dGVzdHVzZXI6dGVzdHBhc3M=");

    // Unknown keys (top level and inside an entry) survive a second login and a logout.
    j["HttpHeaders"] = {{"X-Meta-Source-Client", "azure/iot"}};
    j["currentContext"] = "default";
    j["auths"]["other.example"] = {{"auth", "dTpw"}, {"email", "x@example"}};
    write_text(path, j.dump());
    ::chmod(path.c_str(), 0644);
    ASSERT_TRUE(store_credential(env, "other.example", "u2", "p2"));
    auto j2 = nlohmann::json::parse(read_text(path));
    EXPECT_EQ(j2["HttpHeaders"]["X-Meta-Source-Client"], "azure/iot");
    EXPECT_EQ(j2["currentContext"], "default");
    EXPECT_EQ(j2["auths"]["other.example"]["email"], "x@example");
    EXPECT_EQ(j2["auths"]["other.example"]["auth"], core::base64_encode("u2:p2"));
    EXPECT_EQ(mode_of(path), 0600U);

    EXPECT_EQ(erase_credential(env, "127.0.0.1:5000").value_or(false), true);
    EXPECT_EQ(erase_credential(env, "127.0.0.1:5000").value_or(true), false);
    auto j3 = nlohmann::json::parse(read_text(path));
    EXPECT_FALSE(j3["auths"].contains("127.0.0.1:5000"));
    EXPECT_TRUE(j3["auths"].contains("other.example"));
    EXPECT_EQ(j3["HttpHeaders"]["X-Meta-Source-Client"], "azure/iot");
    // No temporary files left behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(t / ".docker")) {
        ++files;
    }
    EXPECT_EQ(files, 1U);
}

TEST(StoreCredential, DockerHubKeyAndExistingSpellingReused) {
    TempDir t;
    core::Environment env = {{"DOCKER_CONFIG", t.path().string()}};
    write_text(t / "config.json", R"({"auths":{"https://myacr.azurecr.io/v2/":{"auth":"b2xkOm9sZA=="}}})");
    ASSERT_TRUE(store_credential(env, "docker.io", "hub", "hp"));
    ASSERT_TRUE(store_credential(env, "myacr.azurecr.io", "new", "np"));
    auto j = nlohmann::json::parse(read_text(t / "config.json"));
    EXPECT_EQ(j["auths"]["https://index.docker.io/v1/"]["auth"], core::base64_encode("hub:hp"));
    EXPECT_EQ(j["auths"]["https://myacr.azurecr.io/v2/"]["auth"], core::base64_encode("new:np"));
    EXPECT_EQ(j["auths"].size(), 2U);
}

TEST(StoreCredential, IdentityTokenUserStoredAsIdentityToken) {
    TempDir t;
    core::Environment env = {{"DOCKER_CONFIG", t.path().string()}};
    ASSERT_TRUE(store_credential(env, "r.example", "<token>", "refresh"));
    auto j = nlohmann::json::parse(read_text(t / "config.json"));
    EXPECT_EQ(j["auths"]["r.example"], (nlohmann::json{{"identitytoken", "refresh"}}));
    CredentialQuery q{"r.example", &env};
    auto c = resolve_credential(q);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, Credential::Kind::identity_token);
}

TEST(StoreCredential, ThroughCredsStoreHelper) {
    TempDir t;
    std::filesystem::create_directories(t / "bin");
    core::Environment env = {{"DOCKER_CONFIG", t.path().string()}, {"PATH", test::install_fake_helper(t / "bin")}};
    write_text(t / "config.json", R"({"credsStore":"edgeshiptest","proxies":{"default":{"httpProxy":"x"}}})");
    auto r = store_credential(env, "r.example", "u", "secret-in-helper");
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->location.rfind("credential helper docker-credential-edgeshiptest", 0), 0U) << r->location;
    std::string cfg = read_text(t / "config.json");
    EXPECT_EQ(cfg.find("secret-in-helper"), std::string::npos);
    auto j = nlohmann::json::parse(cfg);
    EXPECT_EQ(j["auths"]["r.example"], nlohmann::json::object());
    EXPECT_EQ(j["proxies"]["default"]["httpProxy"], "x");
    EXPECT_NE(read_text(t / "bin" / "creds.json").find("secret-in-helper"), std::string::npos);
    CredentialQuery q{"r.example", &env};
    auto c = resolve_credential(q);
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->secret, "secret-in-helper");
    EXPECT_EQ(erase_credential(env, "r.example").value_or(false), true);
    EXPECT_EQ(read_text(t / "bin" / "creds.json"), "{}");
    auto j2 = nlohmann::json::parse(read_text(t / "config.json"));
    EXPECT_FALSE(j2["auths"].contains("r.example"));
}

TEST(StoreCredential, HelperFailureLeavesConfigUntouched) {
    TempDir t;
    std::filesystem::create_directories(t / "bin");
    core::Environment env = {{"DOCKER_CONFIG", t.path().string()}, {"PATH", test::install_fake_helper(t / "bin")}};
    std::string before = R"({"credsStore":"edgeshiptest"})";
    write_text(t / "config.json", before);
    auto r = store_credential(env, "fail.example", "u", "p");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::auth);
    EXPECT_EQ(read_text(t / "config.json"), before);
}

TEST(NormalizeRegistryKey, Forms) {
    EXPECT_EQ(normalize_registry_key("https://MyAcr.azurecr.io/v2/"), "myacr.azurecr.io");
    EXPECT_EQ(normalize_registry_key("localhost:5000"), "localhost:5000");
    EXPECT_EQ(normalize_registry_key("http://127.0.0.1:5000"), "127.0.0.1:5000");
}

} // namespace
} // namespace edgeship::registry
