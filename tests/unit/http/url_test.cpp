#include "http/url.hpp"

#include <gtest/gtest.h>

namespace edgeship::http {
namespace {

TEST(Url, PercentEncodesEverythingButUnreserved) {
    EXPECT_EQ(percent_encode("$edgeAgent"), "%24edgeAgent"); // reference/iothub.md §7.1
    EXPECT_EQ(percent_encode("a/b c+d=e"), "a%2Fb%20c%2Bd%3De");
    EXPECT_EQ(percent_encode("A-z_0.9~"), "A-z_0.9~");
    EXPECT_EQ(percent_encode("a/b", HexCase::lower), "a%2fb");
    EXPECT_EQ(percent_encode("\xc3\xa9"), "%C3%A9");
}

TEST(Url, DecodeRoundTripsAndKeepsMalformedEscapes) {
    EXPECT_EQ(percent_decode("%24edgeAgent"), "$edgeAgent");
    EXPECT_EQ(percent_decode("a%2fb"), "a/b");
    EXPECT_EQ(percent_decode("100%"), "100%");
    EXPECT_EQ(percent_decode("%zz"), "%zz");
    EXPECT_EQ(percent_decode(percent_encode("dev:1@x;$'")), "dev:1@x;$'");
}

TEST(Url, BuildUrlEncodesSegmentsAndQuery) {
    EXPECT_EQ(build_url("https://h", {"twins", "d 1", "modules", "$edgeAgent"}, {{"api-version", "2021-04-12"}}),
              "https://h/twins/d%201/modules/%24edgeAgent?api-version=2021-04-12");
    EXPECT_EQ(build_url("https://h:8443", {"configurations", "a/b"}), "https://h:8443/configurations/a%2Fb");
}

TEST(Url, StripQueryAndScheme) {
    EXPECT_EQ(strip_query("https://h/p?x=1#f"), "https://h/p");
    EXPECT_EQ(url_scheme("HTTPS://h"), "https");
    EXPECT_EQ(url_scheme("h/p"), "");
}

} // namespace
} // namespace edgeship::http
