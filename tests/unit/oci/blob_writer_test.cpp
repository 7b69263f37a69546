#include "oci/blob_writer.hpp"
#include "oci_test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::oci {
namespace {

using test::TempDir;

TEST(BlobFileWriter, VerifiesAndCommits) {
    TempDir out;
    auto w = BlobFileWriter::create(out.path(), nullptr);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write("hello "));
    ASSERT_TRUE(w->write("world"));
    EXPECT_EQ(w->size(), 11u);
    auto digest = Digest::of("hello world");
    auto path = w->commit(digest, 11, false);
    ASSERT_TRUE(path) << path.error().what();
    EXPECT_EQ(*path, out.path() / digest.hex());
    EXPECT_EQ(test::read_text(*path), "hello world");
    EXPECT_EQ(test::count_files(out.path()), 1u);
}

TEST(BlobFileWriter, MismatchLeavesNothing) {
    TempDir out;
    {
        auto w = *BlobFileWriter::create(out.path(), nullptr);
        ASSERT_TRUE(w.write("hello"));
        auto r = w.commit(Digest::of("other"), 5);
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().message().find("blob " + Digest::of("other").str() + ": digest mismatch: content hashes to " +
                                           Digest::of("hello").str()),
                  std::string::npos);
        auto again = *BlobFileWriter::create(out.path(), nullptr);
        ASSERT_TRUE(again.write("hello"));
        auto s = again.commit(Digest::of("hello"), 6);
        ASSERT_FALSE(s);
        EXPECT_NE(s.error().message().find("size mismatch: got 5 bytes, expected 6"), std::string::npos);
    }
    EXPECT_EQ(test::count_files(out.path()), 0u);
}

TEST(BlobFileWriter, Cancel) {
    TempDir out;
    core::CancelToken token;
    auto w = *BlobFileWriter::create(out.path(), &token);
    ASSERT_TRUE(w.write("a"));
    token.cancel();
    auto r = w.write("b");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::interrupted);
}

TEST(LayerBlobWriter, StreamsArbitraryTarBytes) {
    TempDir out;
    BlobWriterOptions o;
    o.cancel = nullptr;
    auto tar = test::make_tar({{"a.txt", 'f', "abc"}});
    auto w = *LayerBlobWriter::create(out.path(), o);
    for (char c : tar) {
        ASSERT_TRUE(w.write(std::string_view(&c, 1)));
    }
    auto blob = w.commit();
    ASSERT_TRUE(blob) << blob.error().what();
    EXPECT_EQ(blob->diff_id, Digest::of(tar));
    EXPECT_EQ(blob->uncompressed_size, tar.size());
    EXPECT_EQ(test::zlib_gunzip(test::read_text(blob->path)), tar);
    EXPECT_FALSE(w.commit()); // once only
    // Same bytes through compress_tar_file: same blob.
    test::write_text(out / "in.tar", tar);
    auto again = compress_tar_file(out / "in.tar", out.path(), o);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->digest, blob->digest);
}

} // namespace
} // namespace edgeship::oci
