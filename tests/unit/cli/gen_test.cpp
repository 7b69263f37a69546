#include "cli/app.hpp"
#include "cli/io.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
                              "'9.9' is not supported (use 1.0, 1.1 or 1.2)\n");
    EXPECT_EQ(fake.err.str(), "edgeship: error: gen: " + (sol / "deployment.template.json").string() +
                                  ": the generated manifest has 1 validation error; nothing written\n");
    EXPECT_FALSE(fs::exists(sol / "config"));
}

} // namespace
} // namespace edgeship::cli
