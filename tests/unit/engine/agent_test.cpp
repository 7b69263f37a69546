// The agent's create rules (lib/engine/agent.hpp; docs/design/container-tests.md rules 1-9): a manifest in,
// the ordered create bodies out. The cases mirror tests/container/agent_create.py.

#include "core/base64.hpp"
#include "engine/agent.hpp"

#include <gtest/gtest.h>

namespace edgeship::engine {
namespace {

using nlohmann::json;

json manifest_with(json modules, json runtime_settings = json::object()) {
    return {{"modulesContent",
             {{"$edgeAgent",
               {{"properties.desired",
                 {{"schemaVersion", "1.1"},
                  {"runtime", {{"type", "docker"}, {"settings", runtime_settings}}},
                  {"systemModules", {{"edgeAgent", json::object()}, {"edgeHub", json::object()}}},
                  {"modules", modules}}}}},
              {"$edgeHub", {{"properties.desired", {{"routes", json::object()}}}}}}}};
}

json module(const std::string& image, json settings_extra = json::object(), json extra = json::object()) {
    json settings = {{"image", image}};
    if (!settings_extra.is_null()) { // a `{}` argument arrives as null
        settings.update(settings_extra);
    }
    json m = {{"version", "1.0"}, {"type", "docker"}, {"status", "running"}, {"restartPolicy", "always"},
              {"settings", settings}};
    if (!extra.is_null()) {
        m.update(extra);
    }
    return m;
}

TEST(AgentImage, TrimsAndAddsLatest) {
    EXPECT_EQ(*normalize_image("  reg.io/team/app  "), "reg.io/team/app:latest");
    EXPECT_EQ(*normalize_image("127.0.0.1:5000/app:1.0"), "127.0.0.1:5000/app:1.0");
    EXPECT_EQ(*normalize_image("127.0.0.1:5000/app"), "127.0.0.1:5000/app:latest");
    EXPECT_EQ(*normalize_image("app@sha256:abc"), "app@sha256:abc");
    EXPECT_FALSE(normalize_image(""));
    auto up = normalize_image("$upstream:443/app:1");
    ASSERT_FALSE(up);
    EXPECT_NE(up.error().message().find("$upstream"), std::string::npos);
    EXPECT_FALSE(normalize_image("a:b:c"));
}

TEST(AgentCreateOptions, JoinsChunksInNameOrder) {
    std::string text = R"({"Cmd":["a","b"],"Env":["X=1"]})";
    json settings = {{"image", "x"}, {"createOptions01", text.substr(10)}, {"createOptions", text.substr(0, 10)}};
    auto j = join_create_options(settings);
    ASSERT_TRUE(j) << j.error().what();
    EXPECT_EQ((*j)["Cmd"], json({"a", "b"}));
}

TEST(AgentCreateOptions, EmptyOrNullIsEmptyObject) {
    EXPECT_EQ(*join_create_options({{"image", "x"}}), json::object());
    EXPECT_EQ(*join_create_options({{"createOptions", ""}}), json::object());
    EXPECT_EQ(*join_create_options({{"createOptions", " null "}}), json::object());
    EXPECT_EQ(*join_create_options({{"createOptions", {{"User", "node"}}}}), json({{"User", "node"}}));
}

TEST(AgentCreateOptions, RefusesGapsAndBadJson) {
    auto gap = join_create_options({{"createOptions", "{"}, {"createOptions02", "}"}});
    ASSERT_FALSE(gap);
    EXPECT_EQ(gap.error().message(), "createOptions: expected createOptions01, found createOptions02");
    auto first = join_create_options({{"createOptions01", "{}"}});
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().message(), "createOptions: expected createOptions first, found createOptions01");
    EXPECT_EQ(join_create_options({{"createOptions", "{\"a\":"}}).error().message(), "createOptions is not JSON");
    EXPECT_EQ(join_create_options({{"createOptions", "[1]"}}).error().message(), "createOptions is not a JSON object");
}

TEST(AgentEnv, CreateOptionsWinsAndSortsByName) {
    auto env = merge_env(json({"B=from-create", "C=only-create", "D"}), {{"B", "from-env"}, {"A", "a"}});
    EXPECT_EQ(env, (std::vector<std::string>{"A=a", "B=from-create", "C=only-create", "D="}));
}

TEST(AgentRegistry, DomainAsTheAgentParsesIt) {
    EXPECT_EQ(*image_registry("myacr.azurecr.io/app:1"), "myacr.azurecr.io");
    EXPECT_EQ(*image_registry("127.0.0.1:5000/app:1"), "127.0.0.1:5000");
    EXPECT_EQ(*image_registry("library/node:20"), "https://index.docker.io/v1/");
    EXPECT_FALSE(image_registry("node:20"));
}

TEST(AgentRegistry, CredentialMatchesTheImageRegistryCaseInsensitively) {
    std::vector<RegistryCredential> creds{{"other.io", "u1", "p1"}, {"MyAcr.azurecr.io", "u2", "p2"}};
    auto c = credential_for("myacr.azurecr.io/app:1", creds);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->username, "u2");
    EXPECT_FALSE(credential_for("third.io/app:1", creds));
    EXPECT_FALSE(credential_for("app:1", creds));
}

TEST(AgentRegistry, AuthHeaderIsBase64UrlJson) {
    // This JSON's standard base64 has '+' and '/' ("Ij8+Pz4/PiIs"); base64url has '-' and '_' instead.
    RegistryCredential c{"reg.io", "user", "~~~~"};
    c.password = "?>?>?>";
    std::string h = registry_auth_header(c);
    EXPECT_EQ(h, "eyJwYXNzd29yZCI6Ij8-Pz4_PiIsInNlcnZlcmFkZHJlc3MiOiJyZWcuaW8iLCJ1c2VybmFtZSI6InVzZXIifQ==");
    EXPECT_EQ(h.find('+'), std::string::npos);
    EXPECT_EQ(h.find('/'), std::string::npos);
    std::string standard = h;
    for (char& ch : standard) {
        ch = ch == '-' ? '+' : (ch == '_' ? '/' : ch);
    }
    auto decoded = core::base64_decode(standard);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(json::parse(*decoded), json({{"username", "user"}, {"password", "?>?>?>"}, {"serveraddress", "reg.io"}}));
}

TEST(AgentImage, SplitForPull) {
    EXPECT_EQ(split_image("127.0.0.1:5000/app:1.0"), std::make_pair(std::string("127.0.0.1:5000/app"), std::string("1.0")));
    EXPECT_EQ(split_image("app@sha256:ab"), std::make_pair(std::string("app@sha256:ab"), std::string()));
}

TEST(AgentPlan, BuildsTheCreateBodyAsTheAgent) {
    std::string opts = R"({"Env":["GREETING=create"],"Labels":{"mine":"1"},"HostConfig":{"Binds":["/a:/b"]}})";
    json m = manifest_with(
        {{"scoring", module("127.0.0.1:5000/scoring:0.1.0-amd64", {{"createOptions", opts.substr(0, 20)}, {"createOptions01", opts.substr(20)}},
                            {{"env", {{"GREETING", {{"value", "env"}}}, {"PORT", {{"value", 8080}}}}}})}},
        {{"registryCredentials", {{"local", {{"address", "127.0.0.1:5000"}, {"username", "u"}, {"password", "secret"}}}}}});
    PlanOptions po;
    po.extra_labels["dev.edgeship.run"] = "dep-1";
    auto plan = plan_deployment(m, po);
    ASSERT_TRUE(plan) << plan.error().what();
    ASSERT_EQ(plan->modules.size(), 1u);
    EXPECT_EQ(plan->system_modules, (std::vector<std::string>{"edgeAgent", "edgeHub"}));
    const auto& p = plan->modules[0];
    EXPECT_EQ(p.name, "scoring");
    EXPECT_EQ(p.body["Image"], "127.0.0.1:5000/scoring:0.1.0-amd64");
    EXPECT_EQ(p.body["Env"], json({"GREETING=create", "PORT=8080"}));
    EXPECT_EQ(p.body["Labels"], json({{"mine", "1"},
                                       {"net.azure-devices.edge.owner", "Microsoft.Azure.Devices.Edge.Agent"},
                                       {"net.azure-devices.edge.original-image", "127.0.0.1:5000/scoring:0.1.0-amd64"},
                                       {"dev.edgeship.run", "dep-1"}}));
    EXPECT_EQ(p.body["HostConfig"]["Binds"], json({"/a:/b"}));
    EXPECT_EQ(p.body["HostConfig"]["NetworkMode"], "azure-iot-edge");
    EXPECT_EQ(p.body["NetworkingConfig"], json({{"EndpointsConfig", {{"azure-iot-edge", json::object()}}}}));
    ASSERT_TRUE(p.credential);
    EXPECT_EQ(p.credential->password, "secret");
    EXPECT_EQ(p.restart_policy, "always");
    EXPECT_EQ(p.status, "running");
}

TEST(AgentPlan, KeepsTheModulesOwnNetworkAndUsesHostWhenAsked) {
    std::string opts = R"({"NetworkingConfig":{"EndpointsConfig":{"mynet":{}}},"HostConfig":{"NetworkMode":"mynet"}})";
    json m = manifest_with({{"a", module("r.io/a:1", {{"createOptions", opts}})}});
    auto own = plan_deployment(m);
    ASSERT_TRUE(own);
    EXPECT_EQ(own->modules[0].body["NetworkingConfig"]["EndpointsConfig"], json({{"mynet", json::object()}}));
    EXPECT_EQ(own->modules[0].body["HostConfig"]["NetworkMode"], "mynet");
    PlanOptions host;
    host.network = "host";
    auto h = plan_deployment(m, host);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->modules[0].body["HostConfig"]["NetworkMode"], "host");
    EXPECT_FALSE(h->modules[0].body.contains("NetworkingConfig"));
}

TEST(AgentPlan, OrdersByStartupOrderThenName) {
    json m = manifest_with({{"zeta", module("r.io/z:1", {}, {{"startupOrder", 1}})},
                            {"alpha", module("r.io/a:1")},
                            {"beta", module("r.io/b:1", {}, {{"startupOrder", 1}})},
                            {"first", module("r.io/f:1", {}, {{"startupOrder", 0}})}});
    auto plan = plan_deployment(m);
    ASSERT_TRUE(plan);
    std::vector<std::string> names;
    for (const auto& p : plan->modules) {
        names.push_back(p.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"first", "beta", "zeta", "alpha"}));
    EXPECT_EQ(plan->modules.back().startup_order, k_default_startup_order);
}

TEST(AgentPlan, ErrorsNameTheModule) {
    auto bad = plan_deployment(manifest_with({{"ok", module("r.io/a:1")}, {"broken", module("r.io/b:1", {{"createOptions", "{nope"}})}}));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().what(), "module broken: createOptions is not JSON");
    auto noimg = plan_deployment(manifest_with({{"m", json({{"type", "docker"}, {"settings", json::object()}})}}));
    ASSERT_FALSE(noimg);
    EXPECT_EQ(noimg.error().what(), "module m: settings.image is missing or not a string");
    auto order = plan_deployment(manifest_with({{"m", module("r.io/a:1", {}, {{"startupOrder", -1}})}}));
    ASSERT_FALSE(order);
    EXPECT_EQ(order.error().what(), "module m: startupOrder -1 is not a non-negative integer");
    EXPECT_FALSE(plan_deployment(json({{"modulesContent", json::object()}})));
}

TEST(AgentPlan, NeverPutsThePasswordInErrors) {
    json m = manifest_with({{"m", module("r.io/a:1", {{"createOptions", "{"}})}},
                           {{"registryCredentials", {{"r", {{"address", "r.io"}, {"username", "u"}, {"password", "hunter2"}}}}}});
    auto plan = plan_deployment(m);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().what().find("hunter2"), std::string::npos);
}

} // namespace
} // namespace edgeship::engine
