#include "solution/layout.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::solution {
namespace {

using test::TempDir;
using test::write_text;
namespace fs = std::filesystem;

void write_module(const TempDir& dir, const std::string& folder, const std::string& json) {
    fs::create_directories(dir / ("modules/" + folder));
    write_text(dir / ("modules/" + folder + "/module.json"), json);
}

TEST(ModuleName, FollowsIotedgedevRule) {
    EXPECT_TRUE(check_module_name("score_2"));
    for (const char* bad : {"", "_x", "x_", "a-b", "a.b", "a b", "é"}) {
        auto r = check_module_name(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code(), ExitCode::usage);
    }
}

TEST(Env, EnvironmentWinsAndBlankCountsAsUnset) {
    TempDir dir;
    write_text(dir / ".env", "CONTAINER_TAG=\"dotenv\"\nDEFAULT_PLATFORM=\"  \"\nX=1\n");
    auto env = load_env(dir.path(), {{"CONTAINER_TAG", "ci42"}});
    ASSERT_TRUE(env) << env.error().what();
    EXPECT_TRUE(env->env_file_found);
    EXPECT_EQ(env->get("CONTAINER_TAG"), "ci42");
    EXPECT_EQ(env->get("DEFAULT_PLATFORM", "amd64"), "amd64");
    EXPECT_EQ(env->get("X"), "1");
}

TEST(Env, DotenvFileFromEnvironmentAndExplicitMissingFile) {
    TempDir dir;
    write_text(dir / "ci.env", "X=ci\n");
    auto env = load_env(dir.path(), {{"DOTENV_FILE", "\"ci.env\""}});
    ASSERT_TRUE(env);
    EXPECT_EQ(env->get("X"), "ci");
    auto none = load_env(dir.path(), {});
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->env_file_found);
    EXPECT_FALSE(load_env(dir.path(), {}, dir / "missing.env"));
}

TEST(Module, ReadsExpandedModuleJson) {
    TempDir dir;
    write_module(dir, "Filter", R"({"image": {"repository": "${REG}/FilterModule",
        "tag": {"version": "1.2.${PATCH}", "platforms": {"amd64": "./Dockerfile.amd64", "arm64v8": "./Dockerfile.arm64v8"}}},
        "language": "python"})");
    auto m = load_module(dir / "modules/Filter", {{"REG", "MyReg.azurecr.io"}, {"PATCH", "7"}});
    ASSERT_TRUE(m) << m.error().what();
    EXPECT_EQ(m->folder, "Filter");
    EXPECT_EQ(m->repository, "MyReg.azurecr.io/FilterModule");
    EXPECT_EQ(m->version, "1.2.7");
    ASSERT_EQ(m->platforms.size(), 2u);
    EXPECT_EQ(m->platforms[1].first, "arm64v8");
    // docs/design/iothub.md §2.4: only the repository is lower-cased
    EXPECT_EQ(image_tag(*m, "amd64", ""), "myreg.azurecr.io/filtermodule:1.2.7-amd64");
    EXPECT_EQ(image_tag(*m, "amd64", "CI42"), "myreg.azurecr.io/filtermodule:1.2.7-CI42-amd64");
    EXPECT_EQ(image_tag(*m, "amd64.debug", ""), "myreg.azurecr.io/filtermodule:1.2.7-amd64.debug");
}

TEST(Module, DefaultsVersionAndReportsErrorsNamingTheFile) {
    TempDir dir;
    write_module(dir, "a", R"({"image": {"tag": {"platforms": {"amd64": "./D"}}}})");
    auto r = load_module(dir / "modules/a", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), (dir / "modules/a/module.json").string() + ": image.repository is missing or empty");
    write_module(dir, "b", R"({"image": {"repository": "r/b"}})");
    r = load_module(dir / "modules/b", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), (dir / "modules/b/module.json").string() + ": image.tag.platforms is missing or empty");
    write_module(dir, "c", "{\n  \"image\": {,}\n}");
    r = load_module(dir / "modules/c", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message().rfind((dir / "modules/c/module.json").string() + ":2:13: not valid JSON", 0), 0u)
        << r.error().message();
    write_module(dir, "d", R"({"image": {"repository": "r/d", "tag": {"platforms": {"amd64": "./D"}}}})");
    auto d = load_module(dir / "modules/d", {});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->version, "0.0.0");
}

TEST(Modules, SortedAndSkipsFoldersWithoutModuleJson) {
    TempDir dir;
    write_module(dir, "zeta", R"({"image": {"repository": "r/z", "tag": {"platforms": {"amd64": "./D"}}}})");
    write_module(dir, "alpha", R"({"image": {"repository": "r/a", "tag": {"platforms": {"amd64": "./D"}}}})");
    fs::create_directories(dir / "modules/notamodule");
    auto ms = load_modules(dir / "modules", {});
    ASSERT_TRUE(ms);
    ASSERT_EQ(ms->size(), 2u);
    EXPECT_EQ((*ms)[0].folder, "alpha");
    EXPECT_EQ((*ms)[1].folder, "zeta");
    auto none = load_modules(dir / "nothing", {});
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST(Tag, RegistryTagGrammar) {
    EXPECT_TRUE(valid_tag_part("localhost:5000/filtermodule:0.0.1-amd64"));
    EXPECT_TRUE(valid_tag_part("r/m:0.0.1-amd64.debug"));
    EXPECT_FALSE(valid_tag_part("r/m:-bad"));
    EXPECT_FALSE(valid_tag_part("r/m:has space"));
    EXPECT_FALSE(valid_tag_part("localhost:5000/m"));
    EXPECT_FALSE(valid_tag_part("r/m:" + std::string(129, 'a')));
}

} // namespace
} // namespace edgeship::solution
