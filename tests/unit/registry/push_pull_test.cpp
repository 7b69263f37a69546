// Whole-image transfers against the in-process registry (fake_registry.hpp): Basic and Bearer
// authentication, no manifest unless every blob is there, the registry's manifest digest checked, pulls
// verifying blob digests, images read with their layers left in the registry (docs/design/registry.md
// §3, §5, §11).

#include "transfer_fixture.hpp"

#include "oci/layout.hpp"

namespace edgeship::test {
namespace {

registry::Credential basic(const std::string& user, const std::string& password) {
    registry::Credential c;
    c.kind = registry::Credential::Kind::basic;
    c.username = user;
    c.secret = password;
    return c;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(RegistryPush, BasicAuthAnswersTheChallengeAndKeepsTheHeader) {
    TempDir dir;
    FakeRegistry::Options fo;
    fo.auth = FakeRegistry::Auth::basic;
    FakeRegistry fake(fo);
    auto image = image_of({file_layer(dir.path(), noise(40000, 20))});
    auto o = fake_options(fake);
    o.credential = basic("alice", "s3cret");
    auto reg = connect(o);
    ASSERT_TRUE(reg);
    auto report = reg->push_image(image, ref_on(fake, "app:1"));
    ASSERT_TRUE(report) << report.error().what();
    EXPECT_EQ(fake.manifest("app", "1"), image.manifest.bytes);
    // One challenge, then every request carries the credential.
    auto all = fake.requests();
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.front().authorization, "");
    for (std::size_t i = 1; i < all.size(); ++i) {
        EXPECT_TRUE(all[i].authorization.starts_with("Basic ")) << all[i].method << " " << all[i].target;
    }

    o.credential = basic("alice", "wrong");
    auto denied = connect(o);
    ASSERT_TRUE(denied);
    auto r = denied->ping();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::auth);
}

TEST(RegistryPush, BearerTokenIsFetchedForTheRepositoryScope) {
    TempDir dir;
    FakeRegistry::Options fo;
    fo.auth = FakeRegistry::Auth::bearer;
    FakeRegistry fake(fo);
    auto image = image_of({file_layer(dir.path(), noise(40000, 21))});
    auto o = fake_options(fake);
    o.credential = basic("alice", "s3cret");
    auto reg = connect(o);
    ASSERT_TRUE(reg);
    auto report = reg->push_image(image, ref_on(fake, "team/app:1"));
    ASSERT_TRUE(report) << report.error().what();
    EXPECT_EQ(fake.manifest("team/app", "1"), image.manifest.bytes);
    auto scopes = fake.token_scopes();
    ASSERT_FALSE(scopes.empty());
    EXPECT_EQ(scopes.front(), "repository:team/app:pull,push");
    EXPECT_EQ(fake.requests_matching("PUT /v2/team/app/manifests/1").back().authorization, "Bearer fake-token-1");

    o.credential = basic("alice", "wrong");
    auto denied = connect(o);
    ASSERT_TRUE(denied);
    auto r = denied->push_image(image, ref_on(fake, "team/app:2"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::auth);
}

TEST(RegistryPush, NoManifestIsPutWhenABlobFails) {
    TempDir dir;
    FakeRegistry fake;
    auto a = file_layer(dir.path(), noise(90000, 22));
    auto b = file_layer(dir.path(), noise(30000, 23));
    auto image = image_of({a, b});
    fake.fail_once("PUT /v2/app/blobs/uploads/s2", 400); // the second layer's closing PUT
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    auto report = reg->push_image(image, ref_on(fake, "app:1"));
    ASSERT_FALSE(report);
    EXPECT_TRUE(contains(report.error().what(), "PUT digest")) << report.error().what();
    EXPECT_TRUE(fake.requests_matching("PUT /v2/app/manifests/").empty());
    EXPECT_FALSE(fake.manifest("app", "1"));
    EXPECT_EQ(fake.open_sessions(), 0u); // the failed session was deleted
}

TEST(RegistryPush, ManifestDigestMismatchIsAnError) {
    TempDir dir;
    FakeRegistry fake;
    fake.lie_about_manifest_digest();
    auto image = image_of({file_layer(dir.path(), noise(10000, 24))});
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    auto report = reg->push_image(image, ref_on(fake, "app:1"));
    ASSERT_FALSE(report);
    EXPECT_TRUE(contains(report.error().what(), image.manifest.descriptor.digest.str())) << report.error().what();
}

TEST(RegistryPush, UnchangedRePushCostsOneHead) {
    TempDir dir;
    FakeRegistry fake;
    auto image = image_of({file_layer(dir.path(), noise(10000, 25))});
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    ASSERT_TRUE(reg->push_image(image, ref_on(fake, "app:1")));
    const auto before = fake.requests().size();
    auto again = reg->push_image(image, ref_on(fake, "app:1"));
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_TRUE(again->up_to_date);
    auto after = fake.requests();
    ASSERT_EQ(after.size(), before + 1);
    EXPECT_EQ(after.back().method + " " + after.back().target, "HEAD /v2/app/manifests/1");
}

class RegistryPull : public ::testing::Test {
protected:
    void SetUp() override {
        a = file_layer(dir.path(), noise(70000, 30));
        b = file_layer(dir.path(), noise(20000, 31));
        image = image_of({a, b});
        fake.put_blob("base", noise(70000, 30));
        fake.put_blob("base", noise(20000, 31));
        fake.put_blob("base", image.config.bytes);
        fake.put_manifest("base", "1", image.manifest.bytes, image.manifest.descriptor.media_type);
    }
    TempDir dir;
    FakeRegistry fake;
    oci::ImageLayer a, b;
    oci::LocalImage image;
};

TEST_F(RegistryPull, PullWritesVerifiedBlobsAndTheTag) {
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    auto layout = oci::OciLayout::create(dir.path() / "layout").value();
    auto report = reg->pull_to_layout(ref_on(fake, "base:1"), layout, std::nullopt, "", {});
    ASSERT_TRUE(report) << report.error().what();
    EXPECT_EQ(report->digest, image.manifest.descriptor.digest);
    EXPECT_TRUE(layout.has_blob(a.descriptor.digest));
    EXPECT_TRUE(layout.has_blob(b.descriptor.digest));
    EXPECT_TRUE(layout.has_blob(image.config.descriptor.digest));
    EXPECT_EQ(read_text(layout.blob_path(a.descriptor.digest)), noise(70000, 30));
}

TEST_F(RegistryPull, BlobWithTheWrongBytesFailsThePull) {
    fake.serve_wrong_bytes(a.descriptor.digest.str(), noise(70000, 99));
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    auto layout = oci::OciLayout::create(dir.path() / "layout").value();
    auto report = reg->pull_to_layout(ref_on(fake, "base:1"), layout, std::nullopt, "", {});
    ASSERT_FALSE(report);
    EXPECT_TRUE(contains(report.error().what(), "digest")) << report.error().what();
    EXPECT_FALSE(layout.has_blob(a.descriptor.digest));
}

TEST_F(RegistryPull, GetImageLeavesTheLayersInTheRegistry) {
    auto reg = connect(fake_options(fake));
    ASSERT_TRUE(reg);
    auto remote = reg->get_image(ref_on(fake, "base:1"), oci::Platform{});
    ASSERT_TRUE(remote) << remote.error().what();
    ASSERT_EQ(remote->layers.size(), 2u);
    for (const auto& l : remote->layers) {
        EXPECT_EQ(l.local_file(), nullptr);
        ASSERT_NE(l.in_registry(), nullptr);
        EXPECT_EQ(*l.in_registry(), (oci::RemoteBlob{fake.host(), "base"}));
    }
    EXPECT_TRUE(fake.requests_matching("GET /v2/base/blobs/" + a.descriptor.digest.str()).empty());
}

} // namespace
} // namespace edgeship::test
