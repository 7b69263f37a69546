// The image-build facade (imagebuild/build_images.hpp) without a registry server: OCI layout and
// docker-archive destinations, planning errors (nothing written, no staging left), reproducibility across
// base-layout paths (no path in labels or history), and the registry sequence against an in-memory fake
// client (images then index, the layer cache's HEAD-checked reuse, progress hooks).
#include "imagebuild/build_images.hpp"

#include "imagebuild/fixture.hpp"
#include "oci/docker_archive.hpp"
#include "oci/layout.hpp"

#include <gtest/gtest.h>

#include <set>

namespace edgeship::imagebuild {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

/// A registry client that keeps what it was sent in memory. Blobs it "holds" are HEAD-skipped.
class FakeRegistry : public registry::Registry {
public:
    registry::RegistryOptions opts;
    std::set<std::string> blobs;         ///< digests held
    std::vector<std::string> pushes;     ///< "image REF" / "index REF", in order
    int growing_blobs = 0;

    const registry::RegistryOptions& options() const override { return opts; }
    Result<void> ping() override { return {}; }
    Result<oci::Blob> get_manifest(const oci::Reference& ref) override { return fail("no manifest " + ref.str()); }
    Result<registry::RemoteImage> get_image(const oci::Reference& ref, const oci::Platform&) override {
        return fail("no image " + ref.str());
    }
    Result<bool> blob_exists(const std::string&, const oci::Digest& digest) override {
        return blobs.count(digest.str()) > 0;
    }
    Result<registry::TransferReport> push_image(const oci::LocalImage& image, const oci::Reference& dest,
                                                const registry::BlobEventCallback& events) override {
        pushes.push_back("image " + dest.str());
        registry::TransferReport r;
        r.reference = dest.str();
        r.digest = image.manifest.descriptor.digest;
        auto send = [&](const oci::Descriptor& d) {
            if (events) {
                events({registry::BlobEvent::Kind::uploaded, d, static_cast<std::uint64_t>(d.size), ""});
            }
            const bool held = !blobs.insert(d.digest.str()).second;
            r.blobs.push_back({d, held ? registry::BlobResult::Outcome::skipped_exists : registry::BlobResult::Outcome::uploaded,
                               held ? 0 : static_cast<std::uint64_t>(d.size)});
            (held ? r.bytes_skipped : r.bytes_uploaded) += static_cast<std::uint64_t>(d.size);
        };
        for (const auto& l : image.layers) {
            send(l.descriptor);
        }
        send(image.config.descriptor);
        return r;
    }
    Result<registry::BlobResult> push_growing_blob(const std::string&, registry::GrowingBlob&, std::uint64_t,
                                                   const registry::BlobEventCallback&) override {
        ++growing_blobs;
        return fail("the fake does not stream");
    }
    Result<registry::TransferReport> push_index(const std::vector<const oci::LocalImage*>& images, const oci::Blob& index,
                                                const oci::Reference& dest, const registry::BlobEventCallback&) override {
        pushes.push_back("index " + dest.str() + " (" + std::to_string(images.size()) + " images)");
        registry::TransferReport r;
        r.reference = dest.str();
        r.digest = index.descriptor.digest;
        r.bytes_uploaded = static_cast<std::uint64_t>(index.descriptor.size);
        return r;
    }
    Result<registry::TransferReport> pull_to_layout(const oci::Reference& ref, oci::OciLayout&, const std::optional<oci::Platform>&,
                                                    const std::string&, const registry::BlobEventCallback&) override {
        return fail("no pull " + ref.str());
    }
};

class BuildImages : public ::testing::Test {
protected:
    void SetUp() override {
        sol = test::make_solution(dir / "pm", {"amd64", "arm64v8"});
        test::make_base_layout(dir / "base", {"amd64", "arm64"});
        base = "oci:" + (dir / "base").string() + ":3.11";
    }
    BuildImagesRequest request(ImageDestination destination, const fs::path& output) const {
        BuildImagesRequest r;
        r.solution = sol;
        r.base = base;
        r.destination = destination;
        r.output = output;
        r.environment = test::fake_tools_env(dir / "tools");
        r.tools = {r.environment.at("EDGESHIP_NPM"), r.environment.at("EDGESHIP_PIP")};
        return r;
    }
    BuildCollaborators collaborators() {
        BuildCollaborators c;
        c.cancel = nullptr;
        c.log = core::Logger([this](core::LogLevel, std::string_view m) { log.emplace_back(m); });
        c.on_layers_built = [this](const std::string& module, const ModuleLayers& l) {
            layers_built.push_back(module + " " + l.model.digest.str());
        };
        return c;
    }
    std::size_t staging_dirs(const fs::path& parent) const {
        std::size_t n = 0;
        for (const auto& e : fs::directory_iterator(parent)) {
            n += e.path().filename().string().rfind(".edgeship-build-", 0) == 0 ? 1 : 0;
        }
        return n;
    }
    TempDir dir;
    fs::path sol;
    std::string base;
    std::vector<std::string> log;
    std::vector<std::string> layers_built;
};

TEST_F(BuildImages, OciLayoutGetsEveryPlatformAndAnIndexOnlyWhenPublished) {
    const auto out = dir / "out";
    auto c = collaborators();
    auto built = build_images(request(ImageDestination::oci_layout, out), c);
    ASSERT_TRUE(built) << built.error().what();
    ASSERT_EQ(built->images.size(), 2u);
    EXPECT_EQ(built->images[0].reference.str(), "localhost:5000/scoring:0.0.1-amd64");
    EXPECT_EQ(built->images[1].built.platform, "arm64v8");
    EXPECT_EQ(built->images[0].layer_roles, (std::vector<std::string>{"base", "base", "deps", "model", "app"}));
    // the layers are built once for both platforms
    ASSERT_EQ(layers_built.size(), 1u);
    EXPECT_EQ(built->images[0].built.image.layers[3].descriptor.digest, built->images[1].built.image.layers[3].descriptor.digest);
    // the dependencies layer is per platform
    EXPECT_NE(built->images[0].built.image.layers[2].descriptor.digest, built->images[1].built.image.layers[2].descriptor.digest);
    ASSERT_EQ(built->indexes.size(), 1u);
    EXPECT_EQ(built->indexes[0].reference.str(), "localhost:5000/scoring:0.0.1");
    EXPECT_EQ(built->indexes[0].platforms, (std::vector<std::string>{"amd64", "arm64v8"}));
    EXPECT_EQ(built->indexes[0].images, (std::vector<std::size_t>{0, 1}));
    // built, not yet written: the destination does not exist, the staging directory does (beside it)
    EXPECT_FALSE(fs::exists(out));
    EXPECT_EQ(staging_dirs(dir.path()), 1u);

    ASSERT_TRUE(publish_images(*built, c));
    auto layout = oci::OciLayout::open(out).value();
    EXPECT_EQ(layout.tags(), (std::vector<std::string>{"0.0.1-amd64", "0.0.1-arm64v8", "0.0.1"}));
    EXPECT_EQ(layout.find("0.0.1")->digest, built->indexes[0].blob.descriptor.digest);
    EXPECT_FALSE(built->images[0].transfer); // nothing was pushed
    {
        BuiltImages last = std::move(*built); // the last owner goes: the staging directory with it
    }
    EXPECT_EQ(staging_dirs(dir.path()), 0u);
}

TEST_F(BuildImages, LocalBasePathLeavesNoTraceInTheImage) {
    // Two users, the same inputs, the base layout at different paths: the same digests.
    fs::create_directories(dir / "elsewhere" / "deeper");
    fs::copy(dir / "base", dir / "elsewhere" / "deeper" / "runtime", fs::copy_options::recursive);
    auto c = collaborators();
    auto req = request(ImageDestination::oci_layout, dir / "a");
    req.platforms = {"amd64"};
    auto a = build_images(req, c);
    ASSERT_TRUE(a) << a.error().what();
    req.base = "oci:" + (dir / "elsewhere" / "deeper" / "runtime").string() + ":3.11";
    req.output = dir / "b";
    auto b = build_images(req, c);
    ASSERT_TRUE(b) << b.error().what();
    const auto& ia = a->images.at(0).built.image;
    const auto& ib = b->images.at(0).built.image;
    EXPECT_EQ(ia.manifest.descriptor.digest, ib.manifest.descriptor.digest);
    EXPECT_EQ(ia.config.descriptor.digest, ib.config.descriptor.digest);
    const auto& labels = ia.parsed_config.config.labels;
    EXPECT_EQ(labels.count("org.opencontainers.image.base.name"), 0u);
    auto base_layout = oci::OciLayout::open(dir / "base").value();
    oci::LoadOptions lo;
    lo.platform = oci::Platform::parse("amd64").value();
    const auto base_digest = base_layout.load_image("3.11", lo).value().manifest.descriptor.digest.str();
    EXPECT_EQ(labels.at("org.opencontainers.image.base.digest"), base_digest);
    EXPECT_EQ(ia.parsed_manifest.annotations.at("org.opencontainers.image.base.digest"), base_digest);
    EXPECT_EQ(ia.parsed_manifest.annotations.count("org.opencontainers.image.base.name"), 0u);
    EXPECT_EQ(ia.manifest.bytes.find(dir.path().string()), std::string::npos);
    EXPECT_EQ(ia.config.bytes.find(dir.path().string()), std::string::npos);
}

TEST_F(BuildImages, ArchiveHoldsOneImage) {
    auto c = collaborators();
    auto two = build_images(request(ImageDestination::docker_archive, dir / "two.tar"), c);
    ASSERT_FALSE(two);
    EXPECT_EQ(two.error().code(), ExitCode::usage);
    EXPECT_EQ(two.error().what(), "build: --archive holds one image, and 2 were asked for");
    EXPECT_FALSE(fs::exists(dir / "two.tar"));

    auto req = request(ImageDestination::docker_archive, dir / "one.tar");
    req.platforms = {"arm64v8"};
    req.source_date_epoch = 1700000000;
    auto built = build_images(req, c);
    ASSERT_TRUE(built) << built.error().what();
    EXPECT_TRUE(built->indexes.empty());
    ASSERT_TRUE(publish_images(*built, c));
    fs::create_directories(dir / "read");
    auto read = oci::read_docker_archive(dir / "one.tar", dir / "read");
    ASSERT_TRUE(read) << read.error().what();
    EXPECT_EQ(read->repo_tags, (std::vector<std::string>{"localhost:5000/scoring:0.0.1-arm64v8"}));
    EXPECT_EQ(read->image.parsed_config.created, "2023-11-14T22:13:20Z");
    EXPECT_EQ(read->image.parsed_config.architecture, "arm64");
}

TEST_F(BuildImages, PlanningErrorsNameTheCulpritAndWriteNothing) {
    auto c = collaborators();
    auto req = request(ImageDestination::oci_layout, dir / "out");
    req.modules = {"nope"};
    auto e = build_images(req, c);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().what(), "build: no module 'nope' in " + (sol / "modules").string() + " (have: scoring)");

    req.modules = {};
    req.platforms = {"riscv64"};
    e = build_images(req, c);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().what().find("has no platform 'riscv64' (has: amd64, amd64.debug, arm64v8)"), std::string::npos)
        << e.error().what();

    req.platforms = {};
    req.base = "oci:" + (dir / "missing").string();
    e = build_images(req, c);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().what().rfind("build scoring amd64: ", 0), 0u) << e.error().what();

    auto empty = request(ImageDestination::oci_layout, dir / "out");
    empty.solution = dir / "nothing";
    fs::create_directories(empty.solution);
    e = build_images(empty, c);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().what(), "build: " + (dir / "nothing" / "modules").string() + ": no modules (no <folder>/module.json)");

    EXPECT_FALSE(fs::exists(dir / "out"));
    EXPECT_EQ(staging_dirs(dir.path()), 0u);
    EXPECT_TRUE(layers_built.empty());
}

TEST_F(BuildImages, ARegistryDestinationNeedsAClient) {
    auto c = collaborators();
    auto e = build_images(request(ImageDestination::registry, {}), c);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().what(), "registry localhost:5000: no registry client is wired in this build");
}

TEST_F(BuildImages, RegistryPushesImagesThenTheIndexAndReusesTheCachedModelLayer) {
    FakeRegistry reg;
    std::vector<std::string> hosts;
    int transfers = 0;
    int transfers_done = 0;
    std::vector<std::uint64_t> pushed_reports;
    auto c = collaborators();
    c.registry_for = [&](const std::string& host) -> Result<registry::Registry*> {
        hosts.push_back(host);
        return &reg;
    };
    c.transfer = [&](TransferDirection d) {
        EXPECT_EQ(d, TransferDirection::push);
        ++transfers;
        return TransferHooks{{}, [&] { ++transfers_done; }};
    };
    c.on_pushed = [&](const registry::TransferReport& r) { pushed_reports.push_back(r.bytes_uploaded); };
    auto req = request(ImageDestination::registry, {});
    req.environment = test::fake_tools_env(dir / "tools");
    req.tools = {req.environment.at("EDGESHIP_NPM"), req.environment.at("EDGESHIP_PIP")};
    req.environment["XDG_CACHE_HOME"] = (dir / "cache").string();

    auto built = build_images(req, c);
    ASSERT_TRUE(built) << built.error().what();
    EXPECT_EQ(reg.growing_blobs, 1); // the model layer was offered to the registry while it was built
    EXPECT_TRUE(reg.pushes.empty()); // nothing tagged during the build
    ASSERT_TRUE(publish_images(*built, c));
    EXPECT_EQ(reg.pushes, (std::vector<std::string>{"image localhost:5000/scoring:0.0.1-amd64",
                                                    "image localhost:5000/scoring:0.0.1-arm64v8",
                                                    "index localhost:5000/scoring:0.0.1 (2 images)"}));
    EXPECT_EQ(transfers, 3);
    EXPECT_EQ(transfers_done, 3);
    ASSERT_EQ(pushed_reports.size(), 2u); // per image (the CLI prints a summary line for each)
    ASSERT_TRUE(built->images[0].transfer);
    ASSERT_TRUE(built->images[1].transfer);
    EXPECT_GT(built->images[0].transfer->bytes_uploaded, 0u);
    EXPECT_GT(built->images[1].transfer->bytes_skipped, 0u); // model and app layers shared with amd64
    ASSERT_TRUE(built->indexes[0].transfer);
    EXPECT_TRUE(fs::exists(dir / "cache" / "edgeship" / "layers"));

    // Second build: the cache names the model layer and the registry holds it: not rebuilt, not offered.
    const auto model_digest = built->images[0].built.image.layers[3].descriptor.digest; // base, base, deps, model
    auto again = build_images(req, c);
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_EQ(reg.growing_blobs, 1);
    const auto& model_layer = again->images[0].built.image.layers[3];
    EXPECT_EQ(model_layer.descriptor.digest, model_digest);
    ASSERT_NE(model_layer.local_file(), nullptr);
    ASSERT_NE(model_layer.in_registry(), nullptr);
    EXPECT_EQ(model_layer.in_registry()->str(), "localhost:5000/scoring");
    EXPECT_EQ(again->images[0].built.image.manifest.descriptor.digest, built->images[0].built.image.manifest.descriptor.digest);
    EXPECT_NE(std::find_if(log.begin(), log.end(), [](const std::string& l) { return l.find("from the layer cache") != std::string::npos; }),
              log.end());
}

TEST(AccountStreamed, CountsTheStreamedModelLayerAsUploaded) {
    registry::TransferReport r;
    oci::Descriptor model;
    model.digest = oci::Digest::parse("sha256:" + std::string(64, 'a')).value();
    model.size = 1000;
    oci::Descriptor app;
    app.digest = oci::Digest::parse("sha256:" + std::string(64, 'b')).value();
    app.size = 10;
    r.blobs = {{model, registry::BlobResult::Outcome::skipped_exists, 0}, {app, registry::BlobResult::Outcome::uploaded, 10}};
    r.bytes_skipped = 1000;
    r.bytes_uploaded = 10;
    account_streamed(r, {model, registry::BlobResult::Outcome::uploaded, 1000});
    EXPECT_EQ(r.bytes_uploaded, 1010u);
    EXPECT_EQ(r.bytes_skipped, 0u);
    EXPECT_EQ(r.blobs[0].outcome, registry::BlobResult::Outcome::uploaded);
    EXPECT_EQ(r.blobs[0].bytes_sent, 1000u);
    // a layer the push itself uploaded is not counted twice
    account_streamed(r, {app, registry::BlobResult::Outcome::uploaded, 10});
    EXPECT_EQ(r.bytes_uploaded, 1010u);
}

} // namespace
} // namespace edgeship::imagebuild
