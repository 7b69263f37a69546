#include "oci/layer.hpp"
#include "core/sha256.hpp"
#include "oci/layer_reader.hpp"
#include "oci_test_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace edgeship::oci {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

LayerOptions opts(GzipEngine engine = default_gzip_engine(), std::optional<std::int64_t> epoch = {}) {
    LayerOptions o;
    o.source_date_epoch = epoch;
    o.blob.gzip.engine = engine;
    o.blob.cancel = nullptr;
    return o;
}

std::vector<LayerEntry> tiny_entries() {
    return {LayerEntry::bytes("app/main.py", "print('hello')\n"),
            LayerEntry::bytes("app/run.sh", "#!/bin/sh\nexec python3 main.py\n", 0755),
            LayerEntry::symlink("app/current", "main.py"), LayerEntry::directory("models")};
}

TEST(Layer, GoldenDigestsOfATinyLayer) {
    // The tar bytes depend only on the entries and the epoch (libarchive PAX restricted); the gzip
    // bytes also on the engine. Pinned so an accidental change of the format (entry order, modes,
    // padding, gzip header) is caught: every changed value re-uploads every layer for every user.
    TempDir out;
    auto zl = build_layer(tiny_entries(), out.path(), opts(GzipEngine::zlib, 1700000000));
    ASSERT_TRUE(zl) << zl.error().what();
    EXPECT_EQ(zl->diff_id.str(), "sha256:a7ab38e44cbf9aadf3c2f0938c52fbacd430983987cecd0c03c8da85b0a503b1");
    EXPECT_EQ(zl->digest.str(), "sha256:c6a483bdfc1110f435c5acbc313148daa6d8272c978b05c6d03ce162e35b42c7");
    EXPECT_EQ(zl->uncompressed_size, 4608u); // 7 header/data blocks + 2 end blocks, no record padding
    if (isal_available()) {
        auto is = build_layer(tiny_entries(), out.path(), opts(GzipEngine::isal, 1700000000));
        ASSERT_TRUE(is);
        EXPECT_EQ(is->diff_id, zl->diff_id); // DiffID does not depend on the compressor
        EXPECT_EQ(is->digest.str(), "sha256:7d87f2e1bbbe7121ae371f1d718c9a0b7d878892e0e04c605ae4d8f7cc196481");
    }
}

TEST(Layer, SameInputsTwiceGiveIdenticalDigests) {
    TempDir src, out1, out2;
    fs::create_directories(src / "a/b");
    test::write_text(src / "a/b/weights.bin", std::string(300000, '\x11'));
    test::write_text(src / "a/z.txt", "z");
    test::write_text(src / "top.txt", "t");
    auto e1 = entries_from_directory(src.path(), "app");
    ASSERT_TRUE(e1) << e1.error().what();
    auto l1 = build_layer(*e1, out1.path(), opts());
    // Touch mtimes and reverse the entry order: neither may change anything.
    ::utimensat(AT_FDCWD, (src / "top.txt").c_str(), nullptr, 0);
    auto e2 = *entries_from_directory(src.path(), "/app/");
    std::reverse(e2.begin(), e2.end());
    auto l2 = build_layer(e2, out2.path(), opts());
    ASSERT_TRUE(l1 && l2);
    EXPECT_EQ(l1->diff_id, l2->diff_id);
    EXPECT_EQ(l1->digest, l2->digest);
    EXPECT_EQ(l1->size, l2->size);
    EXPECT_EQ(test::read_text(l1->path), test::read_text(l2->path));
    EXPECT_EQ(l1->path, out1.path() / l1->digest.hex());
    // The files on disk hash to what was reported.
    EXPECT_EQ(Digest::of(test::read_text(l1->path)), l1->digest);
    EXPECT_EQ(Digest::of(test::zlib_gunzip(test::read_text(l1->path))), l1->diff_id);
    EXPECT_EQ(test::count_files(out1.path()), 1u); // no temporary left behind
}

TEST(Layer, EpochChangesTheDigestAndIsEveryMtime) {
    TempDir out;
    auto a = build_layer(tiny_entries(), out.path(), opts(GzipEngine::zlib));
    auto b = build_layer(tiny_entries(), out.path(), opts(GzipEngine::zlib, 1700000000));
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->diff_id, b->diff_id);
    for (const auto& m : test::read_tar_file(a->path)) {
        EXPECT_EQ(m.mtime, k_default_epoch) << m.path;
    }
    for (const auto& m : test::read_tar_file(b->path)) {
        EXPECT_EQ(m.mtime, 1700000000) << m.path;
    }
}

TEST(Layer, EntriesReadBackWithLibarchive) {
    TempDir src, out;
    fs::create_directories(src / "pkg/sub");
    test::write_text(src / "pkg/sub/tool", "#!/bin/sh\n");
    ::chmod((src / "pkg/sub/tool").c_str(), 0700);
    test::write_text(src / "pkg/secret.txt", "s");
    ::chmod((src / "pkg/secret.txt").c_str(), 0600);
    ::chmod((src / "pkg/sub").c_str(), 0700);
    fs::create_symlink("sub/tool", src / "pkg/link");
    auto entries = *entries_from_directory(src.path(), "opt/app");
    entries.push_back(LayerEntry::bytes("etc/model.json", "{\"v\":1}"));
    entries.push_back(LayerEntry::whiteout("models/old.onnx"));
    auto layer = build_layer(entries, out.path(), opts(GzipEngine::zlib));
    ASSERT_TRUE(layer) << layer.error().what();
    auto members = test::read_tar_file(layer->path);
    std::vector<std::string> names;
    for (const auto& m : members) {
        names.push_back(m.path);
        EXPECT_EQ(m.uid, 0) << m.path;
        EXPECT_EQ(m.gid, 0) << m.path;
        EXPECT_EQ(m.uname, "") << m.path;
        EXPECT_EQ(m.gname, "") << m.path;
        EXPECT_FALSE(m.atime) << m.path;
        EXPECT_FALSE(m.ctime) << m.path;
    }
    // Sorted, parents first (implicit parents "etc", "models", "opt" added).
    std::vector<std::string> expected = {"etc/",         "etc/model.json",     "models/",          "models/.wh.old.onnx",
                                         "opt/",         "opt/app/",           "opt/app/pkg/",     "opt/app/pkg/link",
                                         "opt/app/pkg/secret.txt", "opt/app/pkg/sub/", "opt/app/pkg/sub/tool"};
    EXPECT_EQ(names, expected);
    auto find = [&](const std::string& p) {
        for (const auto& m : members) {
            if (m.path == p) {
                return m;
            }
        }
        return test::ReadMember{};
    };
    EXPECT_EQ(find("opt/app/pkg/sub/tool").perm, 0755u); // owner-executable ⇒ 0755
    EXPECT_EQ(find("opt/app/pkg/secret.txt").perm, 0644u); // normalized, not 0600
    EXPECT_EQ(find("opt/app/pkg/sub/").perm, 0755u);
    EXPECT_EQ(find("opt/app/pkg/link").filetype, AE_IFLNK);
    EXPECT_EQ(find("opt/app/pkg/link").symlink, "sub/tool");
    EXPECT_EQ(find("etc/model.json").content, "{\"v\":1}");
    EXPECT_EQ(find("models/.wh.old.onnx").size, 0);
}

TEST(Layer, LargeFileContentSurvives) {
    TempDir src, out;
    std::string big(5u << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>((i * 2654435761u) >> 13);
    }
    test::write_text(src / "w.bin", big);
    std::vector<Progress> seen;
    auto o = opts();
    o.blob.progress = [&](const Progress& p) { seen.push_back(p); };
    auto layer = build_layer({LayerEntry::file("models/w.bin", src / "w.bin")}, out.path(), o);
    ASSERT_TRUE(layer) << layer.error().what();
    auto members = test::read_tar_file(layer->path);
    ASSERT_EQ(members.size(), 2u);
    EXPECT_EQ(members[1].content, big);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().bytes_in, layer->uncompressed_size);
    EXPECT_EQ(seen.back().bytes_out, layer->size);
    EXPECT_EQ(seen.front().total_in, big.size());
    EXPECT_GE(seen.size(), 5u); // about one report per MiB
}

TEST(Layer, HashSourcesGivesTheFilesSha256FromTheLayersOwnRead) {
    TempDir src, out;
    std::string big(3u << 20, '\0'); // several AsyncSha256 chunks
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>((i * 40503u) >> 7);
    }
    test::write_text(src / "w.bin", big);
    test::write_text(src / "other.txt", "not asked for");
    auto o = opts();
    o.hash_sources = {src / "w.bin"};
    auto layer = build_layer({LayerEntry::file("m/w.bin", src / "w.bin"), LayerEntry::file("m/o.txt", src / "other.txt")},
                             out.path(), o);
    ASSERT_TRUE(layer) << layer.error().what();
    ASSERT_EQ(layer->source_sha256.size(), 1u);
    EXPECT_EQ(layer->source_sha256.at(src / "w.bin"), edgeship::core::sha256_hex(big));
    // Asking for a hash changes nothing in the layer.
    auto plain = build_layer({LayerEntry::file("m/w.bin", src / "w.bin"), LayerEntry::file("m/o.txt", src / "other.txt")},
                             out.path(), opts());
    ASSERT_TRUE(plain) << plain.error().what();
    EXPECT_EQ(plain->digest, layer->digest);
    EXPECT_TRUE(plain->source_sha256.empty());
}

TEST(Layer, LongAndNonAsciiNamesUsePax) {
    TempDir out;
    std::string long_name = "models/" + std::string(150, 'x') + "/weights.onnx";
    auto layer = build_layer({LayerEntry::bytes(long_name, "w"), LayerEntry::bytes("données/é.txt", "e")}, out.path(), opts());
    ASSERT_TRUE(layer) << layer.error().what();
    ScanOptions so;
    so.cancel = nullptr;
    auto scan = scan_layer(layer->path, "layer", so);
    ASSERT_TRUE(scan) << scan.error().what();
    std::set<std::string> names;
    for (const auto& e : scan->entries) {
        names.insert(e.path);
    }
    EXPECT_TRUE(names.count(long_name));
    EXPECT_TRUE(names.count("données/é.txt"));
}

struct BadEntry {
    LayerEntry entry;
    const char* message;
};

TEST(Layer, RefusesUnsafeOrInvalidEntries) {
    std::vector<BadEntry> cases = {
        {LayerEntry::bytes("../etc/passwd", "x"), "\"..\" components are not allowed"},
        {LayerEntry::bytes("app/../../x", "x"), "\"..\" components are not allowed"},
        {LayerEntry::bytes("/etc/passwd", "x"), "absolute paths are not allowed"},
        {LayerEntry::bytes("", "x"), "empty path"},
        {LayerEntry::bytes("./", "x"), "empty path"},
        {LayerEntry::symlink("app/evil", "../../etc"), "escapes the image root"},
        {LayerEntry::symlink("evil", ".."), "escapes the image root"},
        {LayerEntry::symlink("app/l", ""), "empty symlink target"},
        {LayerEntry::file("app/missing", "/nonexistent/file"), "/nonexistent/file"},
    };
    for (auto& c : cases) {
        TempDir out;
        auto r = build_layer({LayerEntry::bytes("ok.txt", "fine"), c.entry}, out.path(), opts());
        ASSERT_FALSE(r) << c.entry.path;
        EXPECT_NE(r.error().message().find(c.message), std::string::npos) << r.error().message();
        EXPECT_EQ(test::count_files(out.path()), 0u) << "nothing half-written for " << c.entry.path;
    }
}

TEST(Layer, AllowsSymlinksThatStayInside) {
    TempDir out;
    auto r = build_layer({LayerEntry::symlink("usr/bin/python", "python3"), LayerEntry::symlink("app/data", "../srv/data"),
                          LayerEntry::symlink("app/abs", "/usr/lib/x")},
                         out.path(), opts());
    ASSERT_TRUE(r) << r.error().what();
}

TEST(Layer, DuplicatesAndFileParentsRefused) {
    TempDir out;
    auto dup = build_layer({LayerEntry::bytes("a.txt", "1"), LayerEntry::bytes("./a.txt", "2")}, out.path(), opts());
    ASSERT_FALSE(dup);
    EXPECT_NE(dup.error().message().find("\"a.txt\": listed twice"), std::string::npos);
    auto parent = build_layer({LayerEntry::bytes("a", "1"), LayerEntry::bytes("a/b", "2")}, out.path(), opts());
    ASSERT_FALSE(parent);
    EXPECT_NE(parent.error().message().find("parent \"a\" is not a directory"), std::string::npos);
    // The same directory twice is fine.
    EXPECT_TRUE(build_layer({LayerEntry::directory("d"), LayerEntry::directory("d/"), LayerEntry::bytes("d/x", "")},
                            out.path(), opts()));
}

TEST(Layer, DirectoryWithEscapingSymlinkOrFifoRefused) {
    TempDir src, out;
    test::write_text(src / "ok.txt", "ok");
    fs::create_symlink("../../../etc/shadow", src / "evil");
    auto entries = entries_from_directory(src.path(), "app");
    ASSERT_TRUE(entries);
    auto r = build_layer(*entries, out.path(), opts());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("\"app/evil\": symlink target \"../../../etc/shadow\" escapes the image root"),
              std::string::npos)
        << r.error().message();
    TempDir src2;
    ASSERT_EQ(::mkfifo((src2 / "pipe").c_str(), 0644), 0);
    auto e2 = entries_from_directory(src2.path(), "");
    ASSERT_FALSE(e2);
    EXPECT_NE(e2.error().message().find("pipe: unsupported file type"), std::string::npos);
    auto e3 = entries_from_directory(src.path() / "nope", "");
    ASSERT_FALSE(e3);
    EXPECT_NE(e3.error().message().find("no such directory"), std::string::npos);
}

TEST(Layer, CancellationLeavesNothing) {
    TempDir src, out;
    test::write_text(src / "big", std::string(4u << 20, 'x'));
    core::CancelToken token;
    token.cancel();
    auto o = opts();
    o.blob.cancel = &token;
    auto r = build_layer({LayerEntry::file("big", src / "big")}, out.path(), o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::interrupted);
    EXPECT_EQ(test::count_files(out.path()), 0u);
}

TEST(Layer, UncompressedLayer) {
    TempDir out;
    auto o = opts();
    o.blob.compression = Compression::none;
    auto r = build_layer(tiny_entries(), out.path(), o);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->digest, r->diff_id);
    EXPECT_EQ(r->size, r->uncompressed_size);
    EXPECT_EQ(Digest::of(test::read_text(r->path)), r->digest);
}

TEST(Layer, SourceDateEpochParsing) {
    EXPECT_EQ(*parse_source_date_epoch("1700000000"), 1700000000);
    EXPECT_EQ(*parse_source_date_epoch("0"), 0);
    for (const char* bad : {"", "-1", "12x", "1e9", " 1"}) {
        auto r = parse_source_date_epoch(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find("SOURCE_DATE_EPOCH"), std::string::npos);
    }
}

} // namespace
} // namespace edgeship::oci
