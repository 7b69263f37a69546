#include "manifest/expand.hpp"

#include <gtest/gtest.h>

namespace edgeship::manifest {
namespace {

const core::Environment k_vars = {{"A", "x\"y"}, {"B", "$A"}, {"EMPTY", ""}, {"N", "3"}, {"PATH_LIKE", "C:\\dir\nnext"}};

// docs/design/iothub.md §2.2 examples (Python 3.11 posixpath.expandvars, A='x"y', B='$A')
TEST(ExpandString, FollowsPosixExpandvarsSemantics) {
    EXPECT_EQ(expand_string("${A}", k_vars), "x\"y");
    EXPECT_EQ(expand_string("$A", k_vars), "x\"y");
    EXPECT_EQ(expand_string("${B}", k_vars), "$A");
    EXPECT_EQ(expand_string("${UNDEF}", k_vars), "${UNDEF}");
    EXPECT_EQ(expand_string("$UNDEF", k_vars), "$UNDEF");
    EXPECT_EQ(expand_string("$A-b", k_vars), "x\"y-b");
    EXPECT_EQ(expand_string("$A.b", k_vars), "x\"y.b");
    EXPECT_EQ(expand_string("$$A", k_vars), "$x\"y");
    EXPECT_EQ(expand_string("${A ${A}x", k_vars), "${A ${A}x");
    EXPECT_EQ(expand_string("${}", k_vars), "${}");
    EXPECT_EQ(expand_string("$", k_vars), "$");
    EXPECT_EQ(expand_string("a$EMPTY.b", k_vars), "a.b");
    EXPECT_EQ(expand_string("${N}${N}", k_vars), "33");
}

TEST(ExpandString, NeverTouchesManifestSyntaxOrPlaceholders) {
    core::Environment vars = {{"edgeAgent", "X"}, {"upstream", "X"}, {"schema", "X"}};
    EXPECT_EQ(expand_string("$edgeAgent", vars), "$edgeAgent");
    EXPECT_EQ(expand_string("INTO $upstream", vars), "INTO $upstream");
    EXPECT_EQ(expand_string("$schema-template", vars), "$schema-template");
    EXPECT_EQ(expand_string("WHERE $body.t > 1 AND $connectionModuleId = 'm'", {{"body", "X"}}),
              "WHERE $body.t > 1 AND $connectionModuleId = 'm'");
    std::vector<std::string> undefined;
    EXPECT_EQ(expand_string("${MODULES.filter.amd64} ${MODULEDIR<../x>} $edgeHub", {}, &undefined),
              "${MODULES.filter.amd64} ${MODULEDIR<../x>} $edgeHub");
    EXPECT_TRUE(undefined.empty());
}

TEST(MergeVariables, EnvironmentWinsOverDotenv) {
    auto merged = merge_variables({{"A", "dotenv"}, {"B", "dotenv"}}, {{"A", "env"}});
    EXPECT_EQ(merged.at("A"), "env");
    EXPECT_EQ(merged.at("B"), "dotenv");
}

TEST(ExpandJson, ValuesWithQuotesBackslashesAndNewlinesStayJson) {
    // Azure/iotedgedev#414: text substitution breaks here; substitution after parsing does not
    auto r = expand_json(R"({"a": "${A}", "p": "$PATH_LIKE", "k": {"${N}": "v"}})", "t.json", k_vars);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->value["a"], "x\"y");
    EXPECT_EQ(r->value["p"], "C:\\dir\nnext");
    EXPECT_EQ(r->value["k"]["3"], "v");
    EXPECT_TRUE(r->undefined.empty());
}

TEST(ExpandJson, UnquotedPlaceholdersAreSplicedAsIotedgedevDoes) {
    auto r = expand_json("{\"startupOrder\": ${N}, \"x\": [$N]}", "t.json", k_vars);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->value["startupOrder"], 3);
    EXPECT_EQ(r->value["x"][0], 3);
}

TEST(ExpandJson, KeyOrderIsKept) {
    auto r = expand_json(R"({"z": 1, "a": 2, "m": 3})", "t.json", {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value.dump(), R"({"z":1,"a":2,"m":3})");
}

TEST(ExpandJson, UndefinedVariablesAreReportedWithOriginalPositions) {
    auto r = expand_json("{\n  \"a\": \"${NOPE}\",\n  \"b\": \"x $ALSO_NOPE\"\n}", "dir/t.json", k_vars);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->undefined.size(), 2u);
    EXPECT_EQ(r->undefined[0].name, "NOPE");
    EXPECT_EQ(r->undefined[0].location, "dir/t.json:2:9");
    EXPECT_EQ(r->undefined[1].name, "ALSO_NOPE");
    EXPECT_EQ(r->undefined[1].location, "dir/t.json:3:11");
    EXPECT_EQ(r->value["a"], "${NOPE}");
}

TEST(ExpandJson, NotJsonReportsLineAndColumnOfTheOriginalTemplate) {
    // the long value before the error shifts the expanded text; the position must not move
    core::Environment vars = {{"LONG", "1234567890123456789"}};
    auto r = expand_json("{\n  \"a\": $LONG,\n  \"b\": $UNDEF\n}", "deployment.template.json", vars);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message().rfind("deployment.template.json:3:8: not valid JSON after variable expansion (undefined variable $UNDEF): ", 0),
              0u)
        << r.error().message();
}

TEST(ExpandJson, NotJsonInsideASplicedValueNamesTheVariable) {
    core::Environment vars = {{"BAD", "1 2"}};
    auto r = expand_json("{\n  \"a\": ${BAD}\n}", "t.json", vars);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message().rfind("t.json:2:8: not valid JSON after variable expansion (in the value of ${BAD}): ", 0),
              0u)
        << r.error().message();
}

TEST(ExpandJson, PlainSyntaxErrorWithoutVariables) {
    auto r = expand_json("{\n  \"a\": 1,\n}", "t.json", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message().rfind("t.json:3:1: not valid JSON: ", 0), 0u) << r.error().message();
}

TEST(LineColumn, CountsLinesAndBytes) {
    EXPECT_EQ(line_column("ab\ncd", 0), std::make_pair(std::size_t{1}, std::size_t{1}));
    EXPECT_EQ(line_column("ab\ncd", 4), std::make_pair(std::size_t{2}, std::size_t{2}));
}

} // namespace
} // namespace edgeship::manifest

namespace edgeship::manifest {
namespace {
TEST(ExpandJson, ErrorRightAfterASplicedValueNamesTheVariable) {
    auto r = expand_json("{\n  \"a\": $TTL\n}", "t.json", {{"TTL", "7200,"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message().rfind("t.json:3:1: not valid JSON after variable expansion (after the value of ${TTL}): ", 0),
              0u)
        << r.error().message();
}
} // namespace
} // namespace edgeship::manifest

namespace edgeship::manifest {
namespace {
TEST(ExpandJson, StrictFailsOnUndefinedBeforeParsing) {
    auto r = expand_json("{\n  \"a\": $NOPE,\n  \"b\": \"${ALSO}\"\n}", "t.json", {}, StrictVariables::yes);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "undefined variables (--strict): t.json:2:8 $NOPE, t.json:3:9 $ALSO");
    EXPECT_EQ(r.error().hint_text(), "define them in .env or the environment");
}
} // namespace
} // namespace edgeship::manifest
