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
    hub(m).erase("routes");
    auto r = validate_manifest(m);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.restartPolicy", "schema:"));
    EXPECT_TRUE(has_error(r, k_hub, "schema:"));
}

// Schema messages show the offending value and what was expected.
TEST(Validate, SchemaMessagesShowValueAndExpectation) {
    auto m = base();
    agent(m)["modules"]["score"]["restartPolicy"] = "sometimes";
    agent(m)["modules"]["score"]["startupOrder"] = "first";
    agent(m)["modules"]["sink"]["status"] = true;
    hub(m)["routes"]["num"] = 5;
    hub(m).erase("storeAndForwardConfiguration");
    hub(m)["storeAndForwardConfiguration"] = {{"timeToLiveSecs", -1}};
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.restartPolicy",
                          "schema: is 'sometimes'; expected one of never, on-failure, on-unhealthy, always"));
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.startupOrder", "schema: is 'first'; expected an integer"));
    EXPECT_TRUE(has_error(r, k_agent + ".modules.sink.status", "schema: is true (a boolean); expected one of running, stopped"));
    EXPECT_TRUE(has_error(r, k_hub + ".routes.num",
                          "schema: is 5 (an integer); expected a string or an object with route"));
    EXPECT_TRUE(has_error(r, k_hub + ".storeAndForwardConfiguration.timeToLiveSecs", "-1 is out of range; expected an integer >= 0"));
    // one finding per fault: the oneOf alternatives do not add their own complaints
    std::size_t at_route = 0;
    for (const auto& f : r.findings) {
        at_route += f.path == k_hub + ".routes.num" ? 1 : 0;
    }
    EXPECT_EQ(at_route, 1u);
    // a registry credential's value is never echoed
    m = base();
    agent(m)["runtime"]["settings"]["registryCredentials"]["acr"]["password"] = 12345;
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".runtime.settings.registryCredentials.acr.password",
                          "schema: is an integer; expected a string"));
    for (const auto& f : r.findings) {
        EXPECT_EQ(f.message.find("12345"), std::string::npos) << f.message;
    }    // an address is not a secret: shown
    m = base();
    agent(m)["runtime"]["settings"]["registryCredentials"]["acr"]["address"] = "Your ACR address";
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".runtime.settings.registryCredentials.acr.address",
                          "schema: 'Your ACR address' does not match ^[^\\s]+$ (no spaces, not empty)"));
}

// One fault, one error: a semantic check's error replaces the schema's complaint at the same path.
TEST(Validate, OneFaultOneError) {
    auto m = base();
    agent(m)["modules"]["score"]["settings"]["createOptions"] = json{{"a", 1}};
    agent(m)["schemaVersion"] = "${EDGEAGENT_SCHEMA_VERSION}";
    auto r = validate_manifest(m);
    ASSERT_EQ(r.findings.size(), 2u);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.settings.createOptions", "must be a string"));
    EXPECT_TRUE(has_error(r, k_agent + ".schemaVersion", "unresolved placeholder"));
}

// The agent reads only image, createOptions* and digest from settings: env there is lost (AI Toolkit sample).
TEST(Validate, UnknownSettingsKeysAreWarnings) {
    auto m = base();
    agent(m)["systemModules"]["edgeAgent"]["settings"]["env"] = {{"A", {{"value", "1"}}}};
    agent(m)["modules"]["score"]["settings"]["digest"] = "sha256:0";
    auto r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings[0].path, k_agent + ".systemModules.edgeAgent.settings.env");
    EXPECT_NE(r.findings[0].message.find("ignored by the edge agent"), std::string::npos);
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

::testing::AssertionResult has_warning(const ValidationReport& r, const std::string& path, const std::string& text) {
    std::string all;
    for (const auto& f : r.findings) {
        if (!f.error && f.path == path && f.message.find(text) != std::string::npos) {
            return ::testing::AssertionSuccess();
        }
        all += std::string(f.error ? "  error " : "  warning ") + f.path + ": " + f.message + "\n";
    }
    return ::testing::AssertionFailure() << "no warning at " << path << " containing '" << text << "'; findings:\n" << all;
}

TEST(Validate, RouteSyntaxAndModules) {
    auto m = base();
    hub(m)["routes"]["bad"] = "FROM /messages/* TO $upstream";
    hub(m)["routes"]["sinkless"] = "FROM /messages/* INTO somewhere";
    hub(m)["routes"]["select"] = "SELECT * FROM /messages/* INTO $upstream";
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_hub + ".routes.bad", "is not 'FROM <source> [WHERE <condition>] INTO <sink>'"));
    EXPECT_TRUE(has_error(r, k_hub + ".routes.sinkless", "must be $upstream or BrokeredEndpoint"));
    for (const auto& f : r.findings) {
        EXPECT_NE(f.path, k_hub + ".routes.select") << f.message;
    }
}

// edgeHub accepts routes naming modules that are not deployed: warnings, naming a case slip.
TEST(Validate, RoutesToUndeployedModulesAreWarnings) {
    auto m = base();
    hub(m)["routes"]["ghost"] = "FROM /messages/modules/ghost/outputs/* INTO $upstream";
    hub(m)["routes"]["ghostsink"] = "FROM /messages/* INTO BrokeredEndpoint(\"/modules/nope/inputs/i\")";
    hub(m)["routes"]["slip"] = "FROM /messages/* INTO BrokeredEndpoint(\"/modules/Sink/inputs/i\")";
    hub(m)["routes"]["slipsource"] = "FROM /messages/modules/SCORE/outputs/* INTO $upstream";
    auto r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(has_warning(r, k_hub + ".routes.ghost", "route source names module 'ghost', which this deployment does not contain"));
    EXPECT_TRUE(has_warning(r, k_hub + ".routes.ghostsink", "route sink names module 'nope'"));
    EXPECT_TRUE(has_warning(r, k_hub + ".routes.slip", "the deployed module is 'sink': module ids are case-sensitive"));
    EXPECT_TRUE(has_warning(r, k_hub + ".routes.slipsource", "the deployed module is 'score'"));
}

// /messages/modules/* is a standard source; '*' mid-source is legal but matches nothing (edgeHub: prefix match).
TEST(Validate, WildcardRouteSources) {
    auto m = base();
    hub(m)["routes"]["all"] = "FROM /messages/modules/* INTO $upstream";
    hub(m)["routes"]["outputs"] = "FROM /messages/modules/*/outputs/* INTO $upstream";
    auto r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_TRUE(has_warning(r, k_hub + ".routes.outputs", "receives no messages"));
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
    // images pull from acr.azurecr.io: the credential is used, so it is an error
    EXPECT_TRUE(has_error(r, p + ".acr.password", "is empty, and score, sink pull from 'acr.azurecr.io'"));
    EXPECT_TRUE(has_error(r, p + ".acr.username", "unresolved variable"));
    EXPECT_TRUE(has_error(r, p + ".incomplete", "schema: missing required property 'username'"));
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

// $USERNAME/$PASSWORD left in a credential no image uses: the agent never reads it, so a warning.
TEST(Validate, UnusedRegistryCredentialWithPlaceholdersIsAWarning) {
    auto m = base();
    agent(m)["runtime"]["settings"]["registryCredentials"]["spare"] = {
        {"username", "$USERNAME"}, {"password", "$PASSWORD"}, {"address", "spare.azurecr.io"}};
    auto r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    const std::string p = k_agent + ".runtime.settings.registryCredentials.spare";
    EXPECT_TRUE(has_warning(r, p + ".username", "no image in this deployment pulls from 'spare.azurecr.io'"));
    EXPECT_TRUE(has_warning(r, p + ".password", "no image in this deployment pulls from 'spare.azurecr.io'"));
    for (const auto& f : r.findings) {
        EXPECT_EQ(f.message.find("$PASSWORD"), std::string::npos);
    }
    agent(m)["modules"]["sink"]["settings"]["image"] = "spare.azurecr.io/sink:1";
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, p + ".password", "sink pull from 'spare.azurecr.io'"));
}

// iotedgedev's scaffold: "$USERNAME"/"$PASSWORD" for the local registry localhost:5000, which needs none.
TEST(Validate, PlaceholderCredentialsForALocalRegistryAreWarnings) {
    auto m = base();
    agent(m)["runtime"]["settings"]["registryCredentials"]["acr"] = {
        {"username", "$USERNAME"}, {"password", "$PASSWORD"}, {"address", "localhost:5000"}};
    agent(m)["modules"]["sink"]["settings"]["image"] = "localhost:5000/sink:1";
    auto r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(has_warning(r, k_agent + ".runtime.settings.registryCredentials.acr.username",
                            "local registry 'localhost:5000', which needs no credentials"));
}

TEST(Validate, UnresolvedImagePlaceholders) {
    auto m = base();
    agent(m)["modules"]["score"]["settings"]["image"] = "${MODULES.score}";
    agent(m)["modules"]["sink"]["settings"]["image"] = "$REGISTRY/sink:1";
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.score.settings.image", "unresolved placeholder"));
    EXPECT_TRUE(has_error(r, k_agent + ".modules.sink.settings.image", "unresolved placeholder"));
}

// Nested edge: "$upstream:443/…" is resolved by the edge agent; without a port the agent refuses it.
TEST(Validate, UpstreamImages) {
    auto m = base();
    agent(m)["systemModules"]["edgeAgent"]["settings"]["image"] = "$upstream:443/azureiotedge-agent:1.4";
    agent(m)["modules"]["sink"]["settings"]["image"] = "$upstream:443/sink:1";
    auto r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.findings.empty()) << r.findings[0].path << ": " << r.findings[0].message;
    agent(m)["modules"]["sink"]["settings"]["image"] = "$upstream/sink:1";
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".modules.sink.settings.image", "without a port"));
}

// "<Container_Registry>/x:<Build.BuildNumber>" (filled by sed in Azure/iotedge's pipelines): a warning.
TEST(Validate, AngleBracketPlaceholdersInImagesAreWarnings) {
    auto m = base();
    agent(m)["modules"]["sink"]["settings"]["image"] = "<Container_Registry>/sink:<Build.BuildNumber>-linux-<Architecture>";
    auto r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(has_warning(r, k_agent + ".modules.sink.settings.image", "<…> placeholders"));
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
    EXPECT_TRUE(has_warning(r, "$.content.modulesContent.$edgeHub.properties.desired.routes.r", "base deployment"));
    // a whole properties.desired in a layered deployment would replace the base's
    m = json::parse(R"({"content": {"modulesContent": {
        "$edgeAgent": {"properties.desired": {"modules": {}}},
        "$edgeHub": {"properties.desired.routes.r": "FROM /messages/* INTO $upstream"}}}})");
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, "$.content.modulesContent.$edgeAgent.properties.desired", "not a whole 'properties.desired'"));
    // the documented minimal layered deployment: "$edgeAgent": {} plus a module twin
    m = json::parse(R"({"content": {"modulesContent": {"$edgeAgent": {}, "m": {"properties.desired": {"a": 1}}}}})");
    r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
}

// {"content": …} is the configuration form, not a layered marker: a full manifest inside is checked in full.
TEST(Validate, ContentWrapperHoldsAFullManifest) {
    json m = {{"content", base()}, {"metrics", {{"queries", json::object()}}}, {"id", "x"}};
    m["content"]["$schema"] = "http://json.schemastore.org/azure-iot-edge-deployment-2.0";
    auto r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.findings.empty()) << r.findings[0].path << ": " << r.findings[0].message;
    m["content"]["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]["score"]["restartPolicy"] = "x";
    r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, "$.content.modulesContent.$edgeAgent.properties.desired.modules.score.restartPolicy",
                          "schema: is 'x'"));
}

// az reads the legacy "moduleContent" as modulesContent with a warning; so does edgeship.
TEST(Validate, LegacyModuleContentIsRenamedWithAWarning) {
    json m = {{"content", {{"moduleContent", base()["modulesContent"]}}}};
    auto r = validate_manifest(m);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(has_warning(r, "$.content.moduleContent", "deprecated name of 'modulesContent'"));
}

// The edge agent refuses schema versions it does not know (412 InvalidSchemaVersion on the device).
TEST(Validate, SchemaVersionsTheRuntimeAccepts) {
    auto m = base();
    hub(m)["schemaVersion"] = "1.3";
    EXPECT_TRUE(validate_manifest(m).ok());
    agent(m)["schemaVersion"] = "9.0";
    auto r = validate_manifest(m);
    EXPECT_TRUE(has_error(r, k_agent + ".schemaVersion", "412"));
}

TEST(Validate, NotAManifest) {
    auto r = validate_manifest(json::array());
    EXPECT_FALSE(r.ok());
    r = validate_manifest(json::object());
    EXPECT_TRUE(has_error(r, "$", "missing 'modulesContent'"));
    r = validate_manifest(json{{"foo", "bar"}});
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

namespace edgeship::manifest {
namespace {
// Messages name only what users have: no internal reference files or section numbers.
TEST(Validate, MessagesCiteNoInternalFiles) {
    auto m = base();
    auto& s = agent(m)["modules"]["score"]["settings"];
    s["createOptions"] = "{\"a\":";
    s["createOptions02"] = "1}";
    agent(m)["modules"]["sink"]["imagePullPolicy"] = "sometimes";
    agent(m)["schemaVersion"] = "1.0";
    hub(m)["schemaVersion"] = "1.0";
    m["$schema-template"] = "4.0.0";
    json layered = json::parse(R"({"content": {"modulesContent": {
        "$edgeAgent": {"properties.desired.systemModules.edgeHub": {"type": "docker"}}}}})");
    for (const auto& doc : {m, layered}) {
        auto r = validate_manifest(doc);
        EXPECT_FALSE(r.ok());
        for (const auto& f : r.findings) {
            EXPECT_EQ(f.message.find("reference/"), std::string::npos) << f.message;
            EXPECT_EQ(f.message.find("§"), std::string::npos) << f.message;
        }
    }
}
} // namespace
} // namespace edgeship::manifest
