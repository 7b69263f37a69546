// The dependencies layer (imagebuild/deps_layer.hpp) with the stand-in tools of tests/tools/fake-deps:
// what npm/pip are asked for each platform, the cache (hit, and a miss for every input that changes the
// layer), pruning other platforms' binaries, the one-line errors; and what a base's file lists tell
// (imagebuild/base_facts.hpp). The real npm and pip run in tests/container.
#include "imagebuild/base_facts.hpp"
#include "imagebuild/deps_layer.hpp"

#include "imagebuild/fixture.hpp"

#include <gtest/gtest.h>

namespace edgeship::imagebuild {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

class DepsLayerTest : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(dir / "module");
        test::write_text(dir / "module/package.json", "{\"name\": \"m\", \"dependencies\": {\"x\": \"1.0.0\"}}\n");
        test::write_text(dir / "module/package-lock.json", "{\"lockfileVersion\": 3}\n");
        test::write_text(dir / "module/requirements.txt", "numpy==1.26.4\n");
        npm.tool = "npm";
        npm.files = {"package.json", "package-lock.json"};
        npm.to = "/app/node_modules";
        npm.platform_dirs = {"fake/bin/napi-v*"};
        pip.tool = "pip";
        pip.files = {"requirements.txt"};
        pip.to = "/app/site-packages";
        pip.pip_platform = "manylinux_2_36_{arch}";
    }
    DepsLayerRequest request(const DepsRecipe& recipe, const std::string& platform, const std::string& fail_with = "") {
        DepsLayerRequest r;
        r.recipe = &recipe;
        r.runtime = recipe.tool == "npm" ? "node-onnxruntime" : "python-onnxruntime";
        r.context = dir / "module";
        r.platform = oci::Platform::parse(platform).value();
        r.python_version = "3.11";
        r.environment = test::fake_tools_env(dir / "tools", fail_with);
        r.tools = {r.environment.at("EDGESHIP_NPM"), r.environment.at("EDGESHIP_PIP")};
        r.layer.blob.cancel = nullptr;
        r.layer.blob.sync = false;
        r.cache_dir = dir / "cache";
        r.blobs_dir = dir / "blobs";
        r.scratch_parent = dir / "scratch";
        r.cancel = nullptr;
        return r;
    }
    std::size_t calls() const { return test::fake_tool_calls(dir / "tools").size(); }
    TempDir dir;
    DepsRecipe npm;
    DepsRecipe pip;
};

TEST_F(DepsLayerTest, NpmCiForTheTargetPlatformKeepsOnlyItsBinaries) {
    auto built = build_deps_layer(request(npm, "arm64"));
    ASSERT_TRUE(built) << built.error().what();
    EXPECT_FALSE(built->from_cache);
    EXPECT_EQ(built->tool_version, "npm 10.0.0-fake");
    const auto log = test::fake_tool_calls(dir / "tools");
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0], "npm ci --omit=dev --ignore-scripts --no-audit --no-fund --os=linux --cpu=arm64 --loglevel=error");
    auto paths = test::member_paths(test::read_tar(built->blob.path));
    auto has = [&](const std::string& p) { return std::find(paths.begin(), paths.end(), p) != paths.end(); };
    EXPECT_TRUE(has("app/node_modules/fake/lock.sha256"));
    EXPECT_TRUE(has("app/node_modules/fake/bin/napi-v6/linux/arm64/"));
    EXPECT_FALSE(has("app/node_modules/fake/bin/napi-v6/linux/x64/"));
    EXPECT_FALSE(has("app/node_modules/fake/bin/napi-v6/darwin/"));
    // the installed tree is handed to the caller (build_images removes it on a thread); nothing else is left
    ASSERT_TRUE(built->scratch.has_value());
    EXPECT_TRUE(fs::exists(built->scratch->path() / "node_modules"));
    built->scratch.reset();
    EXPECT_TRUE(fs::is_empty(dir / "scratch"));
}

TEST_F(DepsLayerTest, CachedUntilAnInputOfTheLayerChanges) {
    auto first = build_deps_layer(request(npm, "amd64"));
    ASSERT_TRUE(first) << first.error().what();
    auto again = build_deps_layer(request(npm, "amd64"));
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_TRUE(again->from_cache);
    EXPECT_EQ(again->blob.digest, first->blob.digest);
    EXPECT_EQ(calls(), 1u);
    // another platform, another epoch, another lockfile, another npm configuration: rebuilt
    auto arm = build_deps_layer(request(npm, "arm64"));
    ASSERT_TRUE(arm);
    EXPECT_FALSE(arm->from_cache);
    EXPECT_NE(arm->blob.digest, first->blob.digest);
    auto r = request(npm, "amd64");
    r.layer.source_date_epoch = 1700000000;
    EXPECT_FALSE(build_deps_layer(r)->from_cache);
    r = request(npm, "amd64");
    r.environment["npm_config_registry"] = "https://mirror.example/";
    EXPECT_FALSE(build_deps_layer(r)->from_cache);
    test::write_text(dir / "module/package-lock.json", "{\"lockfileVersion\": 3, \"packages\": {}}\n");
    auto relocked = build_deps_layer(request(npm, "amd64"));
    ASSERT_TRUE(relocked);
    EXPECT_FALSE(relocked->from_cache);
    EXPECT_EQ(calls(), 5u);
    // a cached blob that went missing is rebuilt, not trusted
    fs::remove(relocked->blob.path);
    auto rebuilt = build_deps_layer(request(npm, "amd64"));
    ASSERT_TRUE(rebuilt);
    EXPECT_FALSE(rebuilt->from_cache);
    EXPECT_EQ(rebuilt->blob.digest, relocked->blob.digest); // reproducible
}

TEST_F(DepsLayerTest, PipAsksForWheelsOfTheBasesPythonAndPlatform) {
    auto built = build_deps_layer(request(pip, "arm64"));
    ASSERT_TRUE(built) << built.error().what();
    const auto log = test::fake_tool_calls(dir / "tools");
    ASSERT_EQ(log.size(), 1u);
    EXPECT_NE(log[0].find("--platform manylinux_2_36_aarch64 --platform manylinux_2_35_aarch64 "), std::string::npos) << log[0];
    EXPECT_NE(log[0].find("--platform manylinux_2_17_aarch64 --platform manylinux2014_aarch64 --python-version 3.11 "
                          "--implementation cp --only-binary=:all: --no-compile"),
              std::string::npos)
        << log[0];
    auto paths = test::member_paths(test::read_tar(built->blob.path));
    EXPECT_NE(std::find(paths.begin(), paths.end(), "app/site-packages/fakepkg/req.sha256"), paths.end());
    auto r = request(pip, "amd64");
    r.python_version.clear();
    auto unknown = build_deps_layer(r);
    ASSERT_FALSE(unknown);
    EXPECT_NE(std::string(unknown.error().what()).find("the base image's Python version is unknown"), std::string::npos);
}

TEST_F(DepsLayerTest, ErrorsAreOneLineNamingToolPlatformAndPackage) {
    fs::remove(dir / "module/package-lock.json");
    auto no_lock = build_deps_layer(request(npm, "amd64"));
    ASSERT_FALSE(no_lock);
    EXPECT_EQ(std::string(no_lock.error().what()),
              "dependencies layer (node-onnxruntime, linux/amd64): " + (dir / "module/package-lock.json").string() + ": missing");
    EXPECT_NE(no_lock.error().hint_text().find("npm install --package-lock-only"), std::string::npos);
    test::write_text(dir / "module/package-lock.json", "{}\n");
    auto failed = build_deps_layer(request(npm, "amd64", "npm error code ETARGET\nnpm error notarget No matching version found for x@9.9.9."));
    ASSERT_FALSE(failed);
    EXPECT_EQ(std::string(failed.error().what()),
              "dependencies layer (node-onnxruntime, linux/amd64): npm ci: notarget No matching version found for x@9.9.9.");
    EXPECT_TRUE(fs::is_empty(dir / "scratch"));
    auto r = request(npm, "amd64");
    r.tools.npm = (dir / "nowhere/npm").string();
    auto missing = build_deps_layer(r);
    ASSERT_FALSE(missing);
    EXPECT_NE(std::string(missing.error().what()).find("npm not found"), std::string::npos);
}

TEST(PipPlatformTags, EveryManylinuxTagTheGlibcRunsNewestFirst) {
    auto x86 = pip_platform_tags("manylinux_2_36_{arch}", "x86_64");
    ASSERT_EQ(x86.size(), 23u); // 2_36 … 2_17, 2014, 2010, 1
    EXPECT_EQ(x86.front(), "manylinux_2_36_x86_64");
    EXPECT_EQ(x86[19], "manylinux_2_17_x86_64");
    EXPECT_EQ(x86.back(), "manylinux1_x86_64");
    auto arm = pip_platform_tags("manylinux_2_28_{arch}", "aarch64");
    EXPECT_EQ(arm.back(), "manylinux2014_aarch64");
    EXPECT_EQ(arm.size(), 13u);
    EXPECT_EQ(pip_platform_tags("musllinux_1_2_{arch}", "aarch64"), std::vector<std::string>{"musllinux_1_2_aarch64"});
}

TEST(ToolFailure, NpmErrorCodesGetTheirHints) {
    auto usage = explain_npm_failure("npm error code EUSAGE\nnpm error\nnpm error `npm ci` can only install packages when your "
                                     "package.json and package-lock.json or npm-shrinkwrap.json are in sync.\nnpm error A "
                                     "complete log of this run can be found in: /x.log\n",
                                     "linux/amd64", "modules/m");
    EXPECT_EQ(usage.message.rfind("`npm ci` can only install packages", 0), 0u) << usage.message;
    EXPECT_NE(usage.hint.find("npm install --package-lock-only --ignore-scripts' in modules/m"), std::string::npos);
    auto offline = explain_npm_failure("npm ERR! code ENOTFOUND\nnpm ERR! request to https://registry.npmjs.org/x failed, "
                                       "reason: getaddrinfo ENOTFOUND registry.npmjs.org\n",
                                       "linux/amd64", "m");
    EXPECT_NE(offline.hint.find("npm registry is unreachable"), std::string::npos);
    auto platform = explain_npm_failure("npm error code EBADPLATFORM\nnpm error notsup Unsupported platform for x@1.0.0: "
                                        "wanted {\"cpu\":\"x64\"} (current: {\"cpu\":\"arm64\"})\n",
                                        "linux/arm64/v8", "m");
    EXPECT_NE(platform.message.find("Unsupported platform for x@1.0.0"), std::string::npos);
    EXPECT_NE(platform.hint.find("no build for linux/arm64/v8"), std::string::npos);
}

TEST(ToolFailure, PipNamesThePackageWithoutAWheel) {
    auto f = explain_pip_failure("ERROR: Could not find a version that satisfies the requirement onnxruntime==1.20.1 (from "
                                 "versions: none)\nERROR: No matching distribution found for onnxruntime==1.20.1\n",
                                 "linux/arm64/v8", "3.11");
    EXPECT_EQ(f.message, "no wheel of onnxruntime==1.20.1 for CPython 3.11 on linux/arm64/v8");
    EXPECT_NE(f.hint.find("publishes no wheel"), std::string::npos);
    auto offline = explain_pip_failure("WARNING: Retrying (Retry(total=4)) after connection broken by "
                                       "'NewConnectionError(...)': /simple/numpy/\nERROR: No matching distribution found for numpy\n",
                                       "linux/amd64", "3.11");
    EXPECT_NE(offline.hint.find("unreachable"), std::string::npos);
}

TEST(BaseFacts, ConfigAnswersElseTheLayersFileLists) {
    TempDir dir;
    RuntimeProbe probe;
    probe.version_env = "PYTHON_VERSION";
    probe.files = {"usr/bin/python3"};
    probe.version_dir_regex = "^usr/(?:local/)?lib/python(3\\.[0-9]+)/";
    oci::LayerOptions lo;
    lo.blob.cancel = nullptr;
    lo.blob.sync = false;
    fs::create_directories(dir / "b");
    auto l1 = oci::build_layer({oci::LayerEntry::bytes("usr/lib/python3.9/os.py", ""),
                                oci::LayerEntry::bytes("etc/passwd", "root:x:0:0::/root:/bin/sh\n")},
                               dir / "b", lo)
                  .value();
    auto l2 = oci::build_layer({oci::LayerEntry::bytes("usr/bin/python3", ""), oci::LayerEntry::bytes("usr/lib/python3.11/os.py", ""),
                                oci::LayerEntry::bytes("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n")},
                               dir / "b", lo)
                  .value();
    oci::ImageConfig cfg;
    cfg.append_layer(l1.diff_id, {"", "a", "", "", false});
    cfg.append_layer(l2.diff_id, {"", "b", "", "", false});
    auto image = oci::assemble_image(cfg,
                                     {oci::ImageLayer::from_blob(l1, oci::ManifestFormat::oci),
                                      oci::ImageLayer::from_blob(l2, oci::ManifestFormat::oci)},
                                     oci::ManifestFormat::oci)
                     .value();
    EXPECT_FALSE(facts_from_config(image.parsed_config, probe).has_runtime);
    auto f = scan_base_layers(image, probe, nullptr);
    ASSERT_TRUE(f) << f.error().what();
    EXPECT_TRUE(f->has_runtime);
    EXPECT_EQ(f->language_version, "3.11"); // the newer of 3.9 and 3.11, as numbers
    EXPECT_EQ(f->users, (std::set<std::string>{"root", "app"})); // the top-most /etc/passwd
    EXPECT_TRUE(user_resolvable("app", *f));
    EXPECT_TRUE(user_resolvable("10001:10001", *f));
    EXPECT_FALSE(user_resolvable("node", *f));
    cfg.config.set_env("PYTHON_VERSION", "3.12.1");
    auto from_env = facts_from_config(cfg, probe);
    EXPECT_TRUE(from_env.has_runtime);
    EXPECT_EQ(from_env.language_version, "3.12");
}

} // namespace
} // namespace edgeship::imagebuild
