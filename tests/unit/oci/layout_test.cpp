#include "image_fixture.hpp"
#include "oci/layout.hpp"
#include "oci/media_types.hpp"

#include <gtest/gtest.h>

namespace edgeship::oci {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

LoadOptions load_opts() {
    LoadOptions o;
    o.cancel = nullptr;
    return o;
}

OciLayout write_tagged(const fs::path& dir, const std::string& tag, const LocalImage& img) {
    auto layout = OciLayout::create(dir).value();
    EXPECT_TRUE(layout.write_image(img));
    EXPECT_TRUE(layout.set_tag(img.manifest.descriptor, tag));
    return layout;
}

TEST(OciLayout, WriteThenReadDigestByDigest) {
    TempDir work;
    auto layout = OciLayout::create(work / "oci").value();
    auto img = test::make_image(layout.blobs_dir()); // layers written straight into blobs/sha256
    ASSERT_TRUE(layout.write_image(img));
    ASSERT_TRUE(layout.set_tag(img.manifest.descriptor, "v1"));

    EXPECT_EQ(test::read_text(work / "oci/oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
    auto index = nlohmann::json::parse(test::read_text(work / "oci/index.json"));
    EXPECT_EQ(index["schemaVersion"], 2);
    EXPECT_EQ(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "v1");
    EXPECT_EQ(index["manifests"][0]["digest"], img.manifest.descriptor.digest.str());

    auto reopened = OciLayout::open(work / "oci");
    ASSERT_TRUE(reopened) << reopened.error().what();
    auto loaded = reopened->load_image("v1", load_opts());
    ASSERT_TRUE(loaded) << loaded.error().what();
    EXPECT_EQ(loaded->manifest.bytes, img.manifest.bytes);
    EXPECT_EQ(loaded->manifest.descriptor.digest, img.manifest.descriptor.digest);
    EXPECT_EQ(loaded->config.descriptor.digest, img.config.descriptor.digest);
    ASSERT_EQ(loaded->layers.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(loaded->layers[i].descriptor.digest, img.layers[i].descriptor.digest);
        EXPECT_EQ(loaded->layers[i].diff_id, img.layers[i].diff_id);
        EXPECT_EQ(Digest::of(test::read_text(*loaded->layers[i].local_file())), img.layers[i].descriptor.digest);
    }
    EXPECT_EQ(loaded->parsed_config.config.working_dir, "/app");
    // Deep verification (gunzip + DiffID) agrees too.
    auto deep = load_opts();
    deep.verify_diff_ids = true;
    auto d = reopened->load_image("v1", deep);
    ASSERT_TRUE(d) << d.error().what();
    EXPECT_TRUE(d->layers[1].uncompressed_size.has_value());
}

TEST(OciLayout, SameImageTwiceIsBitIdentical) {
    TempDir a, b;
    auto la = OciLayout::create(a / "oci").value();
    auto lb = OciLayout::create(b / "oci").value();
    auto ia = test::make_image(la.blobs_dir());
    auto ib = test::make_image(lb.blobs_dir());
    EXPECT_EQ(ia.manifest.descriptor.digest, ib.manifest.descriptor.digest);
    ASSERT_TRUE(la.write_image(ia) && la.set_tag(ia.manifest.descriptor, "t"));
    ASSERT_TRUE(lb.write_image(ib) && lb.set_tag(ib.manifest.descriptor, "t"));
    EXPECT_EQ(test::read_text(a / "oci/index.json"), test::read_text(b / "oci/index.json"));
    // A different model changes only the model layer, config and manifest.
    auto ic = test::make_image(la.blobs_dir(), ManifestFormat::oci, "amd64", "weights-v2");
    EXPECT_EQ(ic.layers[0].descriptor.digest, ia.layers[0].descriptor.digest);
    EXPECT_NE(ic.layers[1].descriptor.digest, ia.layers[1].descriptor.digest);
    EXPECT_NE(ic.manifest.descriptor.digest, ia.manifest.descriptor.digest);
}

TEST(OciLayout, TagsReplaceAndList) {
    TempDir work;
    auto layout = OciLayout::create(work / "oci").value();
    auto one = test::make_image(layout.blobs_dir());
    auto two = test::make_image(layout.blobs_dir(), ManifestFormat::docker);
    ASSERT_TRUE(layout.write_image(one) && layout.write_image(two));
    ASSERT_TRUE(layout.set_tag(one.manifest.descriptor, "a"));
    ASSERT_TRUE(layout.set_tag(one.manifest.descriptor, "b"));
    ASSERT_TRUE(layout.set_tag(two.manifest.descriptor, "a")); // moves "a"
    EXPECT_EQ(layout.tags(), (std::vector<std::string>{"a", "b"}));
    auto a = OciLayout::open(work / "oci")->load_image("a", load_opts());
    ASSERT_TRUE(a) << a.error().what();
    EXPECT_EQ(a->format(), ManifestFormat::docker);
    EXPECT_EQ(a->layers[0].descriptor.media_type, media_type::docker_layer_gzip);
    auto missing = layout.find("c");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("no image tagged \"c\" (tags: a, b)"), std::string::npos);
    auto ambiguous = layout.find("");
    ASSERT_FALSE(ambiguous);
    EXPECT_NE(ambiguous.error().message().find("holds 2 images"), std::string::npos);
    EXPECT_FALSE(layout.set_tag(one.manifest.descriptor, "bad tag"));
    EXPECT_FALSE(layout.set_tag(one.manifest.descriptor, "a/b"));
}

TEST(OciLayout, WrongLayerDigestRefusedNamingTheBlob) {
    TempDir work;
    auto layout = OciLayout::create(work / "oci").value();
    auto img = test::make_image(layout.blobs_dir());
    write_tagged(work / "oci", "v1", img);
    // Same size, one byte changed.
    auto path = layout.blob_path(img.layers[1].descriptor.digest);
    auto bytes = test::read_text(path);
    bytes[bytes.size() / 2] ^= 1;
    test::write_text(path, bytes);
    auto r = OciLayout::open(work / "oci")->load_image("v1", load_opts());
    ASSERT_FALSE(r);
    auto msg = r.error().what();
    EXPECT_NE(msg.find("layer 1 of tag v1 " + img.layers[1].descriptor.digest.str() + ": digest mismatch: content hashes to sha256:"),
              std::string::npos)
        << msg;
    // Truncated blob: size mismatch.
    test::write_text(path, bytes.substr(0, 100));
    auto s = OciLayout::open(work / "oci")->load_image("v1", load_opts());
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().what().find("size mismatch: blob has 100 bytes"), std::string::npos) << s.error().what();
    // Missing blob.
    fs::remove(path);
    auto m = OciLayout::open(work / "oci")->load_image("v1", load_opts());
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().what().find("blob missing"), std::string::npos) << m.error().what();
}

TEST(OciLayout, TamperedManifestOrConfigRefused) {
    TempDir work;
    auto layout = OciLayout::create(work / "oci").value();
    auto img = test::make_image(layout.blobs_dir());
    write_tagged(work / "oci", "v1", img);
    auto cfg = layout.blob_path(img.config.descriptor.digest);
    auto text = test::read_text(cfg);
    text[text.find("python3")] = 'P';
    test::write_text(cfg, text);
    auto r = OciLayout::open(work / "oci")->load_image("v1", load_opts());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("config of tag v1 " + img.config.descriptor.digest.str() + ": digest mismatch"),
              std::string::npos)
        << r.error().what();
    auto man = layout.blob_path(img.manifest.descriptor.digest);
    test::write_text(man, test::read_text(man) + " ");
    auto m = OciLayout::open(work / "oci")->load_image("v1", load_opts());
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().what().find("manifest of tag v1"), std::string::npos);
}

TEST(OciLayout, DiffIdMismatchCaughtByDeepVerification) {
    TempDir work;
    auto layout = OciLayout::create(work / "oci").value();
    auto img = test::make_image(layout.blobs_dir());
    // A config that lies about layer 0's DiffID, with a manifest whose digests are all consistent.
    auto cfg = img.parsed_config;
    cfg.diff_ids[0] = Digest::of("something else");
    auto cfg_blob = cfg.to_blob(ManifestFormat::oci).value();
    auto man = img.parsed_manifest;
    man.config = cfg_blob.descriptor;
    auto man_blob = make_blob(man).value();
    ASSERT_TRUE(layout.write_blob(cfg_blob) && layout.write_blob(man_blob));
    ASSERT_TRUE(layout.set_tag(man_blob.descriptor, "liar"));
    EXPECT_TRUE(layout.load_image("liar", load_opts())); // blob digests are fine
    auto deep = load_opts();
    deep.verify_diff_ids = true;
    auto r = layout.load_image("liar", deep);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("layer 0 of tag liar: DiffID " + img.layers[0].diff_id.str() +
                                    " does not match config rootfs.diff_ids[0]"),
              std::string::npos)
        << r.error().what();
}

TEST(OciLayout, MultiPlatformIndex) {
    TempDir work;
    auto layout = OciLayout::create(work / "oci").value();
    auto amd = test::make_image(layout.blobs_dir(), ManifestFormat::oci, "amd64");
    auto arm = test::make_image(layout.blobs_dir(), ManifestFormat::oci, "arm64");
    ASSERT_TRUE(layout.write_image(amd) && layout.write_image(arm));
    auto idx = make_index({&amd, &arm}, ManifestFormat::oci);
    ASSERT_TRUE(idx) << idx.error().what();
    ASSERT_TRUE(layout.write_blob(*idx));
    ASSERT_TRUE(layout.set_tag(idx->descriptor, "multi"));
    auto o = load_opts();
    o.platform = *Platform::parse("linux/arm64");
    auto got = layout.load_image("multi", o);
    ASSERT_TRUE(got) << got.error().what();
    EXPECT_EQ(got->manifest.descriptor.digest, arm.manifest.descriptor.digest);
    auto none = layout.load_image("multi", load_opts());
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().what().find("multi-platform index (linux/amd64, linux/arm64)"), std::string::npos)
        << none.error().what();
    EXPECT_FALSE(make_index({&amd, &amd}, ManifestFormat::oci));
}

TEST(OciLayout, OpenErrors) {
    TempDir work;
    auto r = OciLayout::open(work / "nope");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("not an OCI layout"), std::string::npos);
    fs::create_directories(work / "x");
    EXPECT_NE(OciLayout::open(work / "x").error().message().find("missing oci-layout"), std::string::npos);
    test::write_text(work / "x/oci-layout", R"({"imageLayoutVersion":"2.0.0"})");
    EXPECT_NE(OciLayout::open(work / "x").error().message().find("unsupported imageLayoutVersion"), std::string::npos);
    test::write_text(work / "x/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    test::write_text(work / "x/index.json", "{");
    EXPECT_NE(OciLayout::open(work / "x").error().message().find("index.json: not valid JSON"), std::string::npos);
}

} // namespace
} // namespace edgeship::oci
