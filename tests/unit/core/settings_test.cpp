#include "core/env.hpp"
#include "core/settings.hpp"

#include <gtest/gtest.h>

namespace edgeship::core {
namespace {

const std::vector<SettingDef> k_defs = {
    {"registry", "--registry", {"EDGESHIP_REGISTRY", "CONTAINER_REGISTRY_SERVER"}, std::nullopt, "", false},
    {"color", "--color", {"EDGESHIP_COLOR"}, "auto", "", false},
    {"password", "", {"EDGESHIP_PASSWORD"}, std::nullopt, "", true},
};

TEST(Settings, FlagBeatsEnvironmentBeatsDotenvBeatsDefault) {
    Environment env{{"EDGESHIP_REGISTRY", "env.example"}, {"EDGESHIP_COLOR", "never"}};
    Environment dotenv{{"EDGESHIP_REGISTRY", "dotenv.example"}, {"EDGESHIP_COLOR", "always"}};
    auto s = Settings::resolve(k_defs, {{"registry", "flag.example"}}, env, dotenv, ".env");
    EXPECT_EQ(s.get("registry"), "flag.example");
    EXPECT_EQ(s.find("registry")->origin, Origin::flag);
    EXPECT_EQ(s.get("color"), "never");
    EXPECT_EQ(s.find("color")->source, "env EDGESHIP_COLOR");

    auto s2 = Settings::resolve(k_defs, {}, {}, dotenv, "sol/.env");
    EXPECT_EQ(s2.get("registry"), "dotenv.example");
    EXPECT_EQ(s2.find("registry")->source, "sol/.env EDGESHIP_REGISTRY");

    auto s3 = Settings::resolve(k_defs, {}, {}, {}, ".env");
    EXPECT_EQ(s3.get("color"), "auto");
    EXPECT_EQ(s3.find("color")->origin, Origin::default_value);
    EXPECT_FALSE(s3.get("registry").has_value());
}

TEST(Settings, EstablishedNamesAreReadAfterOurs) {
    Environment env{{"CONTAINER_REGISTRY_SERVER", "acr.example"}};
    auto s = Settings::resolve(k_defs, {}, env, {}, ".env");
    EXPECT_EQ(s.get("registry"), "acr.example");
    EXPECT_EQ(s.find("registry")->source, "env CONTAINER_REGISTRY_SERVER");
}

TEST(Settings, DescribeRedactsSecrets) {
    Environment env{{"EDGESHIP_PASSWORD", "hunter2"}};
    auto s = Settings::resolve(k_defs, {}, env, {}, ".env");
    auto lines = s.describe();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "(default) color = auto");
    EXPECT_EQ(lines[1], "(env EDGESHIP_PASSWORD) password = <redacted>");
    for (const auto& l : lines) {
        EXPECT_EQ(l.find("hunter2"), std::string::npos);
    }
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
