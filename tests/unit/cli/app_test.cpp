#include "cli/app.hpp"
#include "cli/commands.hpp"
#include "core/cancel.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <sstream>

namespace edgeship::cli {
namespace {

using test::run_cli;
using test::TempDir;

TEST(App, HelpGoesToStdoutWithExamplesAndExitCodes) {
    auto r = run_cli({"--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("Examples:"), std::string::npos);
    EXPECT_NE(r.out.find("130 interrupted"), std::string::npos);
    EXPECT_EQ(r.err, "");
}

TEST(App, EveryCommandHelpHasExamples) {
    for (const auto* cmd : {"inspect", "check", "completion", "version"}) {
        auto r = run_cli({cmd, "--help"});
        EXPECT_EQ(r.code, 0) << cmd;
        EXPECT_NE(r.out.find("Examples:"), std::string::npos) << cmd;
        EXPECT_NE(r.out.find(std::string("edgeship ") + cmd), std::string::npos) << cmd;
    }
}

// CLI11 lists "Excludes: --a --b" in pointer order: compare those lists as sets.
std::string sorted_excludes(const std::string& help) {
    std::istringstream in(help);
    std::string out;
    for (std::string line; std::getline(in, line);) {
        if (auto at = line.find("Excludes: "); at != std::string::npos) {
            std::istringstream words(line.substr(at + 10));
            std::vector<std::string> names{std::istream_iterator<std::string>(words), {}};
            std::sort(names.begin(), names.end());
            line = line.substr(0, at + 10);
            for (const auto& n : names) {
                line += n + " ";
            }
        }
        out += line + "\n";
    }
    return out;
}

// run() registers only the command the line names (start-up time); what the user sees must not change.
TEST(App, OneCommandAppHelpEqualsTheFullTreeHelp) {
    FakeIo fake;
    Context full_ctx(fake.io, {});
    GlobalOptions g1;
    auto full = make_app(full_ctx, g1);
    const auto commands = full->get_subcommands({});
    ASSERT_GT(commands.size(), 20u);
    for (const auto* cmd : commands) {
        const std::string name = cmd->get_name();
        Context one_ctx(fake.io, {});
        GlobalOptions g2;
        auto one = make_app(one_ctx, g2, name);
        EXPECT_EQ(one->get_subcommands({}).size(), 1u) << name;
        EXPECT_EQ(sorted_excludes(one->get_subcommand(name)->help()), sorted_excludes(cmd->help())) << name;
    }
    Context ctx(fake.io, {});
    GlobalOptions g;
    auto all = make_app(ctx, g, "no-such-command");
    EXPECT_EQ(all->get_subcommands({}).size(), commands.size()) << "an unknown word registers every command";
}

TEST(App, RootHelpAndHelpAllListEveryCommandWhateverTheLine) {
    auto root = run_cli({"--help"});
    auto all = run_cli({"--help-all"});
    for (const auto* cmd : {"ship", "convert", "push", "deploy", "version"}) {
        EXPECT_NE(root.out.find(std::string("\n  ") + cmd + " "), std::string::npos) << cmd;
        EXPECT_NE(all.out.find(std::string("\n") + cmd + "\n"), std::string::npos) << cmd;
    }
}

TEST(App, UnknownCommandSuggestsTheClosestOne) {
    auto r = run_cli({"isnpect", "model.onnx"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "edgeship: error: unknown command 'isnpect'\nhint: did you mean 'inspect'?\n");
}

TEST(App, UnknownCommandWithNothingClose) {
    auto r = run_cli({"zzzzzzzz"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: unknown command 'zzzzzzzz'\nhint: run 'edgeship --help' for the list of commands\n");
}

TEST(App, NoCommandIsAUsageError) {
    auto r = run_cli({});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: a command is required\nhint: run 'edgeship --help'\n");
}

TEST(App, ParseErrorsExitTwoNotCli11Codes) {
    auto missing = run_cli({"inspect"});
    EXPECT_EQ(missing.code, 2);
    EXPECT_EQ(missing.err, "edgeship: error: MODEL is required\nhint: run 'edgeship inspect --help'\n");
    auto unknown_flag = run_cli({"inspect", "--bogus", "m.onnx"});
    EXPECT_EQ(unknown_flag.code, 2);
    EXPECT_NE(unknown_flag.err.find("--bogus"), std::string::npos);
    auto bad_shell = run_cli({"completion", "tcsh"});
    EXPECT_EQ(bad_shell.code, 2);
}

TEST(App, QuietAndVerboseConflict) {
    auto r = run_cli({"-q", "-v", "version"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: -q and -v cannot be combined\nhint: choose one of them\n");
}

TEST(App, VersionFlagAndCommand) {
    auto flag = run_cli({"--version"});
    EXPECT_EQ(flag.code, 0);
    EXPECT_EQ(flag.out, version_line() + "\n");
    auto json = run_cli({"version", "--json"});
    ASSERT_EQ(json.code, 0);
    auto j = nlohmann::json::parse(json.out);
    EXPECT_FALSE(j["version"].get<std::string>().empty());
    EXPECT_TRUE(j.contains("git_commit"));
    for (const auto* dep : {"cli11", "nlohmann_json", "onnx", "protobuf", "openssl", "libcurl", "libarchive"}) {
        EXPECT_FALSE(j["dependencies"][dep].get<std::string>().empty()) << dep;
    }
    EXPECT_EQ(j["dependencies"]["onnx"], "1.12.0");
}

TEST(App, SettingsOriginsShownWithVerbose) {
    // flag > environment > .env > default, each origin printed by -v.
    TempDir dir;
    test::write_text(dir / "my.env", "EDGESHIP_COLOR=always\n");
    auto from_default = run_cli({"-v", "version"}, {});
    EXPECT_NE(from_default.err.find("debug: (default) color = auto"), std::string::npos) << from_default.err;
    auto from_file = run_cli({"-v", "--env-file", (dir / "my.env").string(), "version"}, {{"NO_COLOR", "1"}});
    EXPECT_NE(from_file.err.find("(" + (dir / "my.env").string() + " EDGESHIP_COLOR) color = always"),
              std::string::npos)
        << from_file.err;
    auto from_env = run_cli({"-v", "--env-file", (dir / "my.env").string(), "version"},
                            {{"NO_COLOR", "1"}, {"EDGESHIP_COLOR", "never"}});
    EXPECT_NE(from_env.err.find("(env EDGESHIP_COLOR) color = never"), std::string::npos) << from_env.err;
    auto from_flag = run_cli({"-v", "--color", "never", "--env-file", (dir / "my.env").string(), "version"},
                             {{"EDGESHIP_COLOR", "always"}});
    EXPECT_NE(from_flag.err.find("(flag --color) color = never"), std::string::npos) << from_flag.err;
}

TEST(App, InvalidSettingNamesItsOrigin) {
    auto r = run_cli({"version"}, {{"EDGESHIP_COLOR", "purple"}});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: color: invalid value 'purple' (from env EDGESHIP_COLOR)\n"
                     "hint: use auto, always or never\n");
}

TEST(App, MissingEnvFileIsAnError) {
    auto r = run_cli({"--env-file", "/nonexistent/.env", "version"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err, "edgeship: error: reading --env-file: /nonexistent/.env: no such file\n");
}

TEST(App, ColourRules) {
    EXPECT_FALSE(colour_enabled({{"NO_COLOR", "1"}}, true, "auto"));
    EXPECT_FALSE(colour_enabled({{"NO_COLOR", ""}, {"CLICOLOR_FORCE", "1"}}, true, "always"));
    EXPECT_TRUE(colour_enabled({{"CLICOLOR_FORCE", "1"}}, false, "auto"));
    EXPECT_TRUE(colour_enabled({{"TERM", "xterm"}}, true, "auto"));
    EXPECT_FALSE(colour_enabled({{"TERM", "dumb"}}, true, "auto"));
    EXPECT_FALSE(colour_enabled({}, false, "auto"));
    EXPECT_FALSE(colour_enabled({{"CLICOLOR_FORCE", "1"}}, true, "never"));
    // Errors are painted only when colour is on.
    auto coloured = run_cli({"isnpect"}, {{"CLICOLOR_FORCE", "1"}}, test::with_colour_rules());
    EXPECT_NE(coloured.err.find("\x1b[1;31medgeship: error:\x1b[0m"), std::string::npos);
    auto plain = run_cli({"isnpect"}, {{"NO_COLOR", "1"}, {"CLICOLOR_FORCE", "1"}});
    EXPECT_EQ(plain.err.find("\x1b["), std::string::npos);
}

TEST(App, ProgressRules) {
    EXPECT_TRUE(progress_enabled({{"TERM", "xterm"}}, true, Verbosity::normal, false));
    EXPECT_FALSE(progress_enabled({{"TERM", "xterm"}}, false, Verbosity::normal, false));
    EXPECT_FALSE(progress_enabled({{"TERM", "dumb"}}, true, Verbosity::normal, false));
    EXPECT_FALSE(progress_enabled({{"TERM", "xterm"}}, true, Verbosity::quiet, false));
    EXPECT_FALSE(progress_enabled({{"TERM", "xterm"}}, true, Verbosity::normal, true));
}

TEST(App, InterruptedRunExitsOneThirty) {
    // What the SIGINT handler does: set the token. The command finishes its step, then run() reports
    // the interruption instead of success.
    core::CancelToken::global().cancel();
    auto r = run_cli({"version"});
    core::CancelToken::global().reset();
    EXPECT_EQ(r.code, 130);
    EXPECT_EQ(r.err, "edgeship: error: interrupted\n");
}

TEST(App, ClosestMatch) {
    std::vector<std::string> cmds{"inspect", "check", "completion", "version"};
    EXPECT_EQ(closest_match("chek", cmds), "check");
    EXPECT_EQ(closest_match("versoin", cmds), "version");
    EXPECT_EQ(closest_match("comp", cmds), "completion");
    EXPECT_EQ(closest_match("deploy", cmds), "");
}

} // namespace
} // namespace edgeship::cli
