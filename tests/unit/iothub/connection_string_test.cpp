#include "iothub/connection_string.hpp"

#include <gtest/gtest.h>

namespace edgeship::iothub {
namespace {

constexpr const char* k_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

TEST(ConnectionString, ParsesAndKeepsKeyPadding) {
    auto cs = parse_connection_string(std::string("HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;"
                                                  "SharedAccessKey=") + k_key);
    ASSERT_TRUE(cs) << cs.error().what();
    EXPECT_EQ(cs->host_name, "myhub.azure-devices.net");
    EXPECT_EQ(cs->key_name, "iothubowner");
    EXPECT_EQ(cs->key, k_key);
    EXPECT_EQ(cs->hub_name(), "myhub");
}

TEST(ConnectionString, NamesAreCaseInsensitiveValuesStrippedOddPartsIgnored) {
    auto cs = parse_connection_string(std::string(" hostname = h.azure-devices.net ; junk ; SHAREDACCESSKEYNAME=p;"
                                                  "sharedaccesskey= ") + k_key + " ;");
    ASSERT_TRUE(cs) << cs.error().what();
    EXPECT_EQ(cs->host_name, "h.azure-devices.net");
    EXPECT_EQ(cs->key_name, "p");
    EXPECT_EQ(cs->key, k_key);
}

TEST(ConnectionString, SurroundingQuotesAreRemoved) {
    auto cs = parse_connection_string(std::string("\"HostName=h;SharedAccessKeyName=p;SharedAccessKey=") + k_key + "\"");
    ASSERT_TRUE(cs);
    EXPECT_EQ(cs->host_name, "h");
}

TEST(ConnectionString, EachMissingPartIsNamed) {
    auto r = parse_connection_string("HostName=h");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "connection string: missing SharedAccessKeyName, SharedAccessKey");
    EXPECT_EQ(r.error().code(), ExitCode::auth);
    r = parse_connection_string(std::string("SharedAccessKeyName=p;SharedAccessKey=") + k_key);
    EXPECT_EQ(r.error().what(), "connection string: missing HostName");
    r = parse_connection_string("   ");
    EXPECT_EQ(r.error().what(), "connection string: empty");
    r = parse_connection_string("garbage");
    EXPECT_EQ(r.error().what(), "connection string: missing HostName, SharedAccessKeyName, SharedAccessKey");
}

TEST(ConnectionString, DeviceStringsAndBadKeysAreRejectedWithoutEchoingTheKey) {
    auto r = parse_connection_string(std::string("HostName=h;DeviceId=d;SharedAccessKey=") + k_key);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("device connection string"), std::string::npos);
    r = parse_connection_string("HostName=h;SharedAccessKeyName=p;SharedAccessKey=s3cr3t!!");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "connection string: SharedAccessKey is not valid base64");
    EXPECT_EQ(r.error().what().find("s3cr3t"), std::string::npos);
    EXPECT_EQ(r.error().hint_text().find("s3cr3t"), std::string::npos);
    r = parse_connection_string(std::string("HostName=h/x;SharedAccessKeyName=p;SharedAccessKey=") + k_key);
    EXPECT_EQ(r.error().what(), "connection string: HostName 'h/x' is not a host name");
}

} // namespace
} // namespace edgeship::iothub
