#include "core/base64.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edgeship::core {
namespace {

TEST(Base64, KnownValues) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_decode("Zm9vYg==").value(), "foob");
    EXPECT_EQ(base64_decode("Zm9vYmE=").value(), "fooba");
    EXPECT_EQ(base64_decode("Zm9vYmFy").value(), "foobar");
    EXPECT_EQ(base64_decode("").value(), "");
}

TEST(Base64, RoundTripOfAnyBytes) {
    for (const std::string& s : std::vector<std::string>{"a", "ab", "abc", "user:pa:ss", std::string("\0\xff\x10", 3)}) {
        auto d = base64_decode(base64_encode(s));
        ASSERT_TRUE(d) << s;
        EXPECT_EQ(*d, s);
    }
}

TEST(Base64, StrictDecoding) {
    for (const char* bad : {"abc", "ab c", "a===", "Zg=a", "Zm9v\n", "not base64!", "=Zg="}) {
        auto d = base64_decode(bad);
        ASSERT_FALSE(d) << bad;
        EXPECT_EQ(d.error().message().find(bad), std::string::npos) << "the input is never quoted";
    }
}

} // namespace
} // namespace edgeship::core
