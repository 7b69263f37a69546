#include "solution/json_text.hpp"

#include <gtest/gtest.h>

namespace edgeship::solution {
namespace {

using nlohmann::ordered_json;

TEST(JsonText, FindsValueSpans) {
    std::string t = R"({"a": {"b.c": [1, {"x": 2}], "d": "s"}, "e": 3})";
    auto s = find_value(t, {"a", "b.c"});
    ASSERT_TRUE(s && *s);
    EXPECT_EQ(t.substr((*s)->begin, (*s)->end - (*s)->begin), R"([1, {"x": 2}])");
    auto missing = find_value(t, {"a", "zz"});
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_value());
    EXPECT_FALSE(find_value("{nope", {"a"}));
}

TEST(JsonText, InsertKeepsEveryOtherByteAndUsesTheFilesIndent) {
    // four-space indent, odd spacing and key order the user chose
    std::string t = "{\n    \"z\" :  1,\n    \"mods\": {\n        \"first\": {\"keep\":   \"as is\"}\n    },\n"
                    "    \"a\": 2\n}\n";
    auto r = insert_member(t, {"mods"}, "second", ordered_json{{"k", 1}, {"arr", {1, 2}}});
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(*r, "{\n    \"z\" :  1,\n    \"mods\": {\n        \"first\": {\"keep\":   \"as is\"},\n"
                  "        \"second\": {\n            \"k\": 1,\n            \"arr\": [\n                1,\n"
                  "                2\n            ]\n        }\n    },\n    \"a\": 2\n}\n");
    EXPECT_TRUE(ordered_json::accept(*r));
}

TEST(JsonText, InsertIntoEmptyObjectAndTabs) {
    std::string t = "{\n\t\"routes\": {}\n}";
    auto r = insert_member(t, {"routes"}, "r1", "FROM /messages/* INTO $upstream");
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(*r, "{\n\t\"routes\": {\n\t\t\"r1\": \"FROM /messages/* INTO $upstream\"\n\t}\n}");
}

TEST(JsonText, InsertEscapesKeysAndRefusesDuplicatesAndMissingPaths) {
    std::string t = R"({"m": {"x": 1}})";
    auto dup = insert_member(t, {"m"}, "x", 2);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().message(), "'m' already has 'x'");
    auto missing = insert_member(t, {"n"}, "x", 2);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message(), "'n' is missing or not an object");
    auto r = insert_member(t, {"m"}, "q\"k", "v\\");
    ASSERT_TRUE(r);
    EXPECT_EQ(ordered_json::parse(*r)["m"]["q\"k"], "v\\");
}

} // namespace
} // namespace edgeship::solution
