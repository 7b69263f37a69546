#include "http/url.hpp"

#include <gtest/gtest.h>

namespace edgeship::http {
namespace {

TEST(Url, PercentEncodesEverythingButUnreserved) {
    EXPECT_EQ(percent_encode("$edgeAgent"), "%24edgeAgent"); // docs/design/iothub.md §7.1
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


TEST(Url, HostOfAbsoluteUrls) {
    EXPECT_EQ(url_host("https://User:pw@Registry.Example.com:5000/v2/?x=1"), "registry.example.com");
    EXPECT_EQ(url_host("http://[::1]:5000/v2/"), "::1");
    EXPECT_EQ(url_host("http://127.0.0.1/v2/"), "127.0.0.1");
    EXPECT_EQ(url_host("/v2/x"), "");
}

TEST(Url, NonPublicHostsAreLiteralsOfLocalAndPrivateNetworks) {
    for (const char* h : {"localhost", "LOCALHOST.", "reg.localhost", "127.0.0.1", "127.9.9.9", "0.0.0.0", "10.1.2.3",
                          "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "::1", "::", "fd00::1",
                          "fc12::1", "fe80::1", "::ffff:169.254.169.254", "::ffff:10.0.0.1"}) {
        EXPECT_TRUE(is_non_public_host(h)) << h;
    }
    for (const char* h : {"myregistry.azurecr.io", "172.15.0.1", "172.32.0.1", "192.169.0.1", "169.253.1.1", "8.8.8.8",
                          "2001:db8::1", "fec0::1", "::ffff:8.8.8.8", "::2", "10.example.com"}) {
        EXPECT_FALSE(is_non_public_host(h)) << h;
    }
}

TEST(Url, LocationsFromAPublicRegistryNeverLeadToAnotherNonPublicHost) {
    const std::string base = "https://myregistry.azurecr.io/v2/team/app/blobs/uploads/";
    // The registry's own paths, and other public hosts (storage back ends), are followed.
    EXPECT_EQ(*resolve_location(base, "/v2/team/app/blobs/uploads/u1?_state=s", "POST upload"),
              "https://myregistry.azurecr.io/v2/team/app/blobs/uploads/u1?_state=s");
    EXPECT_EQ(*resolve_location(base, "https://storage.blob.core.windows.net/u1?sig=x", "POST upload"),
              "https://storage.blob.core.windows.net/u1?sig=x");
    // Another host on a link-local, private or loopback network is refused, naming the request; the query
    // (it may carry a signature) is not shown.
    for (const char* loc : {"http://169.254.169.254/latest/meta-data/", "https://10.0.0.7/u1?sig=secret",
                            "//localhost:5000/v2/", "https://[fe80::1]/x"}) {
        auto r = resolve_location(base, loc, "PATCH upload");
        ASSERT_FALSE(r) << loc;
        EXPECT_NE(r.error().message().find("PATCH upload: refusing Location"), std::string::npos) << r.error().message();
        EXPECT_EQ(r.error().message().find("secret"), std::string::npos) << r.error().message();
    }
    // A registry that is itself local or private may send its clients to sibling addresses there.
    EXPECT_EQ(*resolve_location("http://127.0.0.1:5000/v2/t/blobs/uploads/", "http://127.0.0.1:5001/v2/t/u1", "POST upload"),
              "http://127.0.0.1:5001/v2/t/u1");
    EXPECT_TRUE(resolve_location("https://10.0.0.5/v2/t/blobs/uploads/", "https://10.0.0.6/u1", "POST upload"));
}

} // namespace
} // namespace edgeship::http
