#include "core/sha256.hpp"
#include "oci/detail/async_sha256.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

using edgeship::oci::detail::AsyncSha256;

std::string pseudo_random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) {
        c = static_cast<char>(rng() & 0xff);
    }
    return s;
}

// Feeds `data` in pieces of `piece` bytes.
std::string async_digest(const std::string& data, std::size_t piece) {
    AsyncSha256 h;
    for (std::size_t at = 0; at < data.size(); at += piece) {
        h.update(std::string_view(data).substr(at, piece));
    }
    return h.hex_digest();
}

TEST(AsyncSha256, EmptyStream) {
    AsyncSha256 h;
    EXPECT_EQ(h.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(AsyncSha256, SameDigestAsOneThreadAroundChunkBoundaries) {
    const std::size_t c = AsyncSha256::k_chunk;
    for (std::size_t n : {std::size_t{1}, c - 1, c, c + 1, 2 * c, 3 * c + 17}) {
        const auto data = pseudo_random_bytes(n, static_cast<unsigned>(n));
        const auto expected = edgeship::core::sha256_hex(data);
        EXPECT_EQ(async_digest(data, n), expected) << n << " bytes in one update";
        EXPECT_EQ(async_digest(data, 4096), expected) << n << " bytes in 4 KiB updates";
        EXPECT_EQ(async_digest(data, 1000003), expected) << n << " bytes in odd-sized updates";
    }
}

TEST(AsyncSha256, LongStreamThroughTheBoundedQueue) {
    // More chunks than the queue holds, so the producer waits for the hashing thread at least once.
    const std::size_t n = (AsyncSha256::k_max_queued * 3 + 1) * AsyncSha256::k_chunk + 123;
    const auto data = pseudo_random_bytes(n, 7);
    EXPECT_EQ(async_digest(data, 65536), edgeship::core::sha256_hex(data));
}

TEST(AsyncSha256, AbandonedStreamStopsItsThread) {
    // Destroyed without hex_digest() (a failed layer): the destructor must return, not wait for a digest.
    const auto data = pseudo_random_bytes(5 * AsyncSha256::k_chunk, 3);
    for (int i = 0; i < 20; ++i) {
        AsyncSha256 h;
        h.update(data);
    }
}

} // namespace
