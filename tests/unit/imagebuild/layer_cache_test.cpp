#include "imagebuild/layer_cache.hpp"

#include "core/sha256.hpp"
#include "oci/layer.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <chrono>

namespace edgeship::imagebuild {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

ModuleSources sources_for(const fs::path& model) {
    ModuleSources s;
    s.model_entries.push_back(oci::LayerEntry::directory("app/model"));
    s.model_entries.push_back(oci::LayerEntry::file("app/model/model.onnx", model));
    s.model.source = model;
    s.model.file = "model.onnx";
    s.model.sha256 = core::sha256_file(model).value();
    s.model.size = fs::file_size(model);
    return s;
}

TEST(LayerCache, DirFromXdgThenHome) {
    EXPECT_EQ(layer_cache_dir({{"XDG_CACHE_HOME", "/x/cache"}, {"HOME", "/h"}}), fs::path("/x/cache/edgeship/layers"));
    EXPECT_EQ(layer_cache_dir({{"XDG_CACHE_HOME", "relative"}, {"HOME", "/h"}}), fs::path("/h/.cache/edgeship/layers"));
    EXPECT_TRUE(layer_cache_dir({}).empty());
}

TEST(LayerCache, KeyFollowsEveryInput) {
    TempDir dir;
    test::write_text(dir / "model.onnx", "weights-1");
    auto s = sources_for(dir / "model.onnx");
    oci::LayerOptions o;
    const auto k = model_layer_key(s, o).value();
    EXPECT_EQ(model_layer_key(s, o).value(), k); // stable
    auto level = o;
    level.blob.gzip.level = 2;
    EXPECT_NE(model_layer_key(s, level).value(), k);
    auto epoch = o;
    epoch.source_date_epoch = 1700000000;
    EXPECT_NE(model_layer_key(s, epoch).value(), k);
    auto moved = s;
    moved.model_entries[1].path = "app/model/other.onnx";
    EXPECT_NE(model_layer_key(moved, o).value(), k);
    auto mode = s;
    mode.model_entries[1].mode = 0600;
    EXPECT_NE(model_layer_key(mode, o).value(), k);
    test::write_text(dir / "model.onnx", "weights-2");
    EXPECT_NE(model_layer_key(sources_for(dir / "model.onnx"), o).value(), k);
}

TEST(LayerCache, StoreLoadRoundTripAndBadEntries) {
    TempDir dir;
    test::write_text(dir / "model.onnx", "weights");
    auto s = sources_for(dir / "model.onnx");
    oci::LayerOptions o;
    fs::create_directories(dir / "blobs");
    auto blob = oci::build_layer(s.model_entries, dir / "blobs", o).value();
    const auto cache = dir / "cache" / "layers";
    const auto key = model_layer_key(s, o).value();
    EXPECT_FALSE(load_cached_layer(cache, key));
    ASSERT_TRUE(store_cached_layer(cache, key, blob));
    auto hit = load_cached_layer(cache, key);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->digest, blob.digest);
    EXPECT_EQ(hit->diff_id, blob.diff_id);
    EXPECT_EQ(hit->size, blob.size);
    EXPECT_EQ(hit->uncompressed_size, blob.uncompressed_size);
    EXPECT_TRUE(hit->path.empty());
    test::write_text(cache / (key + ".json"), "{\"format\": \"edgeship-model-layer-cache-1\", \"digest\": \"nope\"}");
    EXPECT_FALSE(load_cached_layer(cache, key));
    test::write_text(cache / (key + ".json"), "not json");
    EXPECT_FALSE(load_cached_layer(cache, key));
    EXPECT_FALSE(load_cached_layer({}, key));
}


// --- digest memo ---

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Sets mtime (and so ctime, to now) of `f`; returns the ctime the kernel recorded.
void set_mtime(const fs::path& f, std::int64_t sec) {
    struct timespec t[2] = {{sec, 0}, {sec, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), t, 0), 0);
}

TEST(DigestMemo, RecallsAnUnchangedFileWithoutReadingIt) {
    TempDir cache, dir;
    const auto f = dir / "model.onnx";
    test::write_text(f, "weights-1");
    EXPECT_FALSE(recall_file_sha256(cache.path(), f).seen);
    const std::string sha = core::sha256_file(f).value();
    // "now" 10 s ahead: the file's mtime and ctime are outside the racy window.
    ASSERT_TRUE(remember_file_sha256(cache.path(), f, sha, now_ns() + 10'000'000'000));
    auto memo = recall_file_sha256(cache.path(), f);
    EXPECT_TRUE(memo.seen);
    ASSERT_TRUE(memo.sha256);
    EXPECT_EQ(*memo.sha256, sha);
    // The memo holds the digest it was given: proof that recall did not hash the file.
    ASSERT_TRUE(remember_file_sha256(cache.path(), f, std::string(64, 'a'), now_ns() + 10'000'000'000));
    EXPECT_EQ(recall_file_sha256(cache.path(), f).sha256.value_or(""), std::string(64, 'a'));
}

TEST(DigestMemo, AnyChangeOfTheFileForgetsTheDigest) {
    TempDir cache, dir;
    const auto f = dir / "model.onnx";
    test::write_text(f, "weights-1");
    const auto later = now_ns() + 10'000'000'000;
    ASSERT_TRUE(remember_file_sha256(cache.path(), f, core::sha256_file(f).value(), later));
    ASSERT_TRUE(recall_file_sha256(cache.path(), f).sha256);
    // Another size (a same-size rewrite in the same timestamp tick is what the racy window is for).
    test::write_text(f, "weights-22");
    auto memo = recall_file_sha256(cache.path(), f);
    EXPECT_TRUE(memo.seen);
    EXPECT_FALSE(memo.sha256);

    ASSERT_TRUE(remember_file_sha256(cache.path(), f, core::sha256_file(f).value(), later));
    ASSERT_TRUE(recall_file_sha256(cache.path(), f).sha256);
    set_mtime(f, 1'000'000'000); // mtime put back by a tool: ctime still moves
    EXPECT_FALSE(recall_file_sha256(cache.path(), f).sha256);

    ASSERT_TRUE(remember_file_sha256(cache.path(), f, core::sha256_file(f).value(), later));
    fs::remove(f);
    test::write_text(f, "weights-2"); // replaced by another file (new inode or ctime)
    EXPECT_FALSE(recall_file_sha256(cache.path(), f).sha256);
}

TEST(DigestMemo, AFileChangedInTheLastTwoSecondsIsOnlySeen) {
    TempDir cache, dir;
    const auto f = dir / "model.onnx";
    test::write_text(f, "weights-1");
    ASSERT_TRUE(remember_file_sha256(cache.path(), f, core::sha256_file(f).value(), now_ns()));
    auto memo = recall_file_sha256(cache.path(), f);
    EXPECT_TRUE(memo.seen);
    EXPECT_FALSE(memo.sha256) << "a digest taken in the file's own timestamp tick is not trusted";
    EXPECT_FALSE(recall_file_sha256(fs::path(), f).seen) << "no cache directory, no memo";
}

} // namespace
} // namespace edgeship::imagebuild
