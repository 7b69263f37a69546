#include "core/env.hpp"
#include "core/settings.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace edgeship::core {
namespace {

const std::vector<SettingDef> k_defs = {
    {"registry", "--registry", {"EDGESHIP_REGISTRY", "CONTAINER_REGISTRY_SERVER"}, std::nullopt, "", false},
    {"color", "--color", {"EDGESHIP_COLOR"}, "auto", "", false},
    {"password", "", {"EDGESHIP_PASSWORD"}, std::nullopt, "", true},
};

TEST(Config, FiveLayersFlagEnvironmentSolutionGlobalDefault) {
    // One key per layer that decides it, plus one set everywhere: the highest layer wins each time.
    const std::vector<SettingDef> defs = {
        {"a", "--a", {"A"}, "default-a", "", false}, {"b", "--b", {"B"}, "default-b", "", false},
        {"c", "--c", {"C"}, "default-c", "", false}, {"d", "--d", {"D"}, "default-d", "", false},
        {"e", "--e", {"E"}, "default-e", "", false},
    };
    Environment env{{"A", "env-a"}, {"B", "env-b"}};
    Environment solution{{"A", "sol-a"}, {"B", "sol-b"}, {"C", "sol-c"}};
    Environment global{{"A", "glob-a"}, {"B", "glob-b"}, {"C", "glob-c"}, {"D", "glob-d"}};
    auto c = Config::resolve(defs, {{"a", "flag-a"}}, env, global, "my.env");
    c.set_solution_layer(solution, "sol/.env");
    EXPECT_EQ(c.get("a"), "flag-a");
    EXPECT_EQ(c.find("a")->origin, Origin::flag);
    EXPECT_EQ(c.find("a")->source, "flag --a");
    EXPECT_EQ(c.get("b"), "env-b");
    EXPECT_EQ(c.find("b")->source, "env B");
    EXPECT_EQ(c.get("c"), "sol-c");
    EXPECT_EQ(c.find("c")->origin, Origin::solution_file);
    EXPECT_EQ(c.find("c")->source, "sol/.env C");
    EXPECT_EQ(c.get("d"), "glob-d");
    EXPECT_EQ(c.find("d")->origin, Origin::config_file);
    EXPECT_EQ(c.find("d")->source, "my.env D");
    EXPECT_EQ(c.get("e"), "default-e");
    EXPECT_EQ(c.find("e")->origin, Origin::default_value);
    EXPECT_EQ(c.find("e")->source, "default");
}

TEST(Config, WithoutASolutionTheGlobalDotenvIsNextAfterTheEnvironment) {
    Environment dotenv{{"EDGESHIP_REGISTRY", "dotenv.example"}, {"EDGESHIP_COLOR", "always"}};
    auto s = Config::resolve(k_defs, {}, {}, dotenv, "sol/.env");
    EXPECT_EQ(s.get("registry"), "dotenv.example");
    EXPECT_EQ(s.find("registry")->source, "sol/.env EDGESHIP_REGISTRY");
    auto s3 = Config::resolve(k_defs, {}, {}, {}, ".env");
    EXPECT_EQ(s3.get("color"), "auto");
    EXPECT_EQ(s3.find("color")->origin, Origin::default_value);
    EXPECT_FALSE(s3.get("registry").has_value());
}

TEST(Config, CommandFlagsJoinTheTopLayerUnderTheirOwnName) {
    Environment env{{"EDGESHIP_REGISTRY", "env.example"}};
    auto c = Config::resolve(k_defs, {}, env, {}, ".env");
    c.set_flag("registry", ""); // not given: nothing changes
    EXPECT_EQ(c.find("registry")->source, "env EDGESHIP_REGISTRY");
    c.set_flag("registry", "flag.example", "--hub-registry");
    EXPECT_EQ(c.get("registry"), "flag.example");
    EXPECT_EQ(c.find("registry")->source, "flag --hub-registry");
    c.set_flag("color", "never");
    EXPECT_EQ(c.find("color")->source, "flag --color");
}

TEST(Config, EstablishedNamesAreReadAfterOurs) {
    Environment env{{"CONTAINER_REGISTRY_SERVER", "acr.example"}};
    auto s = Config::resolve(k_defs, {}, env, {}, ".env");
    EXPECT_EQ(s.get("registry"), "acr.example");
    EXPECT_EQ(s.find("registry")->source, "env CONTAINER_REGISTRY_SERVER");
}

TEST(Config, AnUndeclaredKeyIsAProgrammingError) {
    auto c = Config::resolve(k_defs, {}, {}, {}, ".env");
    EXPECT_FALSE(c.declared("regsitry"));
    EXPECT_TRUE(c.declared("registry"));
    EXPECT_THROW((void)c.get("regsitry"), std::logic_error);
    EXPECT_THROW((void)c.find("regsitry"), std::logic_error);
    EXPECT_THROW(c.set_flag("regsitry", "x"), std::logic_error);
    EXPECT_THROW((void)Config::resolve(k_defs, {{"regsitry", "x"}}, {}, {}, ".env"), std::logic_error);
}

TEST(Config, DescribeListsOnlyTheValuesReadAndRedactsSecrets) {
    Environment env{{"EDGESHIP_PASSWORD", "hunter2"}, {"EDGESHIP_REGISTRY", "env.example"}};
    auto s = Config::resolve(k_defs, {}, env, {}, ".env");
    EXPECT_TRUE(s.describe().empty());
    (void)s.get("password");
    (void)s.find("color");
    auto lines = s.describe();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "(default) color = auto");
    EXPECT_EQ(lines[1], "(env EDGESHIP_PASSWORD) password = <redacted>");
    for (const auto& l : lines) {
        EXPECT_EQ(l.find("hunter2"), std::string::npos);
    }
}

TEST(Config, DescribeShowsAValueAsItWasRead) {
    auto c = Config::resolve(k_defs, {}, {}, {{"EDGESHIP_REGISTRY", "global.example"}}, ".env");
    EXPECT_EQ(c.get("registry"), "global.example");
    c.set_solution_layer({{"EDGESHIP_REGISTRY", "sol.example"}}, "sol/.env");
    ASSERT_EQ(c.describe().size(), 1u);
    EXPECT_EQ(c.describe()[0], "(.env EDGESHIP_REGISTRY) registry = global.example");
    EXPECT_EQ(c.get("registry"), "sol.example");
    EXPECT_EQ(c.describe()[0], "(sol/.env EDGESHIP_REGISTRY) registry = sol.example");
}

TEST(Dotenv, ParsesEstablishedSyntax) {
    auto r = parse_dotenv("# comment\n"
                          "CONTAINER_REGISTRY_SERVER=localhost:5000\n"
                          "export A = spaced \n"
                          "B=\"quoted \\\"x\\\" \\n y\"  # trailing comment\n"
                          "C='single $literal'\n"
                          "D=value # inline comment\n"
                          "E=\n"
                          "\n",
                          ".env");
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->at("CONTAINER_REGISTRY_SERVER"), "localhost:5000");
    EXPECT_EQ(r->at("A"), "spaced");
    EXPECT_EQ(r->at("B"), "quoted \"x\" \n y");
    EXPECT_EQ(r->at("C"), "single $literal");
    EXPECT_EQ(r->at("D"), "value");
    EXPECT_EQ(r->at("E"), "");
}

TEST(Dotenv, ErrorsNameFileAndLine) {
    auto r = parse_dotenv("A=1\nthis is not a pair\n", "sol/.env");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "sol/.env:2: expected KEY=VALUE");
    auto q = parse_dotenv("A=\"open\n", "x.env");
    ASSERT_FALSE(q);
    EXPECT_NE(q.error().message().find("x.env:1: unterminated"), std::string::npos);
}

TEST(Environment, FromEnvp) {
    char a[] = "A=1";
    char b[] = "B=x=y";
    char bad[] = "noequals";
    char* envp[] = {a, b, bad, nullptr};
    auto env = environment_from(envp);
    EXPECT_EQ(env.size(), 2u);
    EXPECT_EQ(env.at("B"), "x=y");
}

} // namespace
} // namespace edgeship::core
