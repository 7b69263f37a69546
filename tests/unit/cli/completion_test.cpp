#include "cli/app.hpp"
#include "cli/commands.hpp"

#include <gtest/gtest.h>

namespace edgeship::cli {
namespace {

std::vector<std::string> complete(const std::vector<std::string>& words) {
    FakeIo fake;
    Context ctx(fake.io, {});
    GlobalOptions g;
    auto app = make_app(ctx, g);
    return complete_words(*app, words);
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Complete, CommandsByPrefix) {
    EXPECT_EQ(complete({"ins"}), std::vector<std::string>{"inspect"});
    auto all = complete({""});
    EXPECT_TRUE(has(all, "inspect"));
    EXPECT_TRUE(has(all, "version"));
    for (const auto& c : all) {
        EXPECT_FALSE(c.starts_with("__")) << "hidden commands are not offered";
    }
}

TEST(Complete, OptionsOfTheSelectedCommandAndGlobals) {
    auto opts = complete({"inspect", "--"});
    EXPECT_TRUE(has(opts, "--json"));
    EXPECT_TRUE(has(opts, "--strict-shapes"));
    EXPECT_TRUE(has(opts, "--verbose")); // global flags apply after the command too
    EXPECT_EQ(complete({"inspect", "--j"}), std::vector<std::string>{"--json"});
}

TEST(Complete, GlobalOptionValuesAreSkipped) {
    EXPECT_EQ(complete({"--color", "never", "ch"}), std::vector<std::string>{"check"});
    EXPECT_TRUE(complete({"--env-file", ""}).empty()); // a file: the shell completes it
}

TEST(Complete, ThroughTheEntryPoint) {
    FakeIo fake;
    EXPECT_EQ(run({"__complete", "comp"}, fake.io, {}), 0);
    EXPECT_EQ(fake.out.str(), "completion\n");
}

TEST(Completion, ScriptsCallTheHiddenCommand) {
    for (const auto* shell : {"bash", "zsh", "fish"}) {
        FakeIo fake;
        EXPECT_EQ(run({"completion", shell}, fake.io, {}), 0);
        EXPECT_NE(fake.out.str().find("edgeship __complete"), std::string::npos) << shell;
    }
}

} // namespace
} // namespace edgeship::cli
