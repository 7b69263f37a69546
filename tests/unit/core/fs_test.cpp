#include "core/fs.hpp"
#include "core/sha256.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::core {
namespace {

using test::TempDir;

TEST(ReadFile, ReadsContent) {
    TempDir dir;
    test::write_text(dir / "a.txt", "hello");
    auto r = read_file(dir / "a.txt");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "hello");
}

TEST(ReadFile, MissingFileNamesPath) {
    TempDir dir;
    auto r = read_file(dir / "nope.onnx");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("nope.onnx: no such file"), std::string::npos);
}

TEST(ReadFile, DirectoryIsRefused) {
    TempDir dir;
    auto r = read_file(dir.path());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("is a directory"), std::string::npos);
}

TEST(AtomicWrite, WritesAndReplaces) {
    TempDir dir;
    ASSERT_TRUE(write_file_atomic(dir / "out.txt", "one"));
    ASSERT_TRUE(write_file_atomic(dir / "out.txt", "two"));
    EXPECT_EQ(test::read_text(dir / "out.txt"), "two");
    // Only the target remains: no temporary files left behind.
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
        ++n;
    }
    EXPECT_EQ(n, 1u);
}

TEST(AtomicWrite, UncommittedFileLeavesNothing) {
    TempDir dir;
    test::write_text(dir / "keep.txt", "original");
    {
        auto f = AtomicFile::create(dir / "keep.txt");
        ASSERT_TRUE(f);
        ASSERT_TRUE(f->write("half"));
        // destroyed without commit(): as if an error or Ctrl-C happened mid-write
    }
    EXPECT_EQ(test::read_text(dir / "keep.txt"), "original");
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
        ++n;
    }
    EXPECT_EQ(n, 1u);
}

TEST(AtomicWrite, MissingDirectoryIsAnError) {
    TempDir dir;
    auto r = write_file_atomic(dir / "no" / "such" / "out.txt", "x");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("does not exist"), std::string::npos);
}

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    Sha256 h;
    h.update("a");
    h.update("bc");
    EXPECT_EQ(h.hex_digest(), sha256_hex("abc"));
}

TEST(Sha256, FileMatchesBuffer) {
    TempDir dir;
    std::string data(3 << 20, 'x');
    test::write_text(dir / "big.bin", data);
    auto r = sha256_file(dir / "big.bin");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, sha256_hex(data));
}

} // namespace
} // namespace edgeship::core
