#include "oci/digest.hpp"
#include "oci/platform.hpp"
#include "oci/reference.hpp"

#include <gtest/gtest.h>

namespace edgeship::oci {
namespace {

const std::string k_hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(Digest, ParsesSha256) {
    auto d = Digest::parse("sha256:" + k_hex);
    ASSERT_TRUE(d) << d.error().what();
    EXPECT_EQ(d->hex(), k_hex);
    EXPECT_EQ(d->str(), "sha256:" + k_hex);
    EXPECT_EQ(d->short_str(), "sha256:0123456789ab");
}

TEST(Digest, RefusesMalformed) {
    EXPECT_NE(Digest::parse(k_hex).error().message().find("expected <algorithm>:<hex>"), std::string::npos);
    EXPECT_NE(Digest::parse("md5:abc").error().message().find("unsupported algorithm \"md5\""), std::string::npos);
    EXPECT_NE(Digest::parse("sha256:abc").error().message().find("64 hex characters, got 3"), std::string::npos);
    std::string upper = k_hex;
    upper[0] = 'A';
    EXPECT_NE(Digest::parse("sha256:" + upper).error().message().find("lower-case"), std::string::npos);
}

TEST(Digest, OfBytesMatchesKnownValues) {
    // sha256("") and the OCI empty descriptor blob "{}" (docs/design/registry.md §3.3).
    EXPECT_EQ(Digest::of("").str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Digest::of("{}").str(), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

struct RefCase {
    const char* text;
    const char* registry;
    const char* repository;
    const char* tag;
    const char* familiar;
};

// Stable, readable ctest names (the default prints the struct's bytes, pointers included).
void PrintTo(const RefCase& c, std::ostream* os) { *os << '"' << c.text << '"'; }

class ReferenceOk : public ::testing::TestWithParam<RefCase> {};

TEST_P(ReferenceOk, Normalizes) {
    const auto& c = GetParam();
    auto r = Reference::parse(c.text);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->registry, c.registry);
    EXPECT_EQ(r->repository, c.repository);
    EXPECT_EQ(r->tag, c.tag);
    EXPECT_EQ(r->familiar(), c.familiar);
    // Parsing the normalized form gives the same reference.
    auto again = Reference::parse(r->str());
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *r);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReferenceOk,
    ::testing::Values(RefCase{"ubuntu", "docker.io", "library/ubuntu", "latest", "ubuntu:latest"},
                      RefCase{"ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", "ubuntu:22.04"},
                      RefCase{"docker.io/ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", "ubuntu:22.04"},
                      RefCase{"index.docker.io/library/ubuntu", "docker.io", "library/ubuntu", "latest", "ubuntu:latest"},
                      RefCase{"team/app:1.0", "docker.io", "team/app", "1.0", "team/app:1.0"},
                      RefCase{"localhost/app", "localhost", "app", "latest", "localhost/app:latest"},
                      RefCase{"localhost:5000/a/b/c:v1", "localhost:5000", "a/b/c", "v1", "localhost:5000/a/b/c:v1"},
                      RefCase{"127.0.0.1:5000/test/img:1", "127.0.0.1:5000", "test/img", "1", "127.0.0.1:5000/test/img:1"},
                      RefCase{"[::1]:5000/img:x", "[::1]:5000", "img", "x", "[::1]:5000/img:x"},
                      RefCase{"myacr.azurecr.io/edge/module:0.0.1-amd64", "myacr.azurecr.io", "edge/module",
                              "0.0.1-amd64", "myacr.azurecr.io/edge/module:0.0.1-amd64"},
                      RefCase{"Registry/app", "Registry", "app", "latest", "Registry/app:latest"},
                      RefCase{"a.b/x__y/p-q--r/s.t:_T.1-x", "a.b", "x__y/p-q--r/s.t", "_T.1-x", "a.b/x__y/p-q--r/s.t:_T.1-x"}));

TEST(Reference, DigestAndTag) {
    auto r = Reference::parse("127.0.0.1:5000/app:1@sha256:" + k_hex);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->tag, "1");
    ASSERT_TRUE(r->digest);
    EXPECT_EQ(r->manifest_ref(), "sha256:" + k_hex);
    EXPECT_EQ(r->str(), "127.0.0.1:5000/app:1@sha256:" + k_hex);
    auto d = Reference::parse("ubuntu@sha256:" + k_hex);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->tag, "");
    EXPECT_EQ(d->str(), "docker.io/library/ubuntu@sha256:" + k_hex);
}

TEST(Reference, ApiHostAndHelpers) {
    auto hub = *Reference::parse("ubuntu");
    EXPECT_EQ(hub.api_host(), "registry-1.docker.io");
    EXPECT_EQ(hub.name(), "docker.io/library/ubuntu");
    EXPECT_EQ(hub.manifest_ref(), "latest");
    auto local = *Reference::parse("localhost:5000/x");
    EXPECT_EQ(local.api_host(), "localhost:5000");
    EXPECT_EQ(local.with_tag("2").str(), "localhost:5000/x:2");
    auto pinned = local.with_digest(Digest::from_sha256_hex(k_hex));
    EXPECT_EQ(pinned.manifest_ref(), "sha256:" + k_hex);
}

struct BadCase {
    const char* text;
    const char* message_part;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << '"' << c.text << '"'; }

class ReferenceBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(ReferenceBad, OneClearLine) {
    auto r = Reference::parse(GetParam().text);
    ASSERT_FALSE(r) << GetParam().text;
    auto msg = r.error().what();
    EXPECT_NE(msg.find(std::string("invalid reference \"") + GetParam().text + "\""), std::string::npos) << msg;
    EXPECT_NE(msg.find(GetParam().message_part), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReferenceBad,
    ::testing::Values(BadCase{"", "empty"}, BadCase{"Ubuntu", "must be lower case"},
                      BadCase{"localhost:5000/App:1", "must be lower case"},
                      BadCase{"ubuntu:-bad", "tag \"-bad\""}, BadCase{"ubuntu:", "tag \"\""},
                      BadCase{"ubuntu@sha256:abc", "64 hex characters"}, BadCase{"ubuntu@md5:abc", "unsupported algorithm"},
                      BadCase{"a//b", "empty path component"}, BadCase{"a/b/", "empty path component"},
                      BadCase{"localhost:99999/x", "port must be a number"}, BadCase{"localhost:/x", "empty port"},
                      BadCase{"bad_host.com:5000/x", "invalid host name"}, BadCase{"a..b/x", "invalid host name"},
                      BadCase{"x/-y", "must be [a-z0-9]"}, BadCase{"x y", "white space"},
                      BadCase{"localhost:5000/", "missing repository name"}, BadCase{":tag", "missing repository"}));

TEST(Reference, TooLong) {
    std::string repo(250, 'a');
    auto r = Reference::parse("registry.example.com/" + repo);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("exceed 255"), std::string::npos);
    std::string tag(129, 't');
    EXPECT_FALSE(Reference::parse("x:" + tag));
    EXPECT_TRUE(Reference::parse("x:" + std::string(128, 't')));
}

TEST(Platform, ParsesBothForms) {
    auto a = Platform::parse("linux/arm/v7");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->architecture, "arm");
    EXPECT_EQ(a->variant, "v7");
    EXPECT_EQ(a->iotedge_name(), "arm32v7");
    EXPECT_EQ(a->str(), "linux/arm/v7");
    auto b = Platform::parse("arm32v7");
    ASSERT_TRUE(b);
    EXPECT_EQ(*a, *b);
    auto c = Platform::parse("amd64");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->str(), "linux/amd64");
    EXPECT_EQ(Platform::parse("arm64v8")->str(), "linux/arm64/v8");
    EXPECT_EQ(Platform::parse("linux/arm64")->iotedge_name(), "arm64v8");
    auto bad = Platform::parse("linux");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("invalid platform \"linux\""), std::string::npos);
    EXPECT_FALSE(Platform::parse("linux//v7"));
    EXPECT_FALSE(Platform::parse("Linux/AMD64"));
}

} // namespace
} // namespace edgeship::oci
