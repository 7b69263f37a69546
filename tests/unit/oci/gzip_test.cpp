#include "oci/gzip.hpp"
#include "oci_test_support.hpp"

#include <gtest/gtest.h>

#include <random>

namespace edgeship::oci {
namespace {

std::string sample_data(std::size_t n, unsigned seed) {
    // Half compressible text, half noise: exercises literal and match paths.
    std::mt19937 rng(seed);
    std::string s;
    s.reserve(n);
    while (s.size() < n) {
        if ((s.size() / 4096) % 2 == 0) {
            s += "edgeship layer data line " + std::to_string(s.size() % 97) + "\n";
        } else {
            s.push_back(static_cast<char>(rng() & 0xff));
        }
    }
    s.resize(n);
    return s;
}

Result<std::string> compress(const std::string& data, GzipOptions o, std::size_t piece = 7919) {
    EDGESHIP_TRY_ASSIGN(auto c, GzipCompressor::create(o));
    std::string out;
    ByteSink sink = [&](std::string_view d) -> Result<void> {
        out.append(d);
        return {};
    };
    for (std::size_t i = 0; i < data.size(); i += piece) {
        EDGESHIP_TRY(c.write(std::string_view(data).substr(i, piece), sink));
    }
    EDGESHIP_TRY(c.finish(sink));
    return out;
}

Result<std::string> decompress(const std::string& gz, GzipEngine engine, std::size_t piece = 4093) {
    EDGESHIP_TRY_ASSIGN(auto d, GzipDecompressor::create(engine));
    std::string out;
    ByteSink sink = [&](std::string_view b) -> Result<void> {
        out.append(b);
        return {};
    };
    for (std::size_t i = 0; i < gz.size(); i += piece) {
        EDGESHIP_TRY(d.write(std::string_view(gz).substr(i, piece), sink));
    }
    EDGESHIP_TRY(d.finish());
    return out;
}

std::vector<GzipEngine> engines() {
    std::vector<GzipEngine> e{GzipEngine::zlib};
    if (isal_available()) {
        e.push_back(GzipEngine::isal);
    }
    return e;
}

TEST(Gzip, IsalIsBuiltIn) {
    // scripts/deps/oci.txt installs libisal-dev; a build without it would silently be 25× slower.
    EXPECT_TRUE(isal_available());
    EXPECT_EQ(default_gzip_engine(), GzipEngine::isal);
}

TEST(Gzip, RoundTripThroughZlibEveryEngineAndSize) {
    for (auto engine : engines()) {
        for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(100000), std::size_t(3u << 20)}) {
            auto data = sample_data(n, 7);
            auto gz = compress(data, GzipOptions{engine, 1});
            ASSERT_TRUE(gz) << gz.error().what();
            // Independent check: zlib's own gunzip.
            EXPECT_EQ(test::zlib_gunzip(*gz), data) << to_string(engine) << " n=" << n;
            for (auto dec : engines()) {
                auto back = decompress(*gz, dec);
                ASSERT_TRUE(back) << back.error().what();
                EXPECT_EQ(*back, data);
            }
        }
    }
}

TEST(Gzip, FixedHeaderAndDeterministicOutput) {
    auto data = sample_data(3u << 20, 3);
    for (auto engine : engines()) {
        auto a = compress(data, GzipOptions{engine, 1}, 1000);
        auto b = compress(data, GzipOptions{engine, 1}, 65536); // chunking must not matter for the header
        ASSERT_TRUE(a && b);
        const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
        EXPECT_EQ(a->substr(0, 10), std::string(reinterpret_cast<const char*>(header), 10));
        EXPECT_EQ(*a, *b) << to_string(engine) << ": output must not depend on how the input is split";
        auto c = compress(data, GzipOptions{engine, 1}, 1);
        EXPECT_EQ(*a, *c) << to_string(engine);
    }
}

TEST(Gzip, LevelsValidated) {
    EXPECT_FALSE(GzipCompressor::create(GzipOptions{GzipEngine::zlib, 0}));
    EXPECT_FALSE(GzipCompressor::create(GzipOptions{GzipEngine::zlib, 10}));
    EXPECT_TRUE(GzipCompressor::create(GzipOptions{GzipEngine::zlib, 9}));
    if (isal_available()) {
        auto e = GzipCompressor::create(GzipOptions{GzipEngine::isal, 4});
        ASSERT_FALSE(e);
        EXPECT_NE(e.error().message().find("not supported by ISA-L (use 0-3)"), std::string::npos);
        for (int level = 0; level <= 3; ++level) {
            auto data = sample_data(200000, 11);
            auto gz = compress(data, GzipOptions{GzipEngine::isal, level});
            ASSERT_TRUE(gz) << level;
            EXPECT_EQ(test::zlib_gunzip(*gz), data) << level;
        }
    }
}

TEST(Gzip, TruncatedStreamDetected) {
    auto data = sample_data(300000, 5);
    auto gz = *compress(data, GzipOptions{GzipEngine::zlib, 1});
    for (auto engine : engines()) {
        for (std::size_t cut : {std::size_t(1), std::size_t(5), std::size_t(10), gz.size() / 2, gz.size() - 8, gz.size() - 1}) {
            auto r = decompress(gz.substr(0, cut), engine);
            ASSERT_FALSE(r) << to_string(engine) << " cut=" << cut;
            EXPECT_NE(r.error().message().find("truncated gzip stream"), std::string::npos)
                << to_string(engine) << " cut=" << cut << ": " << r.error().message();
        }
        auto empty = decompress("", engine);
        ASSERT_FALSE(empty);
        EXPECT_NE(empty.error().message().find("truncated gzip stream (empty input)"), std::string::npos);
    }
}

TEST(Gzip, CorruptStreamDetected) {
    auto data = sample_data(300000, 9);
    auto gz = *compress(data, GzipOptions{GzipEngine::zlib, 1});
    for (auto engine : engines()) {
        auto bad_crc = gz;
        bad_crc[bad_crc.size() - 6] ^= 0x55; // CRC-32 in the trailer
        auto r = decompress(bad_crc, engine);
        ASSERT_FALSE(r) << to_string(engine);
        EXPECT_NE(r.error().message().find("corrupt gzip stream"), std::string::npos) << r.error().message();
        auto garbage = gz + "trailing";
        auto g = decompress(garbage, engine);
        ASSERT_FALSE(g);
        EXPECT_NE(g.error().message().find("unexpected data after the end"), std::string::npos);
    }
}

TEST(Gzip, MultiMemberStream) {
    auto a = sample_data(70000, 1);
    auto b = sample_data(90000, 2);
    auto gz = *compress(a, GzipOptions{GzipEngine::zlib, 1}) + test::zlib_gzip(b);
    for (auto engine : engines()) {
        auto r = decompress(gz, engine, 1 << 20);
        ASSERT_TRUE(r) << r.error().what();
        EXPECT_EQ(*r, a + b);
    }
}

TEST(Gzip, SinkErrorStopsTheStream) {
    auto c = *GzipCompressor::create(GzipOptions{GzipEngine::zlib, 1});
    ByteSink failing = [](std::string_view) -> Result<void> { return fail("disk full"); };
    auto r = c.write(sample_data(1 << 20, 4), failing);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "disk full");
}

} // namespace
} // namespace edgeship::oci
