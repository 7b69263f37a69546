#include "cli/app.hpp"
#include "cli/build_commands.hpp"
#include "cli/io.hpp"
#include "core/sha256.hpp"
#include "imagebuild/fixture.hpp"
#include "oci/docker_archive.hpp"
#include "oci/layout.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace edgeship::cli {
namespace {

namespace fs = std::filesystem;
using test::run_cli;
using test::TempDir;

// Parse only: a hook captures the options, nothing runs.
BuildOptions parse_build(const std::vector<std::string>& args) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    BuildOptions captured;
    register_build(app, ctx, [&](const BuildOptions& o, Context&) -> Result<void> {
        captured = o;
        return {};
    });
    std::vector<std::string> argv = {"build"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> rev(argv.rbegin(), argv.rend());
    app.parse(rev);
    EXPECT_TRUE(ctx.action);
    EXPECT_TRUE(ctx.action());
    return captured;
}

TEST(BuildCommand, ParsesFlags) {
    auto o = parse_build({"scoring", "other", "--solution", "pm", "--platform", "amd64", "--platform", "arm64v8", "--base",
                          "oci:base:3.11", "--model", "m.onnx", "--oci-layout", "out", "--format", "docker", "--json"});
    EXPECT_EQ(o.modules, (std::vector<std::string>{"scoring", "other"}));
    EXPECT_EQ(o.solution, "pm");
    EXPECT_EQ(o.platforms, (std::vector<std::string>{"amd64", "arm64v8"}));
    EXPECT_EQ(o.base, "oci:base:3.11");
    EXPECT_EQ(o.model, "m.onnx");
    EXPECT_EQ(o.oci_layout, "out");
    EXPECT_EQ(o.format, "docker");
    EXPECT_TRUE(o.json);
    EXPECT_FALSE(o.push);
    auto p = parse_build({"--push", "--plain-http"});
    EXPECT_TRUE(p.push);
    EXPECT_TRUE(p.registry.plain_http);
    EXPECT_EQ(p.solution, ".");
    EXPECT_EQ(p.format, "oci");
}

class BuildRun : public ::testing::Test {
protected:
    void SetUp() override {
        sol = test::make_solution(dir / "pm", {"amd64", "arm64v8"});
        test::make_base_layout(dir / "base", {"amd64", "arm64"});
        base = "oci:" + (dir / "base").string() + ":3.11";
        tools.fake_tools = dir / "tools";
    }
    TempDir dir;
    fs::path sol;
    std::string base;
    test::CliOptions tools; ///< npm/pip stand-ins; the test's own environment values win
};

TEST_F(BuildRun, WritesImagesAndIndexIntoAnOciLayout) {
    const auto out = dir / "out";
    auto r =
        run_cli({"build", "--solution", sol.string(), "--base", base, "--oci-layout", out.string()}, {}, tools);
    ASSERT_EQ(r.code, 0) << r.err;
    auto layout = oci::OciLayout::open(out).value();
    EXPECT_EQ(layout.tags(), (std::vector<std::string>{"0.0.1-amd64", "0.0.1-arm64v8", "0.0.1"}));
    auto amd = layout.load_image("0.0.1-amd64").value();
    oci::LoadOptions lo;
    lo.platform = oci::Platform::parse("arm64v8").value();
    lo.verify_diff_ids = true;
    auto arm = layout.load_image("0.0.1", lo).value();
    EXPECT_EQ(arm.parsed_config.architecture, "arm64");
    EXPECT_EQ(r.out, "localhost:5000/scoring:0.0.1-amd64@" + amd.manifest.descriptor.digest.str() + "\n" +
                         "localhost:5000/scoring:0.0.1-arm64v8@" + arm.manifest.descriptor.digest.str() + "\n" +
                         "localhost:5000/scoring:0.0.1@" + layout.find("0.0.1")->digest.str() + "\n");
    EXPECT_NE(r.err.find("scoring: model layer sha256:"), std::string::npos);
    EXPECT_NE(r.err.find("built 2 images and 1 index into " + out.string() + "\n"), std::string::npos);
    // no staging directory left behind
    for (const auto& e : fs::directory_iterator(dir.path())) {
        EXPECT_EQ(e.path().filename().string().rfind(".edgeship-build-", 0), std::string::npos) << e.path();
    }
}

TEST_F(BuildRun, JsonContainerTagAndSourceDateEpoch) {
    auto r = run_cli({"build", "scoring", "--solution", sol.string(), "--platform", "arm64v8", "--base", base,
                      "--oci-layout", (dir / "out").string(), "--json", "-q"},
                     {{"CONTAINER_TAG", "ci7"}, {"SOURCE_DATE_EPOCH", "1700000000"}}, tools);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["images"].size(), 1u);
    const auto& i = j["images"][0];
    EXPECT_EQ(i["reference"], "localhost:5000/scoring:0.0.1-ci7-arm64v8");
    EXPECT_EQ(i["platform"], "arm64v8");
    EXPECT_EQ(i["module"], "scoring");
    ASSERT_EQ(i["layers"].size(), 5u);
    EXPECT_EQ(i["layers"][2]["role"], "deps");
    EXPECT_EQ(i["layers"][3]["role"], "model");
    EXPECT_EQ(i["layers"][4]["role"], "app");
    EXPECT_EQ(i["model"]["file"], "model.onnx");
    EXPECT_EQ(i["model"]["sha256"], core::sha256_file(test::example_model()).value());
    EXPECT_EQ(j["indexes"].size(), 0u);
    auto img = oci::OciLayout::open(dir / "out").value().load_image("0.0.1-ci7-arm64v8").value();
    EXPECT_EQ(img.parsed_config.created, "2023-11-14T22:13:20Z");
    EXPECT_EQ(img.parsed_config.config.labels.at("org.opencontainers.image.version"), "0.0.1-ci7");
    EXPECT_EQ(i["digest"], img.manifest.descriptor.digest.str());
}

TEST_F(BuildRun, SourceDateEpochFromTheSolutionEnvFileAsShipReadsIt) {
    // One solution, one digest: build reads SOURCE_DATE_EPOCH from the solution's .env as ship does, and
    // the process environment wins over the file.
    {
        std::ofstream env(sol / ".env", std::ios::app);
        env << "\nSOURCE_DATE_EPOCH=1700000000\n";
    }
    auto from_file = run_cli({"build", "scoring", "--solution", sol.string(), "--platform", "amd64", "--base", base,
                              "--oci-layout", (dir / "from-file").string(), "-q"},
                             {}, tools);
    ASSERT_EQ(from_file.code, 0) << from_file.err;
    auto img = oci::OciLayout::open(dir / "from-file").value().load_image("0.0.1-amd64").value();
    EXPECT_EQ(img.parsed_config.created, "2023-11-14T22:13:20Z");
    auto from_env = run_cli({"build", "scoring", "--solution", sol.string(), "--platform", "amd64", "--base", base,
                             "--oci-layout", (dir / "from-env").string(), "-q"},
                            {{"SOURCE_DATE_EPOCH", "1600000000"}}, tools);
    ASSERT_EQ(from_env.code, 0) << from_env.err;
    auto img2 = oci::OciLayout::open(dir / "from-env").value().load_image("0.0.1-amd64").value();
    EXPECT_EQ(img2.parsed_config.created, "2020-09-13T12:26:40Z");
}

TEST_F(BuildRun, ArchiveAndExportAreLoadableDockerArchives) {
    auto r = run_cli({"export", "scoring", "--solution", sol.string(), "--base", base, "--archive",
                      (dir / "scoring.tar").string()},
                     {}, tools);
    ASSERT_EQ(r.code, 0) << r.err;
    fs::create_directories(dir / "stage");
    auto read = oci::read_docker_archive(dir / "scoring.tar", dir / "stage").value();
    EXPECT_EQ(read.repo_tags, (std::vector<std::string>{"localhost:5000/scoring:0.0.1-amd64"}));
    EXPECT_EQ(read.image.layers.size(), 5u);
    EXPECT_EQ(read.image.parsed_config.config.cmd, (std::vector<std::string>{"python3", "-m", "app.main"}));

    auto two = run_cli({"build", "--solution", sol.string(), "--base", base, "--archive", (dir / "both.tar").string()},
                       {}, tools);
    EXPECT_EQ(two.code, 2);
    EXPECT_EQ(two.err, "edgeship: error: build: --archive holds one image, and 2 were asked for\n"
                       "hint: name one module and one --platform (or use 'edgeship export MODULE --archive FILE')\n");
    EXPECT_FALSE(fs::exists(dir / "both.tar"));
}

TEST_F(BuildRun, LocalBaseElsewhereGivesTheSameDigests) {
    // A local base is identified by its digest (base.digest), not its path: stdout is the same.
    fs::create_directories(dir / "another" / "place");
    fs::copy(dir / "base", dir / "another" / "place" / "runtime", fs::copy_options::recursive);
    auto here = run_cli({"build", "--solution", sol.string(), "--base", base, "--oci-layout", (dir / "here").string()},
                        {}, tools);
    ASSERT_EQ(here.code, 0) << here.err;
    auto there = run_cli({"build", "--solution", sol.string(), "--base",
                          "oci:" + (dir / "another/place/runtime").string() + ":3.11", "--oci-layout",
                          (dir / "there").string()},
                         {}, tools);
    ASSERT_EQ(there.code, 0) << there.err;
    EXPECT_EQ(here.out, there.out);
    auto img = oci::OciLayout::open(dir / "there").value().load_image("0.0.1-amd64").value();
    EXPECT_EQ(img.parsed_config.config.labels.count("org.opencontainers.image.base.name"), 0u);
    EXPECT_EQ(img.parsed_config.config.labels.count("org.opencontainers.image.base.digest"), 1u);
}

TEST_F(BuildRun, BadInputsWriteNothing) {
    const auto out = dir / "out";
    auto expect_fail = [&](std::vector<std::string> args, int code, const std::string& err, core::Environment env = {}) {
        auto r = run_cli(args, std::move(env), tools);
        EXPECT_EQ(r.code, code) << r.err;
        EXPECT_EQ(r.err, err);
        EXPECT_EQ(r.out, "");
        EXPECT_FALSE(fs::exists(out));
    };
    const std::string s = sol.string();
    const std::string o = out.string();
    expect_fail({"build", "nosuch", "--solution", s, "--base", base, "--oci-layout", o}, 1,
                "edgeship: error: build: no module 'nosuch' in " + s + "/modules (have: scoring)\n");
    expect_fail({"build", "--solution", s, "--base", base}, 2,
                "edgeship: error: build: choose one output: --push, --oci-layout DIR or --archive FILE\n");
    expect_fail({"build", "--solution", s, "--platform", "arm32v7", "--base", base, "--oci-layout", o}, 1,
                "edgeship: error: build scoring: " + s + "/modules/scoring/module.json has no platform 'arm32v7' (has: "
                "amd64, amd64.debug, arm64v8)\n");
    // a base without the runtime (no PYTHON_VERSION, no python3 in its layers)
    test::make_base_layout(dir / "bare", {"amd64"}, "1", /*with_runtime=*/false);
    expect_fail({"build", "--solution", s, "--platform", "amd64", "--base", "oci:" + (dir / "bare").string() + ":1",
                 "--oci-layout", o},
                1,
                "edgeship: error: build scoring amd64: base image oci:" + (dir / "bare").string() +
                    ":1 has no python runtime (no PYTHON_VERSION in its Env, none of /usr/local/bin/python3, "
                    "/usr/bin/python3 in its layers)\n"
                    "hint: a daemonless build adds layers and cannot install the runtime: use the runtime's official image "
                    "(drop --base) or a base that holds python\n");
    // pip has no wheel for the platform: one line naming the package, platform and Python; nothing written
    {
        auto env = test::fake_tools_env(dir / "failing-tools",
                                        "ERROR: No matching distribution found for onnxruntime==1.20.1");
        auto r = run_cli({"build", "--solution", s, "--platform", "arm64v8", "--base", base, "--oci-layout", o},
                         env, tools);
        EXPECT_EQ(r.code, 1);
        EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
                  "edgeship: error: build scoring arm64v8: dependencies layer (python-onnxruntime, linux/arm64/v8): pip install: "
                  "no wheel of onnxruntime==1.20.1 for CPython 3.11 on linux/arm64/v8");
        EXPECT_FALSE(fs::exists(out));
    }
    // no pip at all
    expect_fail({"build", "--solution", s, "--platform", "amd64", "--base", base, "--oci-layout", o, "--pip",
                 (dir / "no-such-pip").string()},
                1,
                "edgeship: error: build scoring amd64: dependencies layer (python-onnxruntime, linux/amd64): pip not found ('" +
                    (dir / "no-such-pip").string() + "' is not an executable on PATH)\n"
                    "hint: install pip (Debian: apt-get install python3-pip), or pass --pip PATH / set EDGESHIP_PIP\n");
    expect_fail({"build", "--solution", s, "--model", (dir / "none.onnx").string(), "--base", base, "--oci-layout", o}, 1,
                "edgeship: error: build scoring: --model " + (dir / "none.onnx").string() + ": no such file\n");
    expect_fail({"build", "--solution", s, "--base", base, "--oci-layout", o}, 1,
                "edgeship: error: SOURCE_DATE_EPOCH=\"yesterday\": must be a non-negative integer (seconds since 1970-01-01 UTC)\n",
                {{"SOURCE_DATE_EPOCH", "yesterday"}});
    // a base without arm64: amd64 builds fine, arm64v8 fails, and nothing at all is written
    test::make_base_layout(dir / "amd-only", {"amd64"});
    auto r = run_cli({"build", "--solution", s, "--base", "oci:" + (dir / "amd-only").string(), "--oci-layout", o}, {},
                     tools);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("no image for platform linux/arm64/v8 (has: linux/amd64)"), std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(out));
    // the model is missing
    fs::remove(sol / "modules/scoring/model/model.onnx");
    expect_fail({"build", "--solution", s, "--base", base, "--oci-layout", o}, 1,
                "edgeship: error: build scoring: " + s + "/modules/scoring/model: no .onnx model\n"
                "hint: copy the model there, or pass --model FILE\n");
}

} // namespace
} // namespace edgeship::cli
