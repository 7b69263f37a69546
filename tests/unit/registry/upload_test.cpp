// Blob uploads of the transfer client against the in-process registry (fake_registry.hpp): one streamed
// PATCH, chunks, resume from the registry's offset after a cut, retry after a 503, HEAD skip, cross-
// repository mount and its refusal (docs/design/registry.md §2.3-2.5, §11.3-4).

#include "transfer_fixture.hpp"

namespace edgeship::test {
namespace {

using registry::BlobResult;

TEST(RegistryUpload, MonolithicPushSendsEachBlobInOnePatchThenTheManifest) {
    TempDir dir;
    FakeRegistry fake;
    auto a = file_layer(dir.path(), noise(300000, 1));
    auto b = file_layer(dir.path(), noise(120000, 2));
    auto image = image_of({a, b});
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    auto report = reg->push_image(image, ref_on(fake, "app:1.0"));
    ASSERT_TRUE(report) << report.error().what();

    EXPECT_EQ(report->digest, image.manifest.descriptor.digest);
    EXPECT_EQ(fake.manifest("app", "1.0"), image.manifest.bytes);
    EXPECT_EQ(fake.blob("app", a.descriptor.digest.str()), noise(300000, 1));
    EXPECT_EQ(fake.blob("app", b.descriptor.digest.str()), noise(120000, 2));
    EXPECT_TRUE(fake.has_blob("app", image.config.descriptor.digest.str()));
    auto patches = fake.requests_matching("PATCH /v2/app/blobs/uploads/");
    ASSERT_EQ(patches.size(), 3u); // two layers (largest first), then the config
    EXPECT_EQ(patches[0].body_bytes, 300000u);
    EXPECT_EQ(patches[0].content_range, "0-299999");
    EXPECT_EQ(patches[1].body_bytes, 120000u);
    EXPECT_EQ(patches[2].body_bytes, image.config.bytes.size());
    EXPECT_EQ(report->bytes_uploaded, 300000u + 120000u + image.config.bytes.size());
    // The manifest is the last request.
    auto all = fake.requests();
    EXPECT_EQ(all.back().method + " " + all.back().target, "PUT /v2/app/manifests/1.0");
    EXPECT_EQ(fake.open_sessions(), 0u);
}

TEST(RegistryUpload, ChunkedPushSendsContentRangesInOrder) {
    TempDir dir;
    FakeRegistry fake;
    auto a = file_layer(dir.path(), noise(2621440, 3)); // 2.5 MiB
    auto image = image_of({a});
    auto o = fake_options(fake);
    o.chunk_size = 1u << 20;
    auto reg = connect(o);
    ASSERT_TRUE(reg);
    auto report = reg->push_image(image, ref_on(fake, "app:chunked"));
    ASSERT_TRUE(report) << report.error().what();

    auto patches = fake.requests_matching("PATCH /v2/app/blobs/uploads/s1");
    ASSERT_EQ(patches.size(), 3u);
    EXPECT_EQ(patches[0].content_range, "0-1048575");
    EXPECT_EQ(patches[1].content_range, "1048576-2097151");
    EXPECT_EQ(patches[2].content_range, "2097152-2621439");
    EXPECT_EQ(patches[2].body_bytes, 524288u);
    EXPECT_EQ(fake.blob("app", a.descriptor.digest.str()), noise(2621440, 3));
}

TEST(RegistryUpload, CutPatchResumesFromTheRegistrysOffset) {
    TempDir dir;
    FakeRegistry fake;
    const std::size_t size = 3u << 20;
    const std::uint64_t kept = (1u << 20) + 123;
    auto a = file_layer(dir.path(), noise(size, 4));
    auto image = image_of({a});
    fake.cut_next_patch_after(kept);
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    std::vector<registry::BlobEvent::Kind> kinds;
    auto report = reg->push_image(image, ref_on(fake, "app:resumed"),
                                  [&](const registry::BlobEvent& e) { kinds.push_back(e.kind); });
    ASSERT_TRUE(report) << report.error().what();

    EXPECT_EQ(fake.blob("app", a.descriptor.digest.str()), noise(size, 4));
    auto patches = fake.requests_matching("PATCH /v2/app/blobs/uploads/s1");
    ASSERT_EQ(patches.size(), 2u);
    EXPECT_EQ(patches[0].content_range, "0-" + std::to_string(size - 1));
    EXPECT_EQ(patches[0].body_bytes, kept); // what the registry kept before the cut
    // The registry was asked where it stood, and only the rest was sent again.
    EXPECT_EQ(fake.requests_matching("GET /v2/app/blobs/uploads/s1").size(), 1u);
    EXPECT_EQ(patches[1].content_range, std::to_string(kept) + "-" + std::to_string(size - 1));
    EXPECT_EQ(patches[1].body_bytes, size - kept);
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), registry::BlobEvent::Kind::retried), kinds.end());
    EXPECT_EQ(fake.manifest("app", "resumed"), image.manifest.bytes);
}

TEST(RegistryUpload, PatchAnswered503IsResumedAfterAskingTheRegistry) {
    TempDir dir;
    FakeRegistry fake;
    auto a = file_layer(dir.path(), noise(200000, 5));
    auto image = image_of({a});
    fake.fail_once("PATCH /v2/app/blobs/uploads/s1", 503);
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    auto report = reg->push_image(image, ref_on(fake, "app:1"));
    ASSERT_TRUE(report) << report.error().what();
    EXPECT_EQ(fake.requests_matching("GET /v2/app/blobs/uploads/s1").size(), 1u);
    EXPECT_EQ(fake.blob("app", a.descriptor.digest.str()), noise(200000, 5));
}

TEST(RegistryUpload, BlobsTheRegistryHoldsAreSkippedAfterHead) {
    TempDir dir;
    FakeRegistry fake;
    auto a = file_layer(dir.path(), noise(100000, 6));
    auto b = file_layer(dir.path(), noise(50000, 7));
    auto image = image_of({a, b});
    fake.put_blob("app", noise(100000, 6));
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    auto report = reg->push_image(image, ref_on(fake, "app:1"));
    ASSERT_TRUE(report) << report.error().what();

    ASSERT_NE(result_for(*report, a.descriptor.digest), nullptr);
    EXPECT_EQ(result_for(*report, a.descriptor.digest)->outcome, BlobResult::Outcome::skipped_exists);
    EXPECT_EQ(result_for(*report, b.descriptor.digest)->outcome, BlobResult::Outcome::uploaded);
    EXPECT_EQ(fake.requests_matching("POST /v2/app/blobs/uploads/").size(), 2u); // b and the config
    EXPECT_EQ(fake.requests_matching("HEAD /v2/app/blobs/" + a.descriptor.digest.str()).size(), 1u);
    EXPECT_EQ(report->bytes_skipped, 100000u);
}

TEST(RegistryUpload, LayersKnownInAnotherRepositoryAreMounted) {
    TempDir dir;
    FakeRegistry fake;
    auto local = file_layer(dir.path(), noise(80000, 8));
    std::get<oci::LocalFile>(local.source).also_in = oci::RemoteBlob{fake.host(), "team/cache"};
    fake.put_blob("team/cache", noise(80000, 8));
    // A base layer that stays in the registry: never on disk.
    oci::ImageLayer remote = file_layer(dir.path(), noise(60000, 9));
    remote.source = oci::RemoteBlob{fake.host(), "team/base"};
    fake.put_blob("team/base", noise(60000, 9));
    auto image = image_of({local, remote});
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    auto report = reg->push_image(image, ref_on(fake, "app:1"));
    ASSERT_TRUE(report) << report.error().what();

    EXPECT_EQ(result_for(*report, local.descriptor.digest)->outcome, BlobResult::Outcome::mounted);
    EXPECT_EQ(result_for(*report, remote.descriptor.digest)->outcome, BlobResult::Outcome::mounted);
    EXPECT_TRUE(fake.has_blob("app", local.descriptor.digest.str()));
    EXPECT_TRUE(fake.has_blob("app", remote.descriptor.digest.str()));
    EXPECT_EQ(fake.requests_matching("POST /v2/app/blobs/uploads/?mount=" + local.descriptor.digest.str() +
                                     "&from=team/cache")
                  .size(),
              1u);
    EXPECT_EQ(fake.requests_matching("PATCH /v2/app/").size(), 1u); // the config only
}

TEST(RegistryUpload, RefusedMountUploadsTheFileOrStreamsTheRemoteBlobThrough) {
    TempDir dir;
    FakeRegistry fake;
    fake.refuse_mounts();
    auto local = file_layer(dir.path(), noise(80000, 10));
    std::get<oci::LocalFile>(local.source).also_in = oci::RemoteBlob{fake.host(), "team/cache"};
    fake.put_blob("team/cache", noise(80000, 10));
    oci::ImageLayer remote = file_layer(dir.path(), noise(60000, 11));
    std::filesystem::remove(*remote.local_file());
    remote.source = oci::RemoteBlob{fake.host(), "team/base"};
    fake.put_blob("team/base", noise(60000, 11));
    auto image = image_of({local, remote});
    auto o = fake_options(fake);
    o.scratch_dir = dir.path().string();
    auto reg = connect(o);
    ASSERT_TRUE(reg);
    auto report = reg->push_image(image, ref_on(fake, "app:1"));
    ASSERT_TRUE(report) << report.error().what();

    EXPECT_EQ(result_for(*report, local.descriptor.digest)->outcome, BlobResult::Outcome::uploaded);
    EXPECT_EQ(result_for(*report, remote.descriptor.digest)->outcome, BlobResult::Outcome::uploaded);
    EXPECT_EQ(fake.blob("app", local.descriptor.digest.str()), noise(80000, 10));
    EXPECT_EQ(fake.blob("app", remote.descriptor.digest.str()), noise(60000, 11));
    // The remote layer was read from its repository, and the refused mount's empty session deleted.
    EXPECT_EQ(fake.requests_matching("GET /v2/team/base/blobs/" + remote.descriptor.digest.str()).size(), 1u);
    EXPECT_GE(fake.requests_matching("DELETE /v2/app/blobs/uploads/").size(), 1u);
    EXPECT_EQ(fake.open_sessions(), 0u);
}

} // namespace
} // namespace edgeship::test
