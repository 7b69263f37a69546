#include "imagebuild/base.hpp"
#include "imagebuild/build.hpp"
#include "imagebuild/dockerignore.hpp"
#include "imagebuild/runtime_image.hpp"
#include "imagebuild/sources.hpp"

#include "core/sha256.hpp"
#include "imagebuild/fixture.hpp"
#include "oci/docker_archive.hpp"
#include "templates/source.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace edgeship::imagebuild {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

RuntimeImage runtime(const std::string& name) {
    auto text = templates::TemplateSource().read("runtimes/" + name + "/runtime.json").value();
    return parse_runtime_image(text, name).value();
}

std::vector<RuntimeImage> all_runtimes() { return {runtime("python-onnxruntime"), runtime("node-onnxruntime")}; }

struct Built {
    BuiltImage image;
    oci::LocalImage base;
};

// The library path `edgeship build` takes: .env, module.json, runtime, sources, layers, base, image.
Result<Built> build(const fs::path& sol, const std::string& platform, const fs::path& blobs,
                    const std::optional<fs::path>& model = {}, std::optional<std::int64_t> epoch = {},
                    oci::ManifestFormat format = oci::ManifestFormat::oci, const std::string& base_ref = "") {
    static const auto runtimes = all_runtimes();
    EDGESHIP_TRY_ASSIGN(auto env, solution::load_env(sol, {}));
    EDGESHIP_TRY_ASSIGN(auto modules, solution::load_modules(sol / "modules", env.vars));
    if (modules.empty()) {
        return fail("no modules");
    }
    const auto& m = modules.front();
    EDGESHIP_TRY_ASSIGN(auto rt, select_runtime(m, runtimes));
    EDGESHIP_TRY_ASSIGN(auto target, TargetPlatform::parse(platform));
    EDGESHIP_TRY_ASSIGN(auto sources, collect_sources(m, *rt, model));
    oci::LayerOptions lo;
    lo.source_date_epoch = epoch;
    lo.blob.cancel = nullptr;
    lo.blob.sync = false;
    fs::create_directories(blobs);
    EDGESHIP_TRY_ASSIGN(auto layers, build_module_layers(sources, blobs, lo));
    EDGESHIP_TRY_ASSIGN(auto ref_text, base_ref_for(m, platform, base_ref.empty() ? std::nullopt : std::optional(base_ref), *rt));
    EDGESHIP_TRY_ASSIGN(auto ref, parse_base_ref(ref_text));
    EDGESHIP_TRY_ASSIGN(auto base, load_local_base(ref, target.platform, blobs, nullptr));
    ImageRequest req;
    req.module = &m;
    req.runtime = rt;
    req.sources = &sources;
    req.layers = &layers;
    req.platform = target;
    req.base = &base;
    req.base_name = ref_text;
    req.version = m.version;
    req.source_date_epoch = epoch;
    req.format = format;
    EDGESHIP_TRY_ASSIGN(auto image, assemble_module_image(req));
    return Built{std::move(image), std::move(base)};
}

class ImageBuild : public ::testing::Test {
protected:
    void SetUp() override {
        sol = test::make_solution(dir / "pm", {"amd64", "arm64v8"});
        test::make_base_layout(dir / "base", {"amd64", "arm64"});
        base = "oci:" + (dir / "base").string() + ":3.11";
    }
    TempDir dir;
    fs::path sol;
    std::string base;
};

TEST_F(ImageBuild, ConfigKeepsTheBaseAndSetsTheRuntimeSettings) {
    auto b = build(sol, "amd64", dir / "blobs", {}, {}, oci::ManifestFormat::oci, base);
    ASSERT_TRUE(b) << b.error().what();
    const auto& cfg = b->image.image.parsed_config;
    const auto& c = cfg.config;
    EXPECT_EQ(cfg.architecture, "amd64");
    EXPECT_EQ(c.env_value("PATH"), "/usr/local/bin:/usr/bin:/bin"); // kept from the base
    EXPECT_EQ(c.env_value("MODEL_PATH"), "/app/model/model.onnx");
    EXPECT_EQ(c.env_value("PORT"), "8080");
    EXPECT_EQ(c.env_value("PYTHONUNBUFFERED"), "1");
    EXPECT_EQ(c.env_value("MAX_BATCH_ROWS"), "256");
    EXPECT_EQ(c.cmd, (std::vector<std::string>{"python3", "-m", "app.main"}));
    EXPECT_EQ(c.exposed_ports, (std::set<std::string>{"8080/tcp"}));
    EXPECT_EQ(c.working_dir, "/app");
    EXPECT_EQ(c.user, "10001:10001"); // numeric user and group: no /etc/passwd entry needed, not the root group
    const auto model_sha = core::sha256_file(test::example_model()).value();
    EXPECT_EQ(c.labels.at("org.opencontainers.image.title"), "scoring");
    EXPECT_EQ(c.labels.at("org.opencontainers.image.version"), "0.0.1");
    EXPECT_EQ(c.labels.at("org.opencontainers.image.created"), "1970-01-01T00:00:01Z");
    EXPECT_EQ(c.labels.at("org.opencontainers.image.description"),
              "ONNX model scoring module: HTTP /score, /health, /metadata and IoT Edge messages (Python, ONNX Runtime)");
    EXPECT_EQ(c.labels.at("com.edgeship.model.sha256"), model_sha);
    EXPECT_EQ(c.labels.at("com.edgeship.model.file"), "model.onnx");
    EXPECT_EQ(c.labels.at("com.edgeship.runtime"), "python-onnxruntime");
    EXPECT_EQ(c.labels.at("org.example.base"), "yes");
    EXPECT_EQ(c.labels.at("org.opencontainers.image.base.digest"), b->base.manifest.descriptor.digest.str());
    EXPECT_EQ(cfg.created, "1970-01-01T00:00:01Z");
    EXPECT_EQ(b->image.model.sha256, model_sha);
    // base layers, then model, then app (docs/design/registry.md §8.5)
    ASSERT_EQ(b->image.image.layers.size(), 4u);
    EXPECT_EQ(b->image.base_layers, 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(b->image.image.layers[i].descriptor.digest, b->base.layers[i].descriptor.digest);
    }
    EXPECT_EQ(cfg.diff_ids.size(), 4u);
    ASSERT_EQ(cfg.history.size(), 5u);
    EXPECT_NE(cfg.history[2].created_by.find("COPY model/ /app/model/"), std::string::npos);
    EXPECT_NE(cfg.history[2].created_by.find(model_sha), std::string::npos);
    EXPECT_NE(cfg.history[3].created_by.find("COPY app/ /app/app/"), std::string::npos);
    EXPECT_TRUE(cfg.history[4].empty_layer);
    EXPECT_EQ(cfg.non_empty_history(), cfg.diff_ids.size());
    EXPECT_EQ(b->image.image.parsed_manifest.annotations.at("org.opencontainers.image.title"), "scoring");
}

TEST_F(ImageBuild, LayersHoldTheModelAndTheAppAsTheDockerfileCopiesThem) {
    // junk the .dockerignore keeps out, and a file it does not
    fs::create_directories(sol / "modules/scoring/app/__pycache__");
    test::write_text(sol / "modules/scoring/app/__pycache__/main.cpython-311.pyc", "junk");
    test::write_text(sol / "modules/scoring/app/extra.txt", "kept");
    auto b = build(sol, "amd64", dir / "blobs", {}, {}, oci::ManifestFormat::oci, base);
    ASSERT_TRUE(b) << b.error().what();
    const auto& layers = b->image.image.layers;
    auto model = test::read_tar(*layers[2].local_file());
    EXPECT_EQ(test::member_paths(model), (std::vector<std::string>{"app/", "app/model/", "app/model/model.onnx"}));
    EXPECT_EQ(model[2].content, test::read_text(test::example_model()));
    EXPECT_EQ(model[2].mode, 0644u);
    EXPECT_EQ(model[2].uid, 0);
    EXPECT_EQ(model[2].mtime, 1);
    auto app = test::read_tar(*layers[3].local_file());
    auto paths = test::member_paths(app);
    EXPECT_EQ(paths, (std::vector<std::string>{"app/", "app/app/", "app/app/__init__.py", "app/app/edge.py",
                                               "app/app/extra.txt", "app/app/main.py", "app/app/scoring.py",
                                               "app/app/signature.json"}));
    EXPECT_EQ(app[6].content, test::read_text(sol / "modules/scoring/app/scoring.py"));
    EXPECT_EQ(layers[2].descriptor.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
}

TEST_F(ImageBuild, SameInputsGiveIdenticalDigestsAndTheEpochIsHonoured) {
    auto a = build(sol, "amd64", dir / "a", {}, {}, oci::ManifestFormat::oci, base);
    auto b = build(sol, "amd64", dir / "b", {}, {}, oci::ManifestFormat::oci, base);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->image.image.manifest.descriptor.digest, b->image.image.manifest.descriptor.digest);
    EXPECT_EQ(a->image.image.manifest.bytes, b->image.image.manifest.bytes);
    auto c = build(sol, "amd64", dir / "c", {}, 1700000000, oci::ManifestFormat::oci, base);
    ASSERT_TRUE(c);
    EXPECT_NE(c->image.image.manifest.descriptor.digest, a->image.image.manifest.descriptor.digest);
    EXPECT_EQ(c->image.image.parsed_config.created, "2023-11-14T22:13:20Z");
    EXPECT_EQ(test::read_tar(*c->image.image.layers[3].local_file())[1].mtime, 1700000000);
}

TEST_F(ImageBuild, ANewModelChangesOnlyTheModelLayerConfigAndManifest) {
    auto a = build(sol, "amd64", dir / "a", {}, {}, oci::ManifestFormat::oci, base);
    test::write_text(dir / "retrained.onnx", test::read_text(test::example_model()) + "retrained");
    auto b = build(sol, "amd64", dir / "b", dir / "retrained.onnx", {}, oci::ManifestFormat::oci, base);
    ASSERT_TRUE(a && b) << (a ? b.error().what() : a.error().what());
    const auto& la = a->image.image.layers;
    const auto& lb = b->image.image.layers;
    ASSERT_EQ(la.size(), lb.size());
    EXPECT_EQ(la[0].descriptor.digest, lb[0].descriptor.digest);
    EXPECT_EQ(la[1].descriptor.digest, lb[1].descriptor.digest);
    EXPECT_NE(la[2].descriptor.digest, lb[2].descriptor.digest);
    EXPECT_EQ(la[3].descriptor.digest, lb[3].descriptor.digest);
    EXPECT_NE(a->image.image.config.descriptor.digest, b->image.image.config.descriptor.digest);
    EXPECT_NE(a->image.image.manifest.descriptor.digest, b->image.image.manifest.descriptor.digest);
    // --model replaces the file under the module's name, so MODEL_PATH in the deployment stays right
    EXPECT_EQ(b->image.model.file, "model.onnx");
    EXPECT_EQ(b->image.image.parsed_config.config.labels.at("com.edgeship.model.sha256"),
              core::sha256_hex(test::read_text(dir / "retrained.onnx")));
    EXPECT_EQ(test::read_tar(*lb[2].local_file())[2].content, test::read_text(dir / "retrained.onnx"));
}

TEST_F(ImageBuild, PlatformsDebugFlavourDockerFormatAndIndex) {
    auto amd = build(sol, "amd64", dir / "blobs", {}, {}, oci::ManifestFormat::docker, base);
    auto arm = build(sol, "arm64v8", dir / "blobs", {}, {}, oci::ManifestFormat::docker, base);
    ASSERT_TRUE(amd && arm) << (amd ? arm.error().what() : amd.error().what());
    EXPECT_EQ(arm->image.image.parsed_config.architecture, "arm64");
    EXPECT_EQ(arm->image.image.parsed_config.variant, "v8");
    EXPECT_EQ(amd->image.image.manifest.descriptor.media_type, "application/vnd.docker.distribution.manifest.v2+json");
    EXPECT_EQ(amd->image.image.layers[2].descriptor.media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
    // identical model/app layers on both platforms, different base layers
    EXPECT_EQ(amd->image.image.layers[2].descriptor.digest, arm->image.image.layers[2].descriptor.digest);
    EXPECT_NE(amd->image.image.layers[0].descriptor.digest, arm->image.image.layers[0].descriptor.digest);
    auto index = oci::make_index({&amd->image.image, &arm->image.image}, oci::ManifestFormat::docker);
    ASSERT_TRUE(index) << index.error().what();
    EXPECT_NE(index->bytes.find("\"architecture\":\"arm64\""), std::string::npos);

    auto dbg = build(sol, "amd64.debug", dir / "blobs", {}, {}, oci::ManifestFormat::oci, base);
    ASSERT_TRUE(dbg) << dbg.error().what();
    const auto& c = dbg->image.image.parsed_config.config;
    EXPECT_EQ(c.cmd, (std::vector<std::string>{"python3", "-m", "debugpy", "--listen", "0.0.0.0:5678", "-m", "app.main"}));
    EXPECT_EQ(c.exposed_ports, (std::set<std::string>{"5678/tcp", "8080/tcp"}));
}

TEST_F(ImageBuild, NodeRuntime) {
    auto node = test::make_solution(dir / "node", {"amd64"}, "node-onnxruntime");
    auto b = build(node, "amd64", dir / "blobs", {}, {}, oci::ManifestFormat::oci, base);
    ASSERT_TRUE(b) << b.error().what();
    const auto& c = b->image.image.parsed_config.config;
    EXPECT_EQ(c.cmd, (std::vector<std::string>{"node", "app/server.js"}));
    EXPECT_EQ(c.user, "1000"); // the official image's node user, numeric so bases without it work too
    EXPECT_EQ(c.env_value("NODE_ENV"), "production");
    auto app = test::member_paths(test::read_tar(*b->image.image.layers[3].local_file()));
    EXPECT_NE(std::find(app.begin(), app.end(), "app/app/server.js"), app.end());
}

TEST_F(ImageBuild, BaseFromADockerArchive) {
    auto layout = oci::OciLayout::open(dir / "base").value();
    oci::LoadOptions lo;
    lo.platform = oci::Platform::parse("amd64").value();
    auto img = layout.load_image("3.11", lo).value();
    ASSERT_TRUE(oci::write_docker_archive(img, dir / "base.tar", {{"python:3.11"}, {}, nullptr}));
    auto b = build(sol, "amd64", dir / "blobs", {}, {}, oci::ManifestFormat::oci, "docker-archive:" + (dir / "base.tar").string());
    ASSERT_TRUE(b) << b.error().what();
    EXPECT_EQ(b->image.image.parsed_config.diff_ids[0], img.parsed_config.diff_ids[0]);
    EXPECT_EQ(b->image.image.layers.size(), 4u);
}

TEST_F(ImageBuild, BaseImageFromModuleJson) {
    auto mj = test::read_text(sol / "modules/scoring/module.json");
    auto pos = mj.rfind('}');
    mj.insert(pos, ",\n  \"edgeship\": {\"baseImage\": {\"amd64\": \"" + base + "\"}}\n");
    test::write_text(sol / "modules/scoring/module.json", mj);
    auto b = build(sol, "amd64", dir / "blobs");
    ASSERT_TRUE(b) << b.error().what();
    EXPECT_EQ(b->image.image.parsed_config.config.labels.at("org.opencontainers.image.base.name"), base);
    // amd64.debug falls back to the amd64 base
    EXPECT_TRUE(build(sol, "amd64.debug", dir / "blobs"));
    // arm64v8 has none in module.json: the runtime's official image for the platform (runtime.json)
    const auto rt = all_runtimes().front();
    const auto module = solution::load_modules(sol / "modules", {}).value().front();
    auto official = base_ref_for(module, "arm64v8", std::nullopt, rt);
    ASSERT_TRUE(official) << official.error().what();
    EXPECT_EQ(*official, "arm64v8/python:3.11-slim-bookworm");
    auto mirrored = base_ref_for(module, "arm64v8.debug", std::nullopt, rt, "127.0.0.1:5000");
    ASSERT_TRUE(mirrored) << mirrored.error().what();
    EXPECT_EQ(*mirrored, "127.0.0.1:5000/arm64v8/python:3.11-slim-bookworm");
}

TEST(OfficialBase, OnlyDockerHubNamesAreMirrored) {
    EXPECT_EQ(official_base_in("node:20-bookworm-slim", "").value(), "node:20-bookworm-slim");
    EXPECT_EQ(official_base_in("node:20-bookworm-slim", "mirror.example:5000/").value(),
              "mirror.example:5000/library/node:20-bookworm-slim");
    EXPECT_EQ(official_base_in("docker.io/arm64v8/node:20", "m.example").value(), "m.example/arm64v8/node:20");
    EXPECT_EQ(official_base_in("myacr.azurecr.io/runtime/node:1", "m.example").value(), "myacr.azurecr.io/runtime/node:1");
    EXPECT_FALSE(official_base_in("node:20", "Bad Host"));
}

TEST_F(ImageBuild, BadInputsFailWithOneLine) {
    // missing model
    fs::remove(sol / "modules/scoring/model/model.onnx");
    auto r = build(sol, "amd64", dir / "blobs", {}, {}, oci::ManifestFormat::oci, base);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), (sol / "modules/scoring/model").string() + ": no .onnx model");
    // --model that does not exist
    r = build(sol, "amd64", dir / "blobs", dir / "nope.onnx", {}, oci::ManifestFormat::oci, base);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "--model " + (dir / "nope.onnx").string() + ": no such file");
    // unknown platform
    r = build(sol, "sparc", dir / "blobs", dir / "nope.onnx", {}, oci::ManifestFormat::oci, base);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::usage);
    test::write_text(sol / "modules/scoring/model/model.onnx", "x");
    // a base without the platform
    test::make_base_layout(dir / "amd-only", {"amd64"});
    r = build(sol, "arm64v8", dir / "blobs2", {}, {}, oci::ManifestFormat::oci, "oci:" + (dir / "amd-only").string());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("no image for platform linux/arm64/v8 (has: linux/amd64)"), std::string::npos)
        << r.error().what();
    // a single-platform base for another architecture
    {
        auto layout = oci::OciLayout::create(dir / "single").value();
        auto img = test::make_base_image(layout.blobs_dir(), "arm64", "v8");
        layout.write_image(img).value();
        layout.set_tag(img.manifest.descriptor, "1").value();
    }
    r = build(sol, "amd64", dir / "blobs3", {}, {}, oci::ManifestFormat::oci, "oci:" + (dir / "single").string() + ":1");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "base image oci:" + (dir / "single").string() + ":1 is linux/arm64/v8, not linux/amd64");
    // several models
    test::write_text(sol / "modules/scoring/model/other.onnx", "y");
    r = build(sol, "amd64", dir / "blobs4", {}, {}, oci::ManifestFormat::oci, base);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), (sol / "modules/scoring/model").string() + ": several .onnx models; the image serves one");
}

TEST(DockerIgnore, DockerSemantics) {
    auto d = DockerIgnore::parse("# comment\n**/__pycache__\n*.pyc\n/Dockerfile.*\nmodule.json\ndocs\n!docs/keep.md\n\n");
    EXPECT_TRUE(d.excluded("app/__pycache__"));
    EXPECT_TRUE(d.excluded("app/__pycache__/x.pyc"));
    EXPECT_TRUE(d.excluded("__pycache__/x"));
    EXPECT_TRUE(d.excluded("x.pyc"));
    EXPECT_FALSE(d.excluded("app/x.pyc")); // Docker: *.pyc only at the root
    EXPECT_TRUE(d.excluded("Dockerfile.amd64"));
    EXPECT_TRUE(d.excluded("module.json"));
    EXPECT_FALSE(d.excluded("app/module.json"));
    EXPECT_TRUE(d.excluded("docs/a.md"));
    EXPECT_FALSE(d.excluded("docs/keep.md"));
    EXPECT_FALSE(d.excluded("app/main.py"));
    EXPECT_TRUE(DockerIgnore::parse("./app/*.log\n").excluded("app/debug.log"));
    EXPECT_FALSE(DockerIgnore::parse("").excluded("anything"));
}

TEST(RuntimeImage, ParsesTheShippedRuntimesAndRejectsBadSections) {
    auto py = runtime("python-onnxruntime");
    EXPECT_EQ(py.language, "python");
    ASSERT_EQ(py.copy.size(), 2u);
    EXPECT_TRUE(py.copy[1].model);
    EXPECT_EQ(py.settings_for(false, "m.onnx").env[2], (std::pair<std::string, std::string>{"MODEL_PATH", "/app/model/m.onnx"}));
    EXPECT_EQ(py.settings_for(false, "m.onnx").env[3], (std::pair<std::string, std::string>{"PORT", "8080"}));

    auto err = [](const std::string& text) { return parse_runtime_image(text, "rt.json").error().what(); };
    EXPECT_EQ(err("{"), err("{")); // deterministic
    EXPECT_EQ(err(R"({"name":"x"})"), "rt.json: no \"image\" section (how the Dockerfile lays out the module image)");
    EXPECT_EQ(err(R"({"name":"x","image":{"copy":[{"from":"app/","to":"/app/"}]}})"),
              "rt.json: image.copy: exactly one rule must have \"layer\": \"model\" (found 0)");
    EXPECT_EQ(err(R"({"name":"x","image":{"copy":[{"from":"model/","to":"app/","layer":"model"}]}})"),
              "rt.json: image.copy[0].to: must be an absolute path in the image");
    EXPECT_EQ(err(R"({"name":"x","image":{"env":{"A":1},"copy":[]}})"),
              "rt.json: image.env.A: must be a string value with a name without '='");
}

TEST(RuntimeImage, SelectsByLanguageOrExplicitName) {
    auto rts = all_runtimes();
    solution::ModuleInfo m;
    m.folder = "x";
    m.module_json = "x/module.json";
    m.language = "nodejs";
    EXPECT_EQ(select_runtime(m, rts).value()->runtime, "node-onnxruntime");
    m.language = "csharp";
    EXPECT_EQ(select_runtime(m, rts).error().what(),
              "x/module.json: no runtime for language 'csharp' (available: python-onnxruntime (python), node-onnxruntime (nodejs))");
    m.json["edgeship"]["runtime"] = "python-onnxruntime";
    EXPECT_EQ(select_runtime(m, rts).value()->runtime, "python-onnxruntime");
}

TEST(BaseRef, Forms) {
    auto a = parse_base_ref("oci:/tmp/base:3.11").value();
    EXPECT_EQ(a.kind, BaseRef::Kind::oci_layout);
    EXPECT_EQ(a.path, "/tmp/base");
    EXPECT_EQ(a.tag, "3.11");
    auto b = parse_base_ref("oci:rel/dir").value();
    EXPECT_EQ(b.path, "rel/dir");
    EXPECT_EQ(b.tag, "");
    auto c = parse_base_ref("docker-archive:/x/base.tar").value();
    EXPECT_EQ(c.kind, BaseRef::Kind::docker_archive);
    EXPECT_EQ(c.path, "/x/base.tar");
    auto d = parse_base_ref("localhost:5000/runtime/python:3.11").value();
    EXPECT_EQ(d.kind, BaseRef::Kind::registry);
    EXPECT_EQ(d.reference.repository, "runtime/python");
    EXPECT_EQ(parse_base_ref("Bad/Ref").error().what(), "base image: invalid reference \"Bad/Ref\": repository \"Ref\" must be lower case");
    EXPECT_FALSE(parse_base_ref("oci:"));
    // one parser with push: docker://REF names the same image as the bare REF
    auto e = parse_base_ref("docker://localhost:5000/runtime/python:3.11").value();
    EXPECT_EQ(e.kind, BaseRef::Kind::registry);
    EXPECT_EQ(e.reference, d.reference);
    EXPECT_TRUE(e.transport_given);
    EXPECT_FALSE(d.transport_given);
    EXPECT_EQ(parse_base_ref("docker-archive:").error().what(),
              "base image \"docker-archive:\": empty archive path (docker-archive:FILE)");
}

TEST(Tags, EstablishedFormatAndIndexTag) {
    solution::ModuleInfo m;
    m.module_json = "module.json";
    m.repository = "LocalHost:5000/Scoring";
    m.version = "0.0.1";
    EXPECT_EQ(platform_reference(m, "amd64", "").value().str(), "localhost:5000/scoring:0.0.1-amd64");
    EXPECT_EQ(platform_reference(m, "arm64v8", "ci42").value().str(), "localhost:5000/scoring:0.0.1-ci42-arm64v8");
    EXPECT_EQ(index_reference(m, "ci42").value().str(), "localhost:5000/scoring:0.0.1-ci42");
    EXPECT_FALSE(platform_reference(m, "amd64", "bad tag"));
    EXPECT_EQ(TargetPlatform::parse("amd64.debug").value().debug, true);
    EXPECT_EQ(TargetPlatform::parse("arm64v8").value().platform.str(), "linux/arm64/v8");
    EXPECT_EQ(TargetPlatform::parse("amd64.release").error().code(), ExitCode::usage);
}

} // namespace
} // namespace edgeship::imagebuild
