#include "oci/layer.hpp"
#include "oci/layer_reader.hpp"
#include "oci_test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::oci {
namespace {

using test::RawMember;
using test::TempDir;

ScanOptions scan_opts() {
    ScanOptions o;
    o.cancel = nullptr;
    return o;
}

Result<LayerScan> scan_bytes(const TempDir& dir, const std::string& bytes, bool gzip = false) {
    auto p = dir / "layer";
    test::write_text(p, gzip ? test::zlib_gzip(bytes) : bytes);
    return scan_layer(p, "layer sha256:test", scan_opts());
}

TEST(LayerReader, ScanAgreesWithTheBuilder) {
    TempDir out;
    LayerOptions o;
    o.blob.cancel = nullptr;
    auto layer = build_layer({LayerEntry::bytes("app/a.txt", "a"), LayerEntry::symlink("app/b", "a.txt")}, out.path(), o);
    ASSERT_TRUE(layer);
    auto scan = scan_layer(layer->path, "layer", scan_opts());
    ASSERT_TRUE(scan) << scan.error().what();
    EXPECT_EQ(scan->digest, layer->digest);
    EXPECT_EQ(scan->size, layer->size);
    EXPECT_EQ(scan->diff_id, layer->diff_id);
    EXPECT_EQ(scan->uncompressed_size, layer->uncompressed_size);
    EXPECT_EQ(scan->compression, Compression::gzip);
    ASSERT_EQ(scan->entries.size(), 3u);
    EXPECT_EQ(scan->entries[2].type, TarEntryInfo::Type::symlink);
    EXPECT_EQ(scan->entries[2].link_target, "a.txt");
    EXPECT_EQ(scan->entries[1].mtime, k_default_epoch);
}

TEST(LayerReader, PlainTarAndTarSink) {
    TempDir dir;
    auto tar = test::make_tar({{"x/", 'd'}, {"x/y", 'f', "hello"}});
    std::string seen;
    auto p = dir / "t.tar";
    test::write_text(p, tar);
    auto o = scan_opts();
    o.tar_sink = [&](std::string_view d) -> Result<void> {
        seen.append(d);
        return {};
    };
    auto scan = scan_layer(p, "t", o);
    ASSERT_TRUE(scan) << scan.error().what();
    EXPECT_EQ(scan->compression, Compression::none);
    EXPECT_EQ(scan->diff_id, Digest::of(tar));
    EXPECT_EQ(scan->digest, Digest::of(tar));
    EXPECT_EQ(seen, tar);
}

struct Malicious {
    const char* name;
    std::vector<RawMember> members;
    const char* message;
};

TEST(LayerReader, MaliciousTarballsRefused) {
    std::vector<Malicious> cases = {
        {"dotdot", {{"../../etc/cron.d/x", 'f', "boom"}}, "\"..\" components are not allowed"},
        {"inner dotdot", {{"app/", 'd'}, {"app/../../x", 'f', "boom"}}, "\"..\" components are not allowed"},
        {"absolute", {{"/etc/passwd", 'f', "root::0:0"}}, "absolute paths are not allowed"},
        {"escaping symlink", {{"app/", 'd'}, {"app/link", 'l', "", "../../../etc"}}, "escapes the image root"},
        {"write through symlink",
         {{"evil", 'l', "", "/etc"}, {"evil/passwd", 'f', "root::0:0"}},
         "is reached through the symlink \"evil\""},
        {"hardlink out", {{"a", 'f', "x"}, {"h", 'h', "", "../outside"}}, "hardlink target"},
    };
    for (const auto& c : cases) {
        for (bool gz : {false, true}) {
            TempDir dir;
            auto r = scan_bytes(dir, test::make_tar(c.members), gz);
            ASSERT_FALSE(r) << c.name;
            EXPECT_NE(r.error().message().find(c.message), std::string::npos) << c.name << ": " << r.error().message();
            EXPECT_NE(r.error().message().find("layer sha256:test: member"), std::string::npos) << r.error().message();
        }
    }
}

TEST(LayerReader, SafeTricksAccepted) {
    TempDir dir;
    // "./" prefixes, a root "./" entry, absolute symlinks (resolved inside the container), a symlink
    // replaced by a directory later.
    auto r = scan_bytes(dir, test::make_tar({{"./", 'd'},
                                             {"./etc/", 'd'},
                                             {"./etc/alt", 'l', "", "/usr/bin/python3"},
                                             {"lib", 'l', "", "usr/lib"},
                                             {"usr/", 'd'},
                                             {"usr/lib/", 'd'},
                                             {"usr/lib/x", 'f', "x"}}));
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->entries.size(), 7u);
}

TEST(LayerReader, SafetyCheckCanBeOff) {
    TempDir dir;
    auto p = dir / "l";
    test::write_text(p, test::make_tar({{"../x", 'f', "x"}}));
    auto o = scan_opts();
    o.check_safety = false;
    EXPECT_TRUE(scan_layer(p, "l", o));
}

TEST(LayerReader, TruncatedGzipDetected) {
    TempDir dir, out;
    std::string data(1u << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>((i * 7919u) >> 5);
    }
    auto gz = test::zlib_gzip(test::make_tar({{"w.bin", 'f', data}}));
    for (std::size_t cut : {gz.size() - 4, gz.size() / 2, std::size_t(20)}) {
        auto p = dir / "cut";
        test::write_text(p, gz.substr(0, cut));
        auto r = scan_layer(p, "layer 3", scan_opts());
        ASSERT_FALSE(r) << cut;
        EXPECT_NE(r.error().message().find("layer 3: truncated gzip stream"), std::string::npos) << r.error().message();
    }
}

TEST(LayerReader, TruncatedOrGarbageTarDetected) {
    TempDir dir;
    auto tar = test::make_tar({{"w.bin", 'f', std::string(100000, 'w')}});
    auto r = scan_bytes(dir, tar.substr(0, 50000));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("malformed tar"), std::string::npos) << r.error().message();
    auto g = scan_bytes(dir, std::string(4096, 'g'));
    ASSERT_FALSE(g);
    auto missing = scan_layer(dir / "nope", "layer", scan_opts());
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("nope"), std::string::npos);
}

} // namespace
} // namespace edgeship::oci
