#include "cli/app.hpp"
#include "cli/io.hpp"
#include "cli/solution_commands.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace edgeship::cli {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

fs::path copy_corpus(const TempDir& dir, const std::string& name) {
    fs::copy(test::source_dir() / "tests/fixtures/solutions" / name, dir / name, fs::copy_options::recursive);
    return dir / name;
}

TEST(GenCommand, WritesTheManifestAndPrintsItsPath) {
    TempDir dir;
    auto sol = copy_corpus(dir, "basic");
    FakeIo fake;
    int rc = run({"gen", "--solution", sol.string()}, fake.io, {});
    EXPECT_EQ(rc, 0) << fake.err.str();
    EXPECT_EQ(fake.out.str(), (sol / "config/deployment.amd64.json").string() + "\n");
    EXPECT_EQ(fake.err.str(), "wrote " + (sol / "config/deployment.amd64.json").string() + " (1 image, platform amd64)\n");
    EXPECT_EQ(test::read_text(sol / "config/deployment.amd64.json"),
              test::read_text(test::source_dir() / "tests/fixtures/golden/manifests/basic/deployment.amd64.json"));
}

TEST(GenCommand, JsonListsImagesAndEnvironmentWins) {
    TempDir dir;
    auto sol = copy_corpus(dir, "basic");
    FakeIo fake;
    int rc = run({"gen", "--solution", sol.string(), "--platform", "arm64v8", "--json", "--dry-run"}, fake.io,
                 {{"CONTAINER_TAG", "ci7"}});
    EXPECT_EQ(rc, 0) << fake.err.str();
    EXPECT_EQ(fake.err.str(), "");
    auto j = nlohmann::json::parse(fake.out.str());
    EXPECT_EQ(j["written"], false);
    EXPECT_EQ(j["images"][0]["tag"], "localhost:5000/filtermodule:0.0.1-ci7-arm64v8");
    EXPECT_EQ(j["images"][0]["module"], "filtermodule");
    EXPECT_FALSE(fs::exists(sol / "config"));
}

TEST(GenCommand, StdoutOutputAndUndefinedWarnings) {
    TempDir dir;
    auto sol = copy_corpus(dir, "env_override");
    FakeIo fake;
    int rc = run({"gen", "--solution", sol.string(), "-o", "-"}, fake.io, {{"MODULE_VERSION", "1.0.0"}});
    EXPECT_EQ(rc, 0) << fake.err.str();
    EXPECT_EQ(fake.out.str().rfind("{\n  \"modulesContent\"", 0), 0u);
    EXPECT_EQ(fake.err.str(), "edgeship: warning: " + (sol / "deployment.template.json").string() +
                                  ":21:42: undefined variable $WIN_PATH left as written\n"
                                  "edgeship: warning: " + (sol / "deployment.template.json").string() +
                                  ":22:35: undefined variable $NOT_DEFINED_ANYWHERE left as written\n"
                                  "edgeship: warning: $.modulesContent.$edgeAgent.properties.desired.modules.tempfilter.env."
                                  "UNSET.value: unresolved placeholder in '${NOT_DEFINED_ANYWHERE}'\n");
    EXPECT_FALSE(fs::exists(sol / "config"));
}

TEST(GenCommand, ValidationErrorsExit3AndWriteNothing) {
    TempDir dir;
    auto sol = copy_corpus(dir, "basic");
    FakeIo fake;
    int rc = run({"gen", "--solution", sol.string()}, fake.io, {{"EDGEHUB_SCHEMA_VERSION", "9.9"}});
    EXPECT_EQ(rc, 3);
    EXPECT_EQ(fake.out.str(), "error: $.modulesContent.$edgeHub.properties.desired.schemaVersion: $edgeHub schemaVersion "
                              "'9.9' is not supported: edgeHub accepts 1.0, 1.1, 1.2 and 1.3 and refuses the "
                              "configuration otherwise\n");
    EXPECT_EQ(fake.err.str(), "edgeship: error: gen: " + (sol / "deployment.template.json").string() +
                                  ": the generated manifest has 1 validation error; nothing written\n"
                                  "hint: fix the template or .env, or write it anyway with --no-validate\n");
    EXPECT_FALSE(fs::exists(sol / "config"));
}

// --no-validate: a false rejection never blocks gen (deploy and deployment create have the same flag).
TEST(GenCommand, NoValidateWritesWithoutChecking) {
    TempDir dir;
    auto sol = copy_corpus(dir, "basic");
    FakeIo fake;
    int rc = run({"gen", "--solution", sol.string(), "--no-validate"}, fake.io, {{"EDGEHUB_SCHEMA_VERSION", "9.9"}});
    EXPECT_EQ(rc, 0) << fake.err.str();
    EXPECT_EQ(fake.out.str(), (sol / "config/deployment.amd64.json").string() + "\n");
    auto j = nlohmann::json::parse(test::read_text(sol / "config/deployment.amd64.json"));
    EXPECT_EQ(j["modulesContent"]["$edgeHub"]["properties.desired"]["schemaVersion"], "9.9");
}

TEST(GenCommand, ParseBindsNoValidate) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    GenOptions captured;
    register_gen(app, ctx, [&captured](const GenOptions& o, Context&) -> Result<void> {
        captured = o;
        return {};
    });
    std::vector<std::string> args = {"gen", "--no-validate", "--strict", "--platform", "arm64v8"};
    std::reverse(args.begin(), args.end());
    app.parse(args);
    ASSERT_TRUE(static_cast<bool>(ctx.action));
    EXPECT_TRUE(ctx.action());
    EXPECT_TRUE(captured.no_validate);
    EXPECT_TRUE(captured.strict);
    EXPECT_EQ(captured.platform, "arm64v8");
}

// "no module folder" names the template's file:line:column and the folder searched.
TEST(GenCommand, NoModuleFolderNamesTemplatePositionAndFolder) {
    TempDir dir;
    auto sol = copy_corpus(dir, "basic");
    auto tpl = sol / "deployment.template.json";
    std::string text = test::read_text(tpl);
    auto at = text.find("${MODULES.filtermodule}");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 23, "${MODULES.nothere}");
    test::write_text(tpl, text);
    std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
    std::size_t col = at - text.rfind('\n', at);
    FakeIo fake;
    int rc = run({"gen", "--solution", sol.string()}, fake.io, {});
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(fake.err.str(), "edgeship: error: gen: " + tpl.string() + ":" + std::to_string(line) + ":" +
                                  std::to_string(col) + ": modules.filtermodule.settings.image: ${MODULES.nothere}: "
                                  "no module folder 'nothere' in " + (sol / "modules").string() +
                                  " (folders with a module.json: filtermodule)\n"
                                  "hint: module folders are looked up in <template's folder>/$MODULES_PATH (default "
                                  "'modules'); set MODULES_PATH in .env if yours live elsewhere, e.g. MODULES_PATH=.\n");
}

// The legacy "moduleContent" key is written as "modulesContent" with a warning, as az does.
TEST(GenCommand, LegacyModuleContentIsRenamed) {
    TempDir dir;
    auto sol = copy_corpus(dir, "basic");
    auto tpl = sol / "deployment.template.json";
    std::string text = test::read_text(tpl);
    text.replace(text.find("\"modulesContent\""), 16, "\"moduleContent\"");
    test::write_text(tpl, text);
    FakeIo fake;
    int rc = run({"gen", "--solution", sol.string(), "-o", "-"}, fake.io, {});
    EXPECT_EQ(rc, 0) << fake.err.str();
    auto j = nlohmann::json::parse(fake.out.str());
    EXPECT_TRUE(j.contains("modulesContent"));
    EXPECT_FALSE(j.contains("moduleContent"));
    EXPECT_NE(fake.err.str().find("edgeship: warning: $.moduleContent: 'moduleContent' is the deprecated name of "
                                  "'modulesContent'; written as 'modulesContent'"),
              std::string::npos)
        << fake.err.str();
}

} // namespace
} // namespace edgeship::cli
