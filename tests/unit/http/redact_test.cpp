#include "http/redact.hpp"

#include <gtest/gtest.h>

namespace edgeship::http {
namespace {

TEST(Redact, SasAuthorizationKeepsNonSecretFields) {
    EXPECT_EQ(redact_header_value("Authorization",
                                  "SharedAccessSignature sr=myhub.azure-devices.net&sig=iIzEw6hi6GK79RY5jNXO6QeQkSL%2FAx4zTmy44X2G1VY%3D&se=1700000000&skn=iothubowner"),
              "SharedAccessSignature sr=myhub.azure-devices.net&sig=<redacted>&se=1700000000&skn=iothubowner");
}

TEST(Redact, OtherAuthorizationSchemesHideTheCredential) {
    EXPECT_EQ(redact_header_value("authorization", "Bearer abc.def.ghi"), "Bearer <redacted>");
    EXPECT_EQ(redact_header_value("Proxy-Authorization", "Basic dXNlcjpwYXNz"), "Basic <redacted>");
    EXPECT_EQ(redact_header_value("Authorization", "opaque"), "<redacted>");
}

TEST(Redact, SecretHeadersAndPlainHeaders) {
    EXPECT_EQ(redact_header_value("Set-Cookie", "session=1"), "<redacted>");
    EXPECT_EQ(redact_header_value("X-Registry-Token", "t"), "<redacted>");
    EXPECT_EQ(redact_header_value("Content-Type", "application/json"), "application/json");
    EXPECT_TRUE(is_secret_header("Cookie"));
    EXPECT_FALSE(is_secret_header("x-ms-continuation"));
}

TEST(Redact, TextParametersAndUserinfo) {
    EXPECT_EQ(redact_text("https://h/p?sig=abc%2F&se=1&skn=x"), "https://h/p?sig=<redacted>&se=1&skn=x");
    EXPECT_EQ(redact_text("HostName=h;SharedAccessKeyName=p;SharedAccessKey=AAEC+/=="),
              "HostName=h;SharedAccessKeyName=p;SharedAccessKey=<redacted>");
    EXPECT_EQ(redact_text("https://user:pw@registry.example/v2/"), "https://user:<redacted>@registry.example/v2/");
    EXPECT_EQ(redact_text("https://user@h/"), "https://user@h/");
    EXPECT_EQ(redact_text("token=abc access_token=def"), "token=<redacted> access_token=<redacted>");
    // Parameter names only count as whole words: "design=" is not "sig=".
    EXPECT_EQ(redact_text("design=1&signal=2"), "design=1&signal=2");
}

} // namespace
} // namespace edgeship::http
