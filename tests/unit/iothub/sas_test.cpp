// Test vectors from docs/design/iothub.md §6.3.
#include "iothub/sas.hpp"

#include <gtest/gtest.h>

namespace edgeship::iothub {
namespace {

constexpr const char* k_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0x00..0x1f

TEST(Sas, HostOnlyVector) {
    SasParams p{"myhub.azure-devices.net", "iothubowner", k_key, 1700000000};
    EXPECT_EQ(string_to_sign(p), "myhub.azure-devices.net\n1700000000");
    EXPECT_EQ(*sign(k_key, string_to_sign(p)), "iIzEw6hi6GK79RY5jNXO6QeQkSL/Ax4zTmy44X2G1VY=");
    EXPECT_EQ(*make_sas_token(p), "SharedAccessSignature sr=myhub.azure-devices.net&sig=iIzEw6hi6GK79RY5jNXO6QeQkSL%2FAx4zTmy44X2G1VY%3D&se=1700000000&skn=iothubowner");
}

TEST(Sas, PathVectorUppercaseEscapes) {
    SasParams p{"myhub.azure-devices.net/devices/dev1", "iothubowner", k_key, 1700000000};
    EXPECT_EQ(string_to_sign(p), "myhub.azure-devices.net%2Fdevices%2Fdev1\n1700000000");
    EXPECT_EQ(*sign(k_key, string_to_sign(p)), "i+YmMcSSZc4KzBi6ejz3l0iL+2sN0CE3q6vSm837h2g=");
    EXPECT_EQ(*make_sas_token(p), "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=i%2BYmMcSSZc4KzBi6ejz3l0iL%2B2sN0CE3q6vSm837h2g%3D&se=1700000000&skn=iothubowner");
}

TEST(Sas, PathVectorLowercaseEscapes) {
    SasParams p{"myhub.azure-devices.net/devices/dev1", "iothubowner", k_key, 1700000000, http::HexCase::lower};
    EXPECT_EQ(string_to_sign(p), "myhub.azure-devices.net%2fdevices%2fdev1\n1700000000");
    EXPECT_EQ(*sign(k_key, string_to_sign(p)), "dUk3ecSsggNPeQNG98fO6Pv16mCcXEgP6lT2QfotQ4s=");
}

TEST(Sas, DeviceTokenOmitsSkn) {
    SasParams p{"myhub.azure-devices.net", "", k_key, 1700000000};
    EXPECT_EQ(*make_sas_token(p), "SharedAccessSignature sr=myhub.azure-devices.net&sig=iIzEw6hi6GK79RY5jNXO6QeQkSL%2FAx4zTmy44X2G1VY%3D&se=1700000000");
}

TEST(Sas, KeysThatAreNotBase64OrEmptyAreRefused) {
    for (const char* key : {"%%%%", "abc", ""}) {
        auto bad = sign(key, "x");
        ASSERT_FALSE(bad) << key;
        EXPECT_EQ(bad.error().code(), ExitCode::auth) << key;
    }
    EXPECT_TRUE(sign(k_key, "x"));
}

TEST(Sas, TokenProviderSignsForLowercaseHostAndRenewsBeforeExpiry) {
    std::int64_t now = 1700000000 - 3600;
    TokenProvider tp({"MyHub.Azure-Devices.NET", "iothubowner", k_key}, std::chrono::seconds(3600),
                     [&now] { return std::chrono::system_clock::from_time_t(now); });
    auto t1 = tp.token();
    ASSERT_TRUE(t1);
    // sr = lower(HostName), se = now + ttl: exactly the host-only vector.
    EXPECT_EQ(*t1, "SharedAccessSignature sr=myhub.azure-devices.net&sig=iIzEw6hi6GK79RY5jNXO6QeQkSL%2FAx4zTmy44X2G1VY%3D&se=1700000000&skn=iothubowner");
    now += 2000; // 1600 s left of 3600: still more than a fifth
    EXPECT_EQ(*tp.token(), *t1);
    EXPECT_EQ(tp.tokens_signed(), 1);
    now += 1000; // 600 s left: renew
    auto t2 = tp.token();
    EXPECT_NE(*t2, *t1);
    EXPECT_EQ(tp.expiry(), now + 3600);
    EXPECT_EQ(tp.tokens_signed(), 2);
}

TEST(Sas, TokenLifetimeIsCappedAtOneHour) {
    std::int64_t now = 1000;
    TokenProvider tp({"h", "p", k_key}, std::chrono::seconds(86400),
                     [&now] { return std::chrono::system_clock::from_time_t(now); });
    ASSERT_TRUE(tp.token());
    EXPECT_EQ(tp.expiry(), 1000 + 3600);
}

} // namespace
} // namespace edgeship::iothub
