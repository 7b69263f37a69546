// Streamed request bodies (exact Content-Length, never chunked), response sinks and redirect handling
// of http::Client against a real socket server on 127.0.0.1 (tests/unit/http/test_server.hpp).

#include "http/client.hpp"
#include "http/url.hpp"
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace edgeship::http {
namespace {

using test::RawReply;
using test::RawRequest;
using test::TestServer;

Client make_client() {
    ClientOptions o;
    o.allow_http = AllowHttp::yes;
    o.retry.initial_delay = std::chrono::milliseconds(1);
    o.retry.max_delay = std::chrono::milliseconds(5);
    o.request_timeout = std::chrono::milliseconds(10000);
    return Client::create(std::move(o)).value();
}

// A body source over a string, read in pieces of at most `piece` bytes; counts rewinds.
struct StringSource {
    std::string data;
    std::size_t pos = 0;
    std::size_t piece = 7;
    int rewinds = 0;
    BodySource source() {
        BodySource s;
        s.size = data.size();
        s.read = [this](char* buf, std::size_t len) -> Result<std::size_t> {
            std::size_t n = std::min({len, piece, data.size() - pos});
            std::copy_n(data.data() + pos, n, buf);
            pos += n;
            return n;
        };
        s.rewind = [this]() -> Result<void> {
            pos = 0;
            ++rewinds;
            return {};
        };
        return s;
    }
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>((i * 31 + 7) & 0xff);
    }
    return s;
}

TEST(Streaming, BodySourceSendsExactContentLengthNeverChunked) {
    TestServer server([](const RawRequest&) { return test::reply(202); });
    auto client = make_client();
    StringSource src{pattern(300000)};
    Request req;
    req.method = "PATCH";
    req.url = server.url("/v2/a/blobs/uploads/x?_state=1");
    req.headers = {{"Content-Type", "application/octet-stream"}};
    req.body_source = src.source();
    auto r = client.send(req);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->status, 202);
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].method, "PATCH");
    EXPECT_EQ(reqs[0].target, "/v2/a/blobs/uploads/x?_state=1");
    EXPECT_FALSE(reqs[0].chunked);
    EXPECT_FALSE(reqs[0].has_header("Transfer-Encoding"));
    EXPECT_EQ(reqs[0].header("Content-Length"), "300000");
    EXPECT_EQ(reqs[0].header("Content-Type"), "application/octet-stream");
    EXPECT_EQ(reqs[0].body, src.data);
}

TEST(Streaming, EmptyBodySourceSendsContentLengthZero) {
    TestServer server([](const RawRequest&) { return test::reply(201); });
    auto client = make_client();
    StringSource src{""};
    Request req;
    req.method = "PUT";
    req.url = server.url("/x");
    req.body_source = src.source();
    auto r = client.send(req);
    ASSERT_TRUE(r) << r.error().what();
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].header("Content-Length"), "0");
    EXPECT_FALSE(reqs[0].chunked);
}

TEST(Streaming, RetryRewindsTheBodySource) {
    int n = 0;
    TestServer server([&n](const RawRequest&) { return ++n == 1 ? test::reply(503) : test::reply(201); });
    auto client = make_client();
    StringSource src{pattern(50000)};
    Request req;
    req.method = "PUT";
    req.url = server.url("/x");
    req.body_source = src.source();
    auto r = client.send(req);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->attempts, 2);
    EXPECT_EQ(src.rewinds, 1);
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].body, src.data);
    EXPECT_EQ(reqs[1].body, src.data);
}

TEST(Streaming, BodySourceWithoutRewindIsNotRetried) {
    TestServer server([](const RawRequest&) { return test::reply(503); });
    auto client = make_client();
    StringSource src{pattern(1000)};
    Request req;
    req.method = "PUT";
    req.url = server.url("/x");
    req.body_source = src.source();
    req.body_source->rewind = nullptr;
    auto r = client.send(req);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Streaming, ShortBodySourceIsAnErrorNotATruncatedUpload) {
    TestServer server([](const RawRequest&) { return test::reply(201); });
    auto client = make_client();
    StringSource src{pattern(100)};
    Request req;
    req.method = "PUT";
    req.url = server.url("/short");
    req.body_source = src.source();
    req.body_source->size = 200; // claims more than it has
    auto r = client.send(req);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("request body ended after 100 of 200 bytes"), std::string::npos)
        << r.error().what();
    EXPECT_NE(r.error().what().find("PUT http://127.0.0.1"), std::string::npos) << r.error().what();
    EXPECT_NE(r.error().code(), ExitCode::interrupted);
}

TEST(Streaming, SourceErrorAbortsWithItsMessage) {
    TestServer server([](const RawRequest&) { return test::reply(201); });
    auto client = make_client();
    Request req;
    req.method = "PATCH";
    req.url = server.url("/x");
    BodySource s;
    s.size = 10;
    s.read = [](char*, std::size_t) -> Result<std::size_t> { return fail("layer.tar: read failed"); };
    req.body_source = s;
    auto r = client.send(req);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("layer.tar: read failed"), std::string::npos) << r.error().what();
}

TEST(Streaming, SinkReceivesSuccessBodyOnly) {
    const std::string blob = pattern(1 << 20);
    TestServer server([&blob](const RawRequest& q) {
        return q.target == "/missing" ? test::reply(404, R"({"errors":[{"code":"BLOB_UNKNOWN"}]})")
                                      : test::reply(200, blob);
    });
    auto client = make_client();
    std::string got;
    Request req;
    req.url = server.url("/blob");
    req.body_sink = [&got](std::string_view c) -> Result<void> {
        got.append(c);
        return {};
    };
    auto r = client.send(req);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body.empty());
    EXPECT_EQ(got, blob);

    got.clear();
    req.url = server.url("/missing");
    auto r2 = client.send(req);
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->status, 404);
    EXPECT_TRUE(got.empty());
    EXPECT_NE(r2->body.find("BLOB_UNKNOWN"), std::string::npos);
}

TEST(Streaming, SinkErrorAbortsTheDownload) {
    TestServer server([](const RawRequest&) { return test::reply(200, pattern(100000)); });
    auto client = make_client();
    Request req;
    req.url = server.url("/blob");
    req.body_sink = [](std::string_view) -> Result<void> { return fail("disk full"); };
    auto r = client.send(req);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("disk full"), std::string::npos) << r.error().what();
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Streaming, CutDownloadIntoSinkIsNotRetriedByTheClient) {
    TestServer server([](const RawRequest&) {
        RawReply r;
        r.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + pattern(1000);
        r.reset = true;
        return r;
    });
    auto client = make_client();
    std::uint64_t got = 0;
    Request req;
    req.url = server.url("/blob");
    req.body_sink = [&got](std::string_view c) -> Result<void> {
        got += c.size();
        return {};
    };
    auto r = client.send(req);
    ASSERT_FALSE(r);
    EXPECT_EQ(got, 1000u); // the caller knows where to resume (Range)
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Streaming, RedirectsAreNotFollowedUnlessAsked) {
    TestServer server([](const RawRequest&) { return test::reply(307, "", {{"Location", "/elsewhere"}}); });
    auto client = make_client();
    Request req;
    req.url = server.url("/blob");
    auto r = client.send(req);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 307);
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Streaming, RedirectToAnotherHostDropsAuthorization) {
    const std::string blob = pattern(5000);
    TestServer storage([&blob](const RawRequest&) { return test::reply(200, blob); });
    TestServer registry([&storage](const RawRequest&) {
        return test::reply(307, "redirecting", {{"Location", storage.url("/bucket/blob?sig=abc")}});
    });
    auto client = make_client();
    std::string got;
    Request req;
    req.url = registry.url("/v2/a/blobs/sha256:x");
    req.headers = {{"Authorization", "Bearer secret-token"}, {"Accept", "*/*"}};
    req.redirects = Redirects::follow;
    req.body_sink = [&got](std::string_view c) -> Result<void> {
        got.append(c);
        return {};
    };
    auto r = client.send(req);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(got, blob); // the 307 body never reached the sink
    EXPECT_EQ(r->url, storage.url("/bucket/blob?sig=abc"));
    ASSERT_EQ(registry.requests().size(), 1u);
    EXPECT_EQ(registry.requests()[0].header("Authorization"), "Bearer secret-token");
    ASSERT_EQ(storage.requests().size(), 1u);
    EXPECT_FALSE(storage.requests()[0].has_header("Authorization"));
    EXPECT_EQ(storage.requests()[0].header("Accept"), "*/*");
    EXPECT_EQ(storage.requests()[0].target, "/bucket/blob?sig=abc");
}

TEST(Streaming, RedirectOnTheSameOriginKeepsAuthorization) {
    int n = 0;
    TestServer server([&n](const RawRequest&) {
        return ++n == 1 ? test::reply(302, "", {{"Location", "/v2/a/blobs/real"}}) : test::reply(200, "data");
    });
    auto client = make_client();
    Request req;
    req.method = "GET";
    req.url = server.url("/v2/a/blobs/sha256:x");
    req.headers = {{"Authorization", "Bearer t"}};
    req.redirects = Redirects::follow;
    auto r = client.send(req);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->body, "data");
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[1].target, "/v2/a/blobs/real");
    EXPECT_EQ(reqs[1].header("Authorization"), "Bearer t");
}

TEST(Streaming, RedirectLoopIsBounded) {
    TestServer server([](const RawRequest&) { return test::reply(302, "", {{"Location", "/again"}}); });
    auto client = make_client();
    Request req;
    req.url = server.url("/start");
    req.redirects = Redirects::follow;
    auto r = client.send(req);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("more than 10 redirects"), std::string::npos);
    EXPECT_EQ(server.requests().size(), 11u);
}

TEST(Streaming, RedirectToHttpRefusedWhenOnlyHttpsIsAllowed) {
    ClientOptions o; // https only
    auto client = Client::create(std::move(o)).value();
    // The refusal happens before any connection: the first URL is already http and refused.
    Request req;
    req.url = "http://127.0.0.1:9/x";
    req.redirects = Redirects::follow;
    auto r = client.send(req);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("only https:// URLs are allowed"), std::string::npos);
}

TEST(Url, OriginNormalizesSchemeHostAndDefaultPort) {
    EXPECT_EQ(url_origin("https://Registry.Example.com/v2/"), "https://registry.example.com:443");
    EXPECT_EQ(url_origin("https://registry.example.com:443/x?y"), "https://registry.example.com:443");
    EXPECT_EQ(url_origin("http://127.0.0.1:5000/v2/"), "http://127.0.0.1:5000");
    EXPECT_EQ(url_origin("http://u:p@h/x"), "http://h:80");
    EXPECT_EQ(url_origin("https://[::1]/x"), "https://[::1]:443");
    EXPECT_EQ(url_origin("https://[::1]:5000"), "https://[::1]:5000");
    EXPECT_EQ(url_origin("/relative"), "");
    EXPECT_NE(url_origin("http://127.0.0.1:5000/"), url_origin("http://127.0.0.1:5001/"));
}

TEST(Url, ResolveLocationForms) {
    const std::string base = "https://r.io:5000/v2/a/b/blobs/uploads/?mount=x";
    EXPECT_EQ(resolve_url(base, "https://s3.example/bucket?X-Sig=1"), "https://s3.example/bucket?X-Sig=1");
    EXPECT_EQ(resolve_url(base, "//cdn.example/p"), "https://cdn.example/p");
    EXPECT_EQ(resolve_url(base, "/v2/a/b/blobs/uploads/uuid?_state=abc"),
              "https://r.io:5000/v2/a/b/blobs/uploads/uuid?_state=abc");
    EXPECT_EQ(resolve_url(base, "uuid?_state=1"), "https://r.io:5000/v2/a/b/blobs/uploads/uuid?_state=1");
    EXPECT_EQ(resolve_url("https://r.io", "/v2/"), "https://r.io/v2/");
    EXPECT_EQ(resolve_url("https://r.io/a/b", "?q=1"), "https://r.io/a/b?q=1");
}

} // namespace
} // namespace edgeship::http
