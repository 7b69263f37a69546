#include "solution/generate.hpp"

#include "solution/golden.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::solution {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using test::read_text;
using test::TempDir;
using test::write_text;

fs::path corpus(const std::string& name) { return test::source_dir() / "tests/fixtures/solutions" / name; }

// Generates from a corpus solution copied to a temporary directory and checks the output against
// the golden manifest; returns the manifest for case-specific assertions.
ordered_json generate_case(const std::string& name, GenerateOptions opts, const core::Environment& env,
                           const std::string& expected_file) {
    TempDir dir;
    fs::copy(corpus(name), dir / name, fs::copy_options::recursive);
    opts.solution_dir = dir / name;
    if (opts.template_file) {
        opts.template_file = dir / name / *opts.template_file;
    }
    auto g = generate_manifest(opts, env);
    EXPECT_TRUE(g) << (g ? "" : g.error().what());
    if (!g) {
        return {};
    }
    for (const auto& f : g->report.findings) {
        EXPECT_FALSE(f.error) << name << ": " << f.path << ": " << f.message;
    }
    EXPECT_EQ(g->output_path, dir / name / "config" / expected_file);
    EXPECT_TRUE(write_manifest(*g));
    std::string written = read_text(g->output_path);
    EXPECT_EQ(written, g->text);
    test::expect_golden("manifests/" + name + "/" + expected_file, written);
    EXPECT_FALSE(written.empty() || written.back() == '\n'); // like json.dump: no final newline
    return g->manifest;
}

const ordered_json& agent_modules(const ordered_json& m) {
    return m["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"];
}

TEST(Corpus, Basic) {
    auto m = generate_case("basic", {}, {}, "deployment.amd64.json");
    EXPECT_FALSE(m.contains("$schema-template"));
    EXPECT_EQ(agent_modules(m)["filtermodule"]["settings"]["image"], "localhost:5000/filtermodule:0.0.1-amd64");
    EXPECT_EQ(agent_modules(m)["SimulatedTemperatureSensor"]["settings"]["image"],
              "mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.0");
    EXPECT_EQ(m["modulesContent"]["$edgeAgent"]["properties.desired"]["schemaVersion"], "1.1");
    EXPECT_EQ(m["modulesContent"]["$edgeAgent"]["properties.desired"]["systemModules"]["edgeHub"]["settings"]["createOptions"],
              R"({"HostConfig":{"PortBindings":{"5671/tcp":[{"HostPort":"5671"}],"8883/tcp":[{"HostPort":"8883"}],"443/tcp":[{"HostPort":"443"}]}}})");
    EXPECT_EQ(m["modulesContent"]["filtermodule"]["properties.desired"]["TemperatureThreshold"], 25);
}

TEST(Corpus, BasicOtherPlatform) {
    GenerateOptions o;
    o.platform = "arm32v7";
    auto m = generate_case("basic", o, {}, "deployment.arm32v7.json");
    EXPECT_EQ(agent_modules(m)["filtermodule"]["settings"]["image"], "localhost:5000/filtermodule:0.0.1-arm32v7");
}

TEST(Corpus, DebugTemplate) {
    GenerateOptions o;
    o.template_file = "deployment.debug.template.json";
    auto m = generate_case("basic", o, {}, "deployment.debug.amd64.json");
    EXPECT_EQ(agent_modules(m)["filtermodule"]["settings"]["image"], "localhost:5000/filtermodule:0.0.1-amd64.debug");
    EXPECT_EQ(agent_modules(m)["filtermodule"]["settings"]["createOptions"],
              R"({"ExposedPorts":{"5678/tcp":{}},"HostConfig":{"PortBindings":{"5678/tcp":[{"HostPort":"5678"}]}}})");
}

TEST(Corpus, EnvironmentOverridesDotenvAndValuesStayJsonSafe) {
    core::Environment env = {{"CONTAINER_TAG", "ci42"},
                             {"MODULE_VERSION", "1.0.3"},
                             {"GREETING", "say \"hi\"\nand \\leave"},
                             {"WIN_PATH", "C:\\edge\\data"}};
    auto m = generate_case("env_override", {}, env, "deployment.amd64.json");
    const auto& mod = agent_modules(m)["tempfilter"];
    // §2.4: repository lower-cased, CONTAINER_TAG from the environment (not .env)
    EXPECT_EQ(mod["settings"]["image"], "localhost:5000/tempfilter:1.0.3-ci42-amd64");
    EXPECT_EQ(mod["startupOrder"], 2);
    EXPECT_EQ(mod["env"]["GREETING"]["value"], "say \"hi\"\nand \\leave");
    EXPECT_EQ(mod["env"]["WINDOWS_PATH"]["value"], "C:\\edge\\data");
    EXPECT_EQ(mod["env"]["UNSET"]["value"], "${NOT_DEFINED_ANYWHERE}");
    EXPECT_FALSE(mod["settings"].contains("createOptions"));
}

TEST(Corpus, PlatformsDefaultExplicitAndLiteralTags) {
    auto m = generate_case("platforms", {}, {}, "deployment.arm64v8.json");
    EXPECT_EQ(agent_modules(m)["sensor"]["settings"]["image"], "registry.local:5000/sensor:2.0.0-arm64v8");
    EXPECT_EQ(agent_modules(m)["uploader"]["settings"]["image"], "registry.local:5000/uploader:1.0.0-amd64");
    EXPECT_EQ(agent_modules(m)["pinned"]["settings"]["image"], "registry.local:5000/sensor:2.0.0-arm32v7");
    EXPECT_EQ(agent_modules(m)["sensor"]["settings"]["createOptions"], R"({"HostConfig":{"Privileged":true}})");
}

TEST(Corpus, LongCreateOptionsAreChunked) {
    auto m = generate_case("long_create_options", {}, {}, "deployment.amd64.json");
    const auto& s = agent_modules(m)["camera"]["settings"];
    ASSERT_TRUE(s.contains("createOptions02"));
    EXPECT_FALSE(s.contains("createOptions03"));
    EXPECT_EQ(s["createOptions"].get<std::string>().size(), 512u);
    EXPECT_EQ(s["createOptions01"].get<std::string>().size(), 512u);
    std::string joined = s["createOptions"].get<std::string>() + s["createOptions01"].get<std::string>() +
                         s["createOptions02"].get<std::string>();
    auto parsed = ordered_json::parse(joined);
    EXPECT_EQ(parsed["Env"][0], "LABEL_0=Caméra №0 – überwachung");
    EXPECT_EQ(joined.find("é"), std::string::npos); // escaped as \u00e9 like iotedgedev
    EXPECT_NE(joined.find("\\u00e9"), std::string::npos);
}

TEST(Corpus, LayeredTemplate) {
    GenerateOptions o;
    o.template_file = "layered.template.json";
    auto m = generate_case("layered", o, {}, "layered.amd64.json");
    const auto& mc = m["content"]["modulesContent"];
    EXPECT_EQ(mc["$edgeAgent"]["properties.desired.modules.telemetry"]["settings"]["image"],
              "localhost:5000/telemetry:3.1.4-amd64");
    EXPECT_EQ(mc["$edgeAgent"]["properties.desired.modules.telemetry"]["settings"]["createOptions"],
              R"({"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"10m"}}}})");
    EXPECT_EQ(mc["telemetry"]["properties.desired"]["threshold"], 42);
}

TEST(Corpus, SeveralRegistriesAndModuleDir) {
    auto m = generate_case("registries", {}, {}, "deployment.amd64.json");
    EXPECT_EQ(agent_modules(m)["ingest"]["settings"]["image"], "contoso.azurecr.io/ingest:1.0.0-amd64");
    EXPECT_EQ(agent_modules(m)["enricher"]["settings"]["image"], "fabrikam.azurecr.io/enricher:0.9.0-amd64");
    const auto& creds = m["modulesContent"]["$edgeAgent"]["properties.desired"]["runtime"]["settings"]["registryCredentials"];
    EXPECT_EQ(creds["contoso"]["password"], "p@ss\"word\\with$pecial");
    EXPECT_EQ(creds["fabrikam"]["address"], "fabrikam.azurecr.io");
}

TEST(Generate, ImagesListWhatBuildWouldProduce) {
    GenerateOptions o;
    o.solution_dir = corpus("platforms");
    o.output_dir = "/nonexistent-not-written";
    auto g = generate_manifest(o, {});
    ASSERT_TRUE(g) << g.error().what();
    ASSERT_EQ(g->images.size(), 3u);
    EXPECT_EQ(g->images[0].module, "sensor");
    EXPECT_EQ(g->images[0].platform, "arm64v8");
    EXPECT_EQ(g->images[0].dockerfile, (corpus("platforms") / "modules/sensor/./Dockerfile.arm64v8").string());
    EXPECT_EQ(g->images[2].module, "pinned");
    EXPECT_EQ(g->images[2].platform, "arm32v7");
}

TEST(OutputName, FollowsIotedgedevRules) {
    EXPECT_EQ(manifest_file_name("deployment.template.json", "4.0.0", "amd64", ""), "deployment.amd64.json");
    EXPECT_EQ(manifest_file_name("deployment.debug.template.json", "4.0.0", "arm64v8", ""), "deployment.debug.arm64v8.json");
    EXPECT_EQ(manifest_file_name("x.json", "4.0.0", "amd64", ""), "x.amd64.json");
    EXPECT_EQ(manifest_file_name("x.txt", "4.0.0", "amd64", ""), "deployment.amd64.json");
    EXPECT_EQ(manifest_file_name("deployment.template.json", "0.0.1", "amd64", ""), "deployment.json");
    EXPECT_EQ(manifest_file_name("deployment.template.json", "", "amd64", ""), "deployment.json");
    EXPECT_EQ(manifest_file_name("deployment.template.json", "4.0.0", "amd64", "custom.json"), "custom.json");
}

// ---- bad input: clear message, exit 1 or 3, nothing written ------------------------------------------

struct BadCase {
    TempDir dir;
    fs::path root;
    explicit BadCase(const std::string& from = "basic") {
        fs::copy(corpus(from), dir / "s", fs::copy_options::recursive);
        root = dir / "s";
    }
    Result<GeneratedManifest> run(GenerateOptions o = {}, const core::Environment& env = {}) {
        o.solution_dir = root;
        return generate_manifest(o, env);
    }
};

TEST(BadInput, TemplateNotJsonAfterExpansionNamesOriginalPosition) {
    BadCase c;
    std::string t = read_text(c.root / "deployment.template.json");
    t.replace(t.find("\"v1.25\""), 7, "$DOCKER_MIN");
    write_text(c.root / "deployment.template.json", t);
    auto g = c.run({}, {{"DOCKER_MIN", "v1.25"}}); // unquoted: the value is not JSON by itself
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().message().rfind((c.root / "deployment.template.json").string() +
                                            ":10:33: not valid JSON after variable expansion (in the value of ${DOCKER_MIN})",
                                        0),
              0u)
        << g.error().message();
    EXPECT_EQ(g.error().code(), ExitCode::failure);
}

TEST(BadInput, UndefinedVariableWarnsOrFailsWithStrict) {
    BadCase c;
    fs::remove(c.root / ".env");
    auto g = c.run({}, {{"CONTAINER_REGISTRY_SERVER", "localhost:5000"}});
    ASSERT_TRUE(g) << g.error().what();
    ASSERT_FALSE(g->undefined.empty());
    EXPECT_EQ(g->undefined[0].name, "EDGEAGENT_SCHEMA_VERSION");
    EXPECT_EQ(g->undefined[0].location, (c.root / "deployment.template.json").string() + ":6:27");
    GenerateOptions strict;
    strict.strict = Strict::yes;
    auto s = c.run(strict, {{"CONTAINER_REGISTRY_SERVER", "localhost:5000"}});
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message().rfind("undefined variables (--strict): " + (c.root / "deployment.template.json").string() +
                                            ":6:27 $EDGEAGENT_SCHEMA_VERSION, ",
                                        0),
              0u)
        << s.error().message();
}

TEST(BadInput, ModulesPlaceholderWithoutFolder) {
    BadCase c;
    std::string t = read_text(c.root / "deployment.template.json");
    t.replace(t.find("${MODULES.filtermodule}"), 23, "${MODULES.nosuch.amd64}");
    write_text(c.root / "deployment.template.json", t);
    auto g = c.run();
    ASSERT_FALSE(g);
    // the template's file:line:column of the placeholder, and the folder searched
    EXPECT_EQ(g.error().message(), (c.root / "deployment.template.json").string() +
                                       ":58:25: modules.filtermodule.settings.image: ${MODULES.nosuch.amd64}: no module "
                                       "folder 'nosuch' in " + (c.root / "modules").string() +
                                       " (folders with a module.json: filtermodule)");
    EXPECT_NE(g.error().hint_text().find("MODULES_PATH"), std::string::npos);
}

// A template written on Windows: ${MODULEDIR<.\\m>} works on Linux too (iotedgedev fails there).
TEST(BadInput, ModuleDirWithBackslashes) {
    BadCase c;
    std::string t = read_text(c.root / "deployment.template.json");
    t.replace(t.find("${MODULES.filtermodule}"), 23, "${MODULEDIR<.\\\\modules\\\\filtermodule>}");
    write_text(c.root / "deployment.template.json", t);
    auto g = c.run();
    ASSERT_TRUE(g) << g.error().message();
    ASSERT_EQ(g->images.size(), 1u);
    EXPECT_EQ(g->images[0].folder, "filtermodule");
}

// Validate::no skips the check: the report is empty even for a manifest validate would refuse.
TEST(BadInput, NoValidateSkipsTheCheck) {
    BadCase c;
    std::string t = read_text(c.root / "deployment.template.json");
    t.replace(t.find("${MODULES.filtermodule}"), 23, "${UNDEFINED_IMAGE}");
    write_text(c.root / "deployment.template.json", t);
    auto g = c.run();
    ASSERT_TRUE(g) << g.error().message();
    EXPECT_FALSE(g->report.ok());
    GenerateOptions o;
    o.validate = Validate::no;
    g = c.run(o);
    ASSERT_TRUE(g) << g.error().message();
    EXPECT_TRUE(g->report.findings.empty());
}

TEST(BadInput, ModuleJsonWithoutRepository) {
    BadCase c;
    write_text(c.root / "modules/filtermodule/module.json", R"({"image": {"tag": {"platforms": {"amd64": "./D"}}}})");
    auto g = c.run();
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().message(),
              (c.root / "modules/filtermodule/module.json").string() + ": image.repository is missing or empty");
}

TEST(BadInput, PlatformMissingFromModuleJson) {
    BadCase c;
    GenerateOptions o;
    o.platform = "windows-amd64";
    auto g = c.run(o);
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().message(),
              (c.root / "modules/filtermodule/module.json").string() +
                  ": platform 'windows-amd64' missing from image.tag.platforms (has amd64, amd64.debug, arm32v7, "
                  "arm64v8); needed by " +
                  (c.root / "deployment.template.json").string() + ":58:25: modules.filtermodule.settings.image");
    EXPECT_FALSE(fs::exists(c.root / "config"));
}

TEST(BadInput, OversizeManifestFailsValidation) {
    BadCase c;
    auto t = ordered_json::parse(read_text(c.root / "deployment.template.json"));
    auto& mods = t["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"];
    for (int i = 0; i < 40; ++i) {
        ordered_json env = ordered_json::object();
        for (int k = 0; k < 8; ++k) {
            env["SETTING_" + std::to_string(k)] = {{"value", std::string(100, 'v')}};
        }
        mods["extra" + std::to_string(i)] = {{"version", "1.0"}, {"type", "docker"}, {"status", "running"},
                                             {"restartPolicy", "always"},
                                             {"settings", {{"image", "mcr.microsoft.com/x:" + std::to_string(i)}}},
                                             {"env", env}};
    }
    write_text(c.root / "deployment.template.json", t.dump(2));
    auto g = c.run();
    ASSERT_TRUE(g) << g.error().what();
    ASSERT_FALSE(g->report.ok());
    bool found = false;
    for (const auto& f : g->report.findings) {
        if (f.error && f.path == "$.modulesContent.$edgeAgent" && f.message.find("IoT Hub allows 32768") != std::string::npos) {
            found = true;
        }
    }
    EXPECT_TRUE(found);
}

TEST(BadInput, TooLargeCreateOptions) {
    BadCase c;
    std::string t = read_text(c.root / "deployment.template.json");
    t.replace(t.find("\"createOptions\": {}\n            }\n          }\n        }"), 19,
              "\"createOptions\": \"" + std::string(4097, 'a') + "\"");
    write_text(c.root / "deployment.template.json", t);
    auto g = c.run();
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().code(), ExitCode::validation);
    EXPECT_EQ(g.error().message().rfind("Size of createOptions of filtermodule is too big", 0), 0u) << g.error().message();
}

} // namespace
} // namespace edgeship::solution

namespace edgeship::solution {
namespace {

TEST(DefaultManifestPath, FollowsTheSolutionsSettingsAsGenWritesThem) {
    test::TempDir dir;
    const auto root = dir.path();
    // No solution yet: config/deployment.<DEFAULT_PLATFORM or amd64>.json
    EXPECT_EQ(default_manifest_path(root, {}).value(), root / "config" / "deployment.amd64.json");
    EXPECT_EQ(default_manifest_path(root, {{"DEFAULT_PLATFORM", "arm64v8"}}).value(),
              root / "config" / "deployment.arm64v8.json");
    // The .env's CONFIG_OUTPUT_DIR and DEFAULT_PLATFORM, the process environment over it, a platform asked for
    test::write_text(root / ".env", "CONFIG_OUTPUT_DIR=out\nDEFAULT_PLATFORM=arm64v8\n");
    EXPECT_EQ(default_manifest_path(root, {}).value(), root / "out" / "deployment.arm64v8.json");
    EXPECT_EQ(default_manifest_path(root, {{"DEFAULT_PLATFORM", "amd64"}}).value(), root / "out" / "deployment.amd64.json");
    EXPECT_EQ(default_manifest_path(root, {}, std::string("amd64.debug")).value(),
              root / "out" / "deployment.amd64.debug.json");
    // Another template name; a 0.0.1 schema-template has no platform in the name (iotedgedev's rule)
    test::write_text(root / ".env", "DEPLOYMENT_CONFIG_TEMPLATE_FILE=layered.template.json\n");
    test::write_text(root / "layered.template.json", R"({"$schema-template": "0.0.1", "modulesContent": {}})");
    EXPECT_EQ(default_manifest_path(root, {}).value(), root / "config" / "layered.json");
    // DEPLOYMENT_CONFIG_FILE names the file outright
    EXPECT_EQ(default_manifest_path(root, {{"DEPLOYMENT_CONFIG_FILE", "fleet.json"}}).value(),
              root / "config" / "fleet.json");
    // a .env that does not parse is an error naming it
    test::write_text(root / ".env", "not a setting\n");
    auto bad = default_manifest_path(root, {});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().what().find(".env"), std::string::npos);
}

} // namespace
} // namespace edgeship::solution
