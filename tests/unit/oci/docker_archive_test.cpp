#include "image_fixture.hpp"
#include "oci/docker_archive.hpp"
#include "oci/json.hpp"
#include "oci/media_types.hpp"

#include <gtest/gtest.h>

namespace edgeship::oci {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

DockerArchiveWriteOptions wopts(std::vector<std::string> tags = {"localhost:5000/edge/app:1.0"}) {
    DockerArchiveWriteOptions o;
    o.repo_tags = std::move(tags);
    o.cancel = nullptr;
    return o;
}

DockerArchiveReadOptions ropts() {
    DockerArchiveReadOptions o;
    o.cancel = nullptr;
    return o;
}

TEST(DockerArchive, WriteThenReadDigestByDigest) {
    TempDir work;
    fs::create_directories(work / "blobs");
    fs::create_directories(work / "staging");
    auto img = test::make_image(work / "blobs");
    ASSERT_TRUE(write_docker_archive(img, work / "app.tar", wopts()));

    // docker save layout, checked with libarchive independently of the reader.
    auto members = test::read_tar_file(work / "app.tar");
    std::vector<std::string> names;
    for (const auto& m : members) {
        names.push_back(m.path);
    }
    std::vector<std::string> expected = {img.config.descriptor.digest.hex() + ".json", img.layers[0].diff_id.hex() + ".tar",
                                         img.layers[1].diff_id.hex() + ".tar", "manifest.json"};
    EXPECT_EQ(names, expected);
    EXPECT_EQ(members[0].content, img.config.bytes);
    EXPECT_EQ(Digest::of(members[1].content), img.layers[0].diff_id); // uncompressed layer tar
    auto manifest = nlohmann::json::parse(members[3].content);
    EXPECT_EQ(manifest[0]["RepoTags"][0], "localhost:5000/edge/app:1.0");
    EXPECT_EQ(manifest[0]["Config"], expected[0]);
    EXPECT_EQ(manifest[0]["Layers"], nlohmann::json({expected[1], expected[2]}));

    auto back = read_docker_archive(work / "app.tar", work / "staging", ropts());
    ASSERT_TRUE(back) << back.error().what();
    EXPECT_EQ(back->repo_tags, std::vector<std::string>{"localhost:5000/edge/app:1.0"});
    EXPECT_EQ(back->image.config.bytes, img.config.bytes);
    EXPECT_EQ(back->image.config.descriptor.digest, img.config.descriptor.digest);
    ASSERT_EQ(back->image.layers.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(back->image.layers[i].diff_id, img.layers[i].diff_id);
        EXPECT_EQ(back->image.layers[i].descriptor.media_type, media_type::docker_layer);
        EXPECT_EQ(back->image.layers[i].descriptor.digest, img.layers[i].diff_id);
        EXPECT_TRUE(fs::exists(*back->image.layers[i].local_file()));
    }
    EXPECT_EQ(back->image.format(), ManifestFormat::docker);

    // Recompressing the read image gives back exactly the original layer blobs and config.
    fs::create_directories(work / "recompressed");
    BlobWriterOptions bo;
    bo.cancel = nullptr;
    auto again = compress_layers(back->image, work / "recompressed", ManifestFormat::oci, bo);
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_EQ(again->manifest.descriptor.digest, img.manifest.descriptor.digest);
}

TEST(DockerArchive, SameImageGivesSameArchiveBytes) {
    TempDir work;
    fs::create_directories(work / "blobs");
    auto img = test::make_image(work / "blobs");
    ASSERT_TRUE(write_docker_archive(img, work / "a.tar", wopts()));
    ASSERT_TRUE(write_docker_archive(img, work / "b.tar", wopts()));
    EXPECT_EQ(test::read_text(work / "a.tar"), test::read_text(work / "b.tar"));
    EXPECT_EQ(test::count_files(work.path()), 3u); // blobs/, a.tar, b.tar: no temporaries
}

TEST(DockerArchive, UncompressedLayersAndNoTags) {
    TempDir work;
    fs::create_directories(work / "blobs");
    fs::create_directories(work / "staging");
    auto gz = test::make_image(work / "blobs");
    // Same image with uncompressed layer blobs (the docker-archive → OCI path keeps them so).
    std::vector<ImageLayer> plain;
    for (const auto& l : gz.layers) {
        fs::create_directories(work / "plain");
        auto tar = work / "plain" / l.diff_id.hex();
        test::write_text(tar, test::zlib_gunzip(test::read_text(*l.local_file())));
        ImageLayer p = l;
        p.descriptor = Descriptor::for_bytes(media_type::oci_layer, test::read_text(tar));
        p.source = LocalFile{tar, std::nullopt};
        p.uncompressed_size.reset();
        plain.push_back(p);
    }
    auto img = assemble_image(gz.parsed_config, plain, ManifestFormat::oci).value();
    EXPECT_EQ(img.config.descriptor.digest, gz.config.descriptor.digest);
    ASSERT_TRUE(write_docker_archive(img, work / "p.tar", wopts({})));
    auto back = read_docker_archive(work / "p.tar", work / "staging", ropts());
    ASSERT_TRUE(back) << back.error().what();
    EXPECT_TRUE(back->repo_tags.empty());
    EXPECT_EQ(back->image.layers[1].diff_id, gz.layers[1].diff_id);
    // And from the gzip image with unknown uncompressed sizes (a counting pass is needed).
    auto unknown = gz;
    for (auto& l : unknown.layers) {
        l.uncompressed_size.reset();
    }
    ASSERT_TRUE(write_docker_archive(unknown, work / "u.tar", wopts()));
    ASSERT_TRUE(write_docker_archive(gz, work / "k.tar", wopts()));
    EXPECT_EQ(test::read_text(work / "u.tar"), test::read_text(work / "k.tar"));
}

TEST(DockerArchive, WrongDiffIdRefusedAndNothingWritten) {
    TempDir work;
    fs::create_directories(work / "blobs");
    auto img = test::make_image(work / "blobs");
    img.layers[1].diff_id = img.layers[0].diff_id; // the config says otherwise
    auto r = write_docker_archive(img, work / "bad.tar", wopts());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("does not match the config's"), std::string::npos) << r.error().message();
    EXPECT_FALSE(fs::exists(work / "bad.tar"));
    EXPECT_EQ(test::count_files(work.path()), 1u);
}

TEST(DockerArchive, TruncatedLayerMidWriteLeavesNothing) {
    TempDir work;
    fs::create_directories(work / "blobs");
    auto img = test::make_image(work / "blobs");
    auto path = *img.layers[1].local_file();
    auto bytes = test::read_text(path);
    fs::remove(path); // the blob is a hard-linkable content file: write a new one
    test::write_text(path, bytes.substr(0, bytes.size() / 2));
    auto r = write_docker_archive(img, work / "t.tar", wopts());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("truncated gzip stream"), std::string::npos) << r.error().message();
    EXPECT_FALSE(fs::exists(work / "t.tar"));
    EXPECT_EQ(test::count_files(work.path()), 1u);
}

// A classic `docker save` archive: <id>/layer.tar, a duplicated layer as a symlink, legacy files.
TEST(DockerArchive, ReadsClassicDockerSaveWithLinks) {
    TempDir work;
    fs::create_directories(work / "staging");
    auto layer = test::make_tar({{"etc/", 'd'}, {"etc/hostname", 'f', "edge"}});
    auto diff = Digest::of(layer);
    ImageConfig cfg;
    cfg.append_layer(diff, {});
    cfg.append_layer(diff, {});
    auto cfg_bytes = *canonical_json(cfg.to_json(), "c");
    auto cfg_name = Digest::of(cfg_bytes).hex() + ".json";
    nlohmann::json manifest = nlohmann::json::array(
        {{{"Config", cfg_name}, {"RepoTags", {"edge:1"}}, {"Layers", {"aaa/layer.tar", "bbb/layer.tar"}}}});
    auto tar = test::make_tar({{"aaa/", 'd'},
                               {"aaa/VERSION", 'f', "1.0"},
                               {"aaa/layer.tar", 'f', layer},
                               {"bbb/", 'd'},
                               {"bbb/layer.tar", 'l', "", "../aaa/layer.tar"},
                               {cfg_name, 'f', cfg_bytes},
                               {"manifest.json", 'f', manifest.dump()},
                               {"repositories", 'f', "{}"}});
    test::write_text(work / "save.tar", tar);
    auto r = read_docker_archive(work / "save.tar", work / "staging", ropts());
    ASSERT_TRUE(r) << r.error().what();
    ASSERT_EQ(r->image.layers.size(), 2u);
    EXPECT_EQ(r->image.layers[0].diff_id, diff);
    EXPECT_EQ(r->image.layers[1].diff_id, diff);
    EXPECT_EQ(r->image.config.descriptor.digest, Digest::of(cfg_bytes));
    // Also when the whole archive is gzip-compressed (docker save | gzip).
    test::write_text(work / "save.tar.gz", test::zlib_gzip(tar));
    auto rz = read_docker_archive(work / "save.tar.gz", work / "staging", ropts());
    ASSERT_TRUE(rz) << rz.error().what();
    EXPECT_EQ(rz->repo_tags[0], "edge:1");
    auto by_tag = ropts();
    by_tag.repo_tag = "other:2";
    auto nt = read_docker_archive(work / "save.tar", work / "staging", by_tag);
    ASSERT_FALSE(nt);
    EXPECT_NE(nt.error().message().find("no image tagged \"other:2\""), std::string::npos);
}

TEST(DockerArchive, BadArchivesRefused) {
    TempDir work;
    fs::create_directories(work / "staging");
    auto layer = test::make_tar({{"a", 'f', "a"}});
    ImageConfig cfg;
    cfg.append_layer(Digest::of(layer), {});
    auto cfg_bytes = *canonical_json(cfg.to_json(), "c");
    auto good_name = Digest::of(cfg_bytes).hex() + ".json";
    auto archive = [&](const std::string& cfg_name, const std::string& cfg_content, const std::string& layer_content,
                       bool with_manifest = true) {
        std::vector<test::RawMember> m = {{cfg_name, 'f', cfg_content}, {"l.tar", 'f', layer_content}};
        if (with_manifest) {
            m.push_back({"manifest.json", 'f',
                         nlohmann::json::array({{{"Config", cfg_name}, {"Layers", {"l.tar"}}}}).dump()});
        }
        test::write_text(work / "x.tar", test::make_tar(m));
        return read_docker_archive(work / "x.tar", work / "staging", ropts());
    };
    ASSERT_TRUE(archive(good_name, cfg_bytes, layer));
    auto no_manifest = archive(good_name, cfg_bytes, layer, false);
    EXPECT_NE(no_manifest.error().message().find("no manifest.json"), std::string::npos);
    auto wrong_cfg = archive(std::string(64, 'a') + ".json", cfg_bytes, layer);
    ASSERT_FALSE(wrong_cfg);
    EXPECT_NE(wrong_cfg.error().message().find("digest mismatch"), std::string::npos) << wrong_cfg.error().message();
    auto wrong_layer = archive(good_name, cfg_bytes, test::make_tar({{"b", 'f', "b"}}));
    ASSERT_FALSE(wrong_layer);
    EXPECT_NE(wrong_layer.error().message().find("layer 0 (l.tar): DiffID"), std::string::npos) << wrong_layer.error().message();
    auto evil = archive(good_name, cfg_bytes, test::make_tar({{"../../x", 'f', "b"}}));
    ASSERT_FALSE(evil);
    EXPECT_NE(evil.error().message().find("\"..\" components are not allowed"), std::string::npos);
    auto garbage = work / "garbage.tar";
    test::write_text(garbage, "this is not a tar file at all, not even close............................");
    EXPECT_FALSE(read_docker_archive(garbage, work / "staging", ropts()));
}

} // namespace
} // namespace edgeship::oci
