// Pure protocol pieces of the transfer client (lib/registry/protocol.hpp; docs/design/registry.md §2-§4).

#include "registry/protocol.hpp"

#include <gtest/gtest.h>

namespace edgeship::registry {
namespace {

const oci::Digest k_digest =
    oci::Digest::parse("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a").value();

http::Response answer(long status, std::string body, http::Headers headers = {}) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

TEST(ClientProtocol, AppendDigestKeepsTheLocationQuery) {
    // distribution 2.8.2 returns absolute locations ending in ?_state=… (§2.4).
    EXPECT_EQ(append_digest("http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=xyz", k_digest),
              "http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=xyz&digest=" + k_digest.str());
    EXPECT_EQ(append_digest("https://r.io/v2/a/blobs/uploads/u", k_digest),
              "https://r.io/v2/a/blobs/uploads/u?digest=" + k_digest.str());
}

TEST(ClientProtocol, RangeParsing) {
    EXPECT_EQ(parse_range_end("0-1048575"), 1048575u);
    EXPECT_EQ(parse_range_end(" 0-9 "), 9u);
    EXPECT_EQ(parse_range_end("bytes=0-99"), 99u);
    EXPECT_FALSE(parse_range_end(""));
    EXPECT_FALSE(parse_range_end("5-9"));  // uploads always start at 0
    EXPECT_FALSE(parse_range_end("0-"));
    EXPECT_FALSE(parse_range_end("0-x"));
    EXPECT_FALSE(parse_range_end("garbage"));
}

TEST(ClientProtocol, ResumeOffsetFollowsTheRegistry) {
    EXPECT_EQ(resume_offset("0-999999"), 1000000u);
    EXPECT_EQ(resume_offset("0-0"), 0u); // distribution's answer for an empty session
    EXPECT_FALSE(resume_offset("bogus"));
}

TEST(ClientProtocol, ErrorBodyJson) {
    auto e = parse_error_body(
        R"({"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:ab"},)"
        R"({"code":"DENIED","message":"no","detail":{"x":1}}]})");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].code, "MANIFEST_BLOB_UNKNOWN");
    EXPECT_EQ(e[0].message, "blob unknown to registry");
    EXPECT_EQ(e[0].detail, "sha256:ab");
    EXPECT_EQ(e[1].detail, R"({"x":1})");
}

TEST(ClientProtocol, ErrorBodyLenient) {
    EXPECT_TRUE(parse_error_body("<html><body>413 Request Entity Too Large</body></html>").empty());
    EXPECT_TRUE(parse_error_body("").empty());
    EXPECT_TRUE(parse_error_body(R"({"errors":"not a list"})").empty());
    EXPECT_TRUE(parse_error_body(R"([1,2])").empty());
    auto e = parse_error_body(R"({"errors":[42,{"message":"only a message"}]})");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, "");
    EXPECT_EQ(e[0].message, "only a message");
}

TEST(ClientProtocol, DescribeAnswer) {
    EXPECT_EQ(describe_answer(answer(500, R"({"errors":[{"code":"UNKNOWN","message":"unknown error"}]})")),
              "registry answered 500 Internal Server Error: UNKNOWN: unknown error");
    EXPECT_EQ(describe_answer(answer(413, "<html><head><title>413</title></head><body><h1>Request Entity Too "
                                          "Large</h1></body></html>")),
              "registry answered 413 Payload Too Large: 413 Request Entity Too Large");
    EXPECT_EQ(describe_answer(answer(404, "")), "registry answered 404 Not Found");
    auto r = answer(400, R"({"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match"}]})");
    r.reason = "Bad Request";
    EXPECT_EQ(describe_answer(r), "registry answered 400 Bad Request: DIGEST_INVALID: provided digest did not match");
    EXPECT_TRUE(has_error_code(r, "DIGEST_INVALID"));
    EXPECT_FALSE(has_error_code(r, "BLOB_UNKNOWN"));
    // Secrets in bodies never reach messages.
    auto secret = describe_answer(answer(401, "bad token: access_token=abc123"));
    EXPECT_EQ(secret.find("abc123"), std::string::npos) << secret;
}

TEST(ClientProtocol, RecoverableStatuses) {
    for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) {
        EXPECT_TRUE(recoverable_status(s)) << s;
    }
    for (long s : {200L, 202L, 400L, 401L, 403L, 404L, 413L, 416L}) {
        EXPECT_FALSE(recoverable_status(s)) << s;
    }
    http::RetryPolicy base;
    auto p = registry_retry_policy(base);
    for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) {
        EXPECT_TRUE(p.retries_status(s)) << s;
    }
    EXPECT_FALSE(p.retries_status(404));
}

TEST(ClientProtocol, ContentDigestCheck) {
    std::string good = k_digest.str();
    std::string bad = "sha256:" + std::string(64, '0');
    EXPECT_TRUE(check_content_digest(&good, k_digest, "manifest"));
    EXPECT_TRUE(check_content_digest(nullptr, k_digest, "manifest")); // old registries send none
    auto r = check_content_digest(&bad, k_digest, "PUT manifest sha256:4413");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "PUT manifest sha256:4413: registry answered digest " + bad + ", expected " +
                                       k_digest.str());
}

TEST(ClientProtocol, InvalidTokenChallenge) {
    EXPECT_TRUE(is_invalid_token({R"(Bearer realm="http://a/token",service="s",error="invalid_token")"}));
    EXPECT_FALSE(is_invalid_token({R"(Bearer realm="http://a/token",error="insufficient_scope")"}));
    EXPECT_FALSE(is_invalid_token({R"(Basic realm="x")"}));
}

TEST(ClientProtocol, HeadersWarningsAndChunkMin) {
    auto r = answer(200, "", {{"Warning", R"(299 - "this registry is deprecated")"},
                              {"warning", "199 - \"misc\""},
                              {"WWW-Authenticate", "Basic realm=a"},
                              {"www-authenticate", "Bearer realm=b"},
                              {"OCI-Chunk-Min-Length", "5242880"}});
    auto w = warnings_299(r);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0], "this registry is deprecated");
    EXPECT_EQ(header_values(r, "WWW-Authenticate").size(), 2u);
    EXPECT_EQ(chunk_min_length(r), 5242880u);
    EXPECT_FALSE(chunk_min_length(answer(202, "")));
}

} // namespace
} // namespace edgeship::registry
