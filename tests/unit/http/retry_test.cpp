#include "http/client.hpp"
#include "http/error.hpp"
#include "http/retry.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::http {
namespace {

using namespace std::chrono_literals;

TEST(Retry, BackoffGrowsAndIsCapped) {
    RetryPolicy p;
    p.initial_delay = 10s;
    p.multiplier = 2;
    p.max_delay = 30s;
    p.jitter = 0;
    EXPECT_EQ(backoff_delay(p, 1, 0.5), 10s);
    EXPECT_EQ(backoff_delay(p, 2, 0.5), 20s);
    EXPECT_EQ(backoff_delay(p, 3, 0.5), 30s);
    EXPECT_EQ(backoff_delay(p, 9, 0.5), 30s);
}

TEST(Retry, JitterStaysWithinItsBand) {
    RetryPolicy p;
    p.initial_delay = 1000ms;
    p.jitter = 0.2;
    EXPECT_EQ(backoff_delay(p, 1, 0.0), 800ms);
    EXPECT_EQ(backoff_delay(p, 1, 0.5), 1000ms);
    EXPECT_EQ(backoff_delay(p, 1, 1.0), 1200ms);
}

TEST(Retry, StatusesRetried) {
    RetryPolicy p;
    EXPECT_TRUE(p.retries_status(429));
    EXPECT_TRUE(p.retries_status(503));
    EXPECT_FALSE(p.retries_status(500));
    EXPECT_FALSE(p.retries_status(401));
    EXPECT_FALSE(p.retries_status(404));
}

TEST(Retry, RetryAfterSecondsAndDates) {
    auto now = std::chrono::system_clock::from_time_t(784111777); // Sun, 06 Nov 1994 08:49:37 GMT
    EXPECT_EQ(parse_retry_after("120", now), std::chrono::milliseconds(120000));
    EXPECT_EQ(parse_retry_after(" 3 ", now), std::chrono::milliseconds(3000));
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), std::chrono::milliseconds(10000));
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now), std::chrono::milliseconds(0));
    EXPECT_FALSE(parse_retry_after("", now).has_value());
    EXPECT_FALSE(parse_retry_after("soon", now).has_value());
    EXPECT_FALSE(parse_retry_after("-5", now).has_value());
}

TEST(Client, RefusesPlainHttpUnlessAllowed) {
    auto c = Client::create({});
    ASSERT_TRUE(c);
    auto r = c->send({"GET", "http://127.0.0.1:9/x?sig=secret", {}, ""});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "GET http://127.0.0.1:9/x: only https:// URLs are allowed");
    EXPECT_EQ(c->requests_sent(), 0u);
}

TEST(Client, MissingCaFileIsAnError) {
    ClientOptions o;
    o.tls.ca_file = "/nonexistent/ca.pem";
    auto c = Client::create(o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().what(), "/nonexistent/ca.pem: CA file not found (or not a regular file)");
}

TEST(Client, UserAgentNamesVersionOsAndArch) {
    std::string ua = default_user_agent("1.2.3");
    EXPECT_TRUE(ua.starts_with("edgeship/1.2.3 (")) << ua;
    EXPECT_TRUE(ua.ends_with(")")) << ua;
    EXPECT_NE(ua.find('/', 14), std::string::npos) << ua;
}

TEST(Error, DescribeCarriesMethodUrlStatusCodeAndAttempts) {
    Request req{"POST", "https://h/devices/d/applyConfigurationContent?api-version=2021-04-12&sig=x", {}, ""};
    Response resp;
    resp.status = 429;
    resp.attempts = 4;
    auto f = make_failure(req, resp, "ThrottlingException", "wait sig=abc");
    EXPECT_TRUE(f.retryable);
    EXPECT_EQ(describe(f), "POST https://h/devices/d/applyConfigurationContent: 429 Too Many Requests: "
                           "ThrottlingException: wait sig=<redacted> (gave up after 4 attempts)");
    EXPECT_EQ(to_error(f, ExitCode::auth).code(), ExitCode::auth);
    Response nf;
    nf.status = 404;
    nf.reason = "Not Found";
    EXPECT_FALSE(make_failure(req, nf, "", "").retryable);
}

TEST(Response, HeaderLookupIsCaseInsensitive) {
    Response r;
    r.headers = {{"X-Ms-Continuation", "abc"}, {"iothub-errorcode", "DeviceNotFound"}};
    ASSERT_NE(r.header("x-ms-continuation"), nullptr);
    EXPECT_EQ(*r.header("x-ms-continuation"), "abc");
    EXPECT_EQ(r.header("retry-after"), nullptr);
}

} // namespace
} // namespace edgeship::http
