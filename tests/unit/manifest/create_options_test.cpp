#include "manifest/create_options.hpp"

#include <gtest/gtest.h>

namespace edgeship::manifest {
namespace {

using nlohmann::ordered_json;

TEST(CreateOptions, ChunkKeys) {
    EXPECT_EQ(chunk_key(0), "createOptions");
    EXPECT_EQ(chunk_key(1), "createOptions01");
    EXPECT_EQ(chunk_key(7), "createOptions07");
    EXPECT_EQ(chunk_key(12), "createOptions12");
}

// docs/design/iothub.md §3 example: 1,200 characters -> 512 + 512 + 176
TEST(CreateOptions, SplitsAStringOf1200Characters) {
    std::string s(1200, 'x');
    auto chunks = split_chunks(s);
    ASSERT_EQ(chunks.size(), 3u);
    EXPECT_EQ(chunks[0].size(), 512u);
    EXPECT_EQ(chunks[1].size(), 512u);
    EXPECT_EQ(chunks[2].size(), 176u);
    EXPECT_TRUE(split_chunks("").empty());
}

TEST(CreateOptions, SplitsByCodePointsNotBytes) {
    std::string s;
    for (int i = 0; i < 513; ++i) {
        s += "é"; // 2 bytes each
    }
    auto chunks = split_chunks(s);
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0].size(), 1024u);
    EXPECT_EQ(chunks[1], "é");
}

TEST(CreateOptions, ObjectsAreSerializedLikeIotedgedev) {
    // key order kept, non-ASCII and control characters escaped, '/' not escaped
    ordered_json settings = ordered_json::parse(
        R"({"image": "i", "createOptions": {"Z": 1, "A": "Caméra\t/x", "F": 1.5}, "other": true})");
    ASSERT_TRUE(convert_create_options(settings, "m"));
    EXPECT_EQ(settings.dump(), R"({"image":"i","createOptions":"{\"Z\":1,\"A\":\"Cam\\u00e9ra\\t/x\",\"F\":1.5}","other":true})");
}

TEST(CreateOptions, EmptyObjectAndEmptyString) {
    ordered_json a = {{"image", "i"}, {"createOptions", ordered_json::object()}};
    ASSERT_TRUE(convert_create_options(a, "m"));
    EXPECT_EQ(a["createOptions"], "{}");
    ordered_json b = {{"image", "i"}, {"createOptions", ""}};
    ASSERT_TRUE(convert_create_options(b, "m"));
    EXPECT_EQ(b.dump(), R"({"image":"i","createOptions":""})");
    ordered_json c = {{"image", "i"}};
    ASSERT_TRUE(convert_create_options(c, "m"));
    EXPECT_EQ(c.dump(), R"({"image":"i"})");
}

TEST(CreateOptions, LongObjectBecomesContiguousChunksInPlace) {
    ordered_json env = ordered_json::array();
    for (int i = 0; i < 60; ++i) {
        env.push_back("VARIABLE_" + std::to_string(i) + "=some value here");
    }
    ordered_json settings = {{"image", "i"}, {"createOptions", {{"Env", env}}}, {"after", 1}};
    const std::string whole = settings["createOptions"].dump(-1, ' ', true);
    ASSERT_TRUE(convert_create_options(settings, "m"));
    std::string joined;
    std::vector<std::string> keys;
    for (auto& [k, v] : settings.items()) {
        keys.push_back(k);
        if (k.starts_with("createOptions")) {
            joined += v.get<std::string>();
            EXPECT_LE(v.get<std::string>().size(), 512u);
        }
    }
    EXPECT_EQ(joined, whole);
    ASSERT_EQ(keys.size(), 2 + (whole.size() + 511) / 512);
    EXPECT_EQ(keys[0], "image");
    EXPECT_EQ(keys[1], "createOptions");
    EXPECT_EQ(keys[2], "createOptions01");
    EXPECT_EQ(keys.back(), "after");
}

TEST(CreateOptions, MoreThanEightChunksIsAnError) {
    ordered_json settings = {{"image", "i"}, {"createOptions", std::string(8 * 512 + 1, 'a')}};
    auto r = convert_create_options(settings, "big");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::validation);
    EXPECT_EQ(r.error().message().rfind("Size of createOptions of big is too big", 0), 0u);
    ordered_json ok = {{"image", "i"}, {"createOptions", std::string(8 * 512, 'a')}};
    EXPECT_TRUE(convert_create_options(ok, "fits"));
    EXPECT_TRUE(ok.contains("createOptions07"));
}

TEST(CreateOptions, HandChunkedStringsAreKept) {
    ordered_json settings = {{"image", "i"}, {"createOptions", "{\"a\":"}, {"createOptions01", "1}"}};
    ASSERT_TRUE(convert_create_options(settings, "m"));
    EXPECT_EQ(settings.dump(), R"({"image":"i","createOptions":"{\"a\":","createOptions01":"1}"})");
}

} // namespace
} // namespace edgeship::manifest
