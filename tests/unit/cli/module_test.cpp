#include "cli/app.hpp"
#include "cli/io.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace edgeship::cli {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

TEST(ModuleAddCommand, AddsAModuleAndListsWhatChanged) {
    TempDir dir;
    FakeIo init;
    std::string sol = (dir / "s").string();
    ASSERT_EQ(run({"init", sol, "-q"}, init.io, {}), 0) << init.err.str();
    FakeIo fake;
    int rc = run({"module", "add", "second", "--solution", sol, "--runtime", "node-onnxruntime", "--json"}, fake.io, {});
    EXPECT_EQ(rc, 0) << fake.err.str();
    auto j = nlohmann::json::parse(fake.out.str());
    EXPECT_EQ(j["module"], "second");
    EXPECT_EQ(j["files"][0]["path"], sol + "/deployment.debug.template.json");
    EXPECT_EQ(j["files"][0]["action"], "update");
    EXPECT_TRUE(fs::is_regular_file(dir / "s/modules/second/app/server.js"));
    EXPECT_NE(test::read_text(dir / "s/deployment.template.json").find("\"secondToIoTHub\""), std::string::npos);
}

TEST(ModuleAddCommand, ErrorsAreOneLine) {
    TempDir dir;
    FakeIo fake;
    int rc = run({"module", "add", "x", "--solution", dir.path().string()}, fake.io, {});
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(fake.err.str(), "edgeship: error: module add x: " + (dir / "deployment.template.json").string() +
                                  ": not found; is " + dir.path().string() +
                                  " a solution?\nhint: create one with 'edgeship init DIR', or pass --solution DIR\n");
    FakeIo bad;
    EXPECT_EQ(run({"module", "add", "bad-name", "--solution", dir.path().string()}, bad.io, {}), 2);
    FakeIo missing;
    EXPECT_EQ(run({"module"}, missing.io, {}), 2);
}

} // namespace
} // namespace edgeship::cli
