#include "manifest/validate.hpp"

#include <gtest/gtest.h>

namespace edgeship::manifest {
namespace {

using nlohmann::json;

// A valid manifest every test breaks in one place.
json base() {
    return json::parse(R"json({
      "modulesContent": {
        "$edgeAgent": {"properties.desired": {
          "schemaVersion": "1.1",
          "runtime": {"type": "docker", "settings": {"minDockerVersion": "v1.25", "loggingOptions": "",
            "registryCredentials": {"acr": {"username": "u", "password": "p", "address": "acr.azurecr.io"}}}},
          "systemModules": {
            "edgeAgent": {"type": "docker", "settings": {"image": "mcr.microsoft.com/azureiotedge-agent:1.4", "createOptions": "{}"}},
            "edgeHub": {"type": "docker", "status": "running", "restartPolicy": "always",
                        "settings": {"image": "mcr.microsoft.com/azureiotedge-hub:1.4", "createOptions": "{}"}}},
          "modules": {
            "score": {"version": "1.0", "type": "docker", "status": "running", "restartPolicy": "always",
                      "imagePullPolicy": "on-create", "startupOrder": 1,
                      "env": {"PORT": {"value": "8080"}},
                      "settings": {"image": "acr.azurecr.io/score:0.0.1-amd64", "createOptions": "{\"a\":1}"}},
            "sink": {"type": "docker", "status": "running", "restartPolicy": "on-failure",
                     "settings": {"image": "acr.azurecr.io/sink:1-amd64"}}}}},
        "$edgeHub": {"properties.desired": {
          "schemaVersion": "1.2",
          "routes": {
            "up": "FROM /messages/modules/score/outputs/* INTO $upstream",
            "chain": {"route": "FROM /messages/modules/score/outputs/o WHERE $body.x > 1 INTO BrokeredEndpoint(\"/modules/sink/inputs/in\")", "priority": 0, "timeToLiveSecs": 10}},
          "storeAndForwardConfiguration": {"timeToLiveSecs": 7200}}}}})json");
}

const std::string k_agent = "$.modulesContent.$edgeAgent.properties.desired";
const std::string k_hub = "$.modulesContent.$edgeHub.properties.desired";

json& agent(json& m) { return m["modulesContent"]["$edgeAgent"]["properties.desired"]; }
json& hub(json& m) { return m["modulesContent"]["$edgeHub"]["properties.desired"]; }

// The report has an error at exactly `path` whose message contains `text`.
::testing::AssertionResult has_error(const ValidationReport& r, const std::string& path, const std::string& text) {
    std::string all;
    for (const auto& f : r.findings) {
        if (f.error && f.path == path && f.message.find(text) != std::string::npos) {
            return ::testing::AssertionSuccess();
        }
        all += std::string(f.error ? "  error " : "  warning ") + f.path + ": " + f.message + "\n";
    }
    return ::testing::AssertionFailure() << "no error at " << path << " containing '" << text << "'; findings:\n" << all;
}

TEST(Validate, BaseManifestIsClean) {
    auto r = validate_manifest(base());
    EXPECT_TRUE(r.ok());
    for (const auto& f : r.findings) {
        ADD_FAILURE() << f.path << ": " << f.message;
    }
}

TEST(Validate, SchemaFindingsCarryJsonPaths) {
    auto m = base();
    agent(m)["modules"]["score"]["restartPolicy"] = "sometimes";
    agent(m)["modules"]["score"]["settings"]["extra"] = "x";
    agent(m)["modules"]["bad.name"] = agent(m)["modules"]["sink"];
    hub(m).erase("routes");
    m["extra"] = 1;
    auto r = validate_manifest(m);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.restartPolicy", "schema:"));
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.settings", "schema:"));
    EXPECT_TRUE(has_error(r, k_hub, "schema:"));
    EXPECT_TRUE(has_error(r, "$", "schema:"));
}

TEST(Validate, SchemaVersions) {
    auto m = base();
    agent(m)["schemaVersion"] = "1.2";
    hub(m)["schemaVersion"] = "2.0";
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".schemaVersion", "$edgeAgent schemaVersion '1.2' is not supported"));
    EXPECT_TRUE(has_error(r, k_hub + ".schemaVersion", "$edgeHub schemaVersion '2.0' is not supported"));
    m = base();
    agent(m)["schemaVersion"] = "1.0";
    hub(m)["schemaVersion"] = "1.0";
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.startupOrder", "needs $edgeAgent schemaVersion 1.1"));
    EXPECT_TRUE(has_error(r, k_hub + ".routes.chain", "route objects"));
}

TEST(Validate, RouteSyntaxAndModules) {
    auto m = base();
    hub(m)["routes"]["bad"] = "FROM /messages/* TO $upstream";
    hub(m)["routes"]["ghost"] = "FROM /messages/modules/ghost/outputs/* INTO $upstream";
    hub(m)["routes"]["sinkless"] = "FROM /messages/* INTO somewhere";
    hub(m)["routes"]["ghostsink"] = "FROM /messages/* INTO BrokeredEndpoint(\"/modules/nope/inputs/i\")";
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_hub + ".routes.bad", "is not 'FROM <source> [WHERE <condition>] INTO <sink>'"));
    EXPECT_TRUE(has_error(r, k_hub + ".routes.ghost", "route source names module 'ghost'"));
    EXPECT_TRUE(has_error(r, k_hub + ".routes.sinkless", "must be $upstream or BrokeredEndpoint"));
    EXPECT_TRUE(has_error(r, k_hub + ".routes.ghostsink", "route sink names module 'nope'"));
}

TEST(Validate, CreateOptionsChunks) {
    auto m = base();
    auto& s = agent(m)["modules"]["score"]["settings"];
    s["createOptions"] = "{\"a\":";
    s["createOptions02"] = "1}";
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.settings.createOptions02", "must be contiguous"));
    m = base();
    agent(m)["modules"]["score"]["settings"]["createOptions"] = std::string(513, ' ') + "{}";
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.settings.createOptions", "the limit is 512"));
    m = base();
    agent(m)["modules"]["score"]["settings"]["createOptions"] = "{not json";
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.settings.createOptions", "is not valid JSON"));
    m = base();
    agent(m)["modules"]["score"]["settings"]["createOptions"] = json{{"a", 1}};
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.settings.createOptions", "must be a string"));
}

TEST(Validate, TwinLimits) {
    auto m = base();
    agent(m)["modules"]["score"]["env"]["BIG"] = {{"value", std::string(4097, 'x')}};
    agent(m)["modules"]["score"]["env"]["has space"] = {{"value", "1"}};
    m["modulesContent"]["score"] = {{"properties.desired", {{"a.b", 1}}}};
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.env.BIG.value", "4096 bytes per twin value"));
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.env.has space", "twin keys forbid"));
    EXPECT_TRUE(has_error(r, "$.modulesContent.score.properties.desired.a.b", "twin keys forbid"));
    m = base();
    for (int i = 0; i < 12; ++i) {
        agent(m)["modules"]["m" + std::to_string(i)] = agent(m)["modules"]["sink"];
        agent(m)["modules"]["m" + std::to_string(i)]["env"] = {{"PAD", {{"value", std::string(3000, 'p')}}}};
    }
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, "$.modulesContent.$edgeAgent", "IoT Hub allows 32768"));
}

TEST(Validate, RegistryCredentials) {
    auto m = base();
    auto& acr = agent(m)["runtime"]["settings"]["registryCredentials"]["acr"];
    acr["password"] = "";
    acr["username"] = "$CONTAINER_REGISTRY_USERNAME";
    agent(m)["runtime"]["settings"]["registryCredentials"]["incomplete"] = {{"address", "x.azurecr.io"}};
    auto r = validate_manifest(m);
    const std::string p = k_agent + ".runtime.settings.registryCredentials";
    EXPECT_TRUE(has_error(r, p + ".acr.password", "is empty"));
    EXPECT_TRUE(has_error(r, p + ".acr.username", "unresolved variable"));
    EXPECT_TRUE(has_error(r, p + ".incomplete", "schema:"));
    // a password that merely contains '$' is fine, and is never echoed
    m = base();
    agent(m)["runtime"]["settings"]["registryCredentials"]["acr"]["password"] = "p$ssword";
    r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    // an image from a registry without credentials is a warning
    m = base();
    agent(m)["modules"]["sink"]["settings"]["image"] = "other.azurecr.io/sink:1";
    r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings[0].path, k_agent + ".modules.sink.settings.image");
    EXPECT_FALSE(r.findings[0].error);
}

TEST(Validate, UnresolvedImagePlaceholders) {
    auto m = base();
    agent(m)["modules"]["score"]["settings"]["image"] = "${MODULES.score}";
    agent(m)["modules"]["sink"]["settings"]["image"] = "$REGISTRY/sink:1";
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.settings.image", "unresolved placeholder"));
    EXPECT_TRUE(has_error(r, k_agent + ".modules.sink.settings.image", "unresolved placeholder"));
}

TEST(Validate, TemplateKeysAndSchemaKeyAreErrors) {
    auto m = base();
    m["$schema-template"] = "4.0.0";
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, "$.$schema-template", "templates only"));
}

TEST(Validate, LayeredManifests) {
    json m = json::parse(R"({"content": {"modulesContent": {
        "$edgeAgent": {"properties.desired.modules.t": {"type": "docker", "status": "running", "restartPolicy": "always",
                        "settings": {"image": "r/t:1", "createOptions": "{}"}},
                       "properties.desired.systemModules.edgeHub": {"type": "docker"}},
        "$edgeHub": {"properties.desired.routes.r": "FROM /messages/modules/base/outputs/* INTO $upstream",
                     "properties.desired.routes.bad": "INTO nothing"}}}})");
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, "$.content.modulesContent.$edgeAgent.properties.desired.systemModules.edgeHub",
                          "must not contain system modules"));
    EXPECT_TRUE(has_error(r, "$.content.modulesContent.$edgeHub.properties.desired.routes.bad", "is not 'FROM"));
    // a route to a module of the base deployment is only a warning
    bool warned = false;
    for (const auto& f : r.findings) {
        warned |= !f.error && f.path == "$.content.modulesContent.$edgeHub.properties.desired.routes.r";
    }
    EXPECT_TRUE(warned);
}

TEST(Validate, NotAManifest) {
    auto r = validate_manifest(json::array());
    EXPECT_FALSE(r.ok());
    r = validate_manifest(json::object());
    EXPECT_TRUE(has_error(r, "$", "missing 'modulesContent'"));
}

} // namespace
} // namespace edgeship::manifest

namespace edgeship::manifest {
namespace {
TEST(Validate, ImageWithForbiddenCharacters) {
    auto m = base();
    agent(m)["modules"]["sink"]["settings"]["image"] = "quo\"te/sink:1";
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.sink.settings.image", "not a valid image reference"));
}
} // namespace
} // namespace edgeship::manifest
