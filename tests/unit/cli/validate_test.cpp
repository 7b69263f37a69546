#include "cli/app.hpp"
#include "cli/io.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace edgeship::cli {
namespace {

using test::TempDir;
using test::write_text;

std::string golden(const std::string& rel) {
    return (test::source_dir() / "tests/fixtures/golden/manifests" / rel).string();
}

TEST(ValidateCommand, ValidManifest) {
    FakeIo fake;
    std::string path = golden("basic/deployment.amd64.json");
    EXPECT_EQ(run({"validate", path}, fake.io, {}), 0) << fake.err.str();
    EXPECT_EQ(fake.out.str(), path + ": ok\n");
    EXPECT_EQ(fake.err.str(), "");
}

TEST(ValidateCommand, WarningsAreListedButPass) {
    FakeIo fake;
    std::string path = golden("platforms/deployment.arm64v8.json");
    EXPECT_EQ(run({"validate", path}, fake.io, {}), 0) << fake.err.str();
    EXPECT_EQ(fake.out.str(), "warning: $.modulesContent.$edgeAgent.properties.desired.modules.pinned.settings.image: no "
                              "registryCredentials entry for 'registry.local:5000'; the device pulls anonymously\n"
                              "warning: $.modulesContent.$edgeAgent.properties.desired.modules.sensor.settings.image: no "
                              "registryCredentials entry for 'registry.local:5000'; the device pulls anonymously\n"
                              "warning: $.modulesContent.$edgeAgent.properties.desired.modules.uploader.settings.image: no "
                              "registryCredentials entry for 'registry.local:5000'; the device pulls anonymously\n" +
                                  path + ": ok (3 warnings)\n");
}

TEST(ValidateCommand, ErrorsExit3WithJsonPaths) {
    TempDir dir;
    write_text(dir / "m.json", R"({"modulesContent": {"$edgeAgent": {"properties.desired": {"schemaVersion": "1.1",
        "runtime": {"type": "docker", "settings": {}}, "systemModules": {
          "edgeAgent": {"type": "docker", "settings": {"image": "a"}},
          "edgeHub": {"type": "docker", "status": "running", "restartPolicy": "always", "settings": {"image": "h"}}},
        "modules": {"m": {"type": "docker", "status": "running", "restartPolicy": "always",
                          "settings": {"image": "${MODULES.m}"}}}}},
      "$edgeHub": {"properties.desired": {"schemaVersion": "1.2", "routes": {"r": "FROM /messages/modules/x/* INTO $upstream"}}}}})");
    FakeIo fake;
    EXPECT_EQ(run({"validate", (dir / "m.json").string(), "--json"}, fake.io, {}), 3);
    auto j = nlohmann::json::parse(fake.out.str());
    EXPECT_EQ(j["valid"], false);
    EXPECT_EQ(j["errors"], 1);
    EXPECT_EQ(j["warnings"], 1);
    EXPECT_EQ(j["findings"][0]["path"], "$.modulesContent.$edgeAgent.properties.desired.modules.m.settings.image");
    EXPECT_EQ(j["findings"][0]["severity"], "error");
    // edgeHub accepts a route naming a module that is not deployed: a warning
    EXPECT_EQ(j["findings"][1]["path"], "$.modulesContent.$edgeHub.properties.desired.routes.r");
    EXPECT_EQ(j["findings"][1]["severity"], "warning");
    EXPECT_EQ(fake.err.str(), "edgeship: error: " + (dir / "m.json").string() + ": 1 error (findings on stdout)\n");
}

TEST(ValidateCommand, NotJsonNamesThePosition) {
    TempDir dir;
    write_text(dir / "m.json", "{\n  \"modulesContent\": [1,,2]\n}");
    FakeIo fake;
    EXPECT_EQ(run({"validate", (dir / "m.json").string()}, fake.io, {}), 1);
    EXPECT_EQ(fake.err.str().rfind("edgeship: error: " + (dir / "m.json").string() + ":2:24: not valid JSON: ", 0), 0u)
        << fake.err.str();
}

// --json promises JSON on stdout even when the file is not JSON (or cannot be read).
TEST(ValidateCommand, JsonOnNonJsonStillPrintsJson) {
    TempDir dir;
    write_text(dir / "m.json", "{\n  \"modulesContent\": [1,,2]\n}");
    FakeIo fake;
    EXPECT_EQ(run({"validate", (dir / "m.json").string(), "--json"}, fake.io, {}), 1);
    auto j = nlohmann::json::parse(fake.out.str());
    EXPECT_EQ(j["valid"], false);
    EXPECT_EQ(j["errors"], 1);
    EXPECT_EQ(j["findings"][0]["path"], "$");
    EXPECT_EQ(j["findings"][0]["message"].get<std::string>().rfind("not valid JSON at 2:24: ", 0), 0u);
    FakeIo missing;
    EXPECT_EQ(run({"validate", (dir / "absent.json").string(), "--json"}, missing.io, {}), 1);
    EXPECT_EQ(nlohmann::json::parse(missing.out.str())["valid"], false);
}

} // namespace
} // namespace edgeship::cli
