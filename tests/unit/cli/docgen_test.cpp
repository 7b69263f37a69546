#include "cli/app.hpp"
#include "cli/commands.hpp"
#include "cli/docgen_commands.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

namespace edgeship::cli {
namespace {

using test::TempDir;

struct Tree {
    FakeIo fake;
    Context ctx{fake.io, {}};
    GlobalOptions globals;
    std::unique_ptr<CLI::App> app = make_app(ctx, globals);
};

const DocPage* find_page(const std::vector<DocPage>& pages, const std::string& name) {
    auto it = std::find_if(pages.begin(), pages.end(), [&](const DocPage& p) { return p.file_name == name; });
    return it == pages.end() ? nullptr : &*it;
}

TEST(Docgen, EveryCommandHasAnExamplesFooter) {
    Tree t;
    auto missing = commands_without_examples(*t.app);
    EXPECT_TRUE(missing.empty()) << "commands without an Examples: footer: " << ::testing::PrintToString(missing);
}

TEST(Docgen, DetectsACommandWithoutExamples) {
    Tree t;
    auto* sub = t.app->add_subcommand("undocumented", "A command someone forgot to document");
    sub->group("Commands");
    sub->footer("Exit codes: 0 always.");
    auto* prose_only = t.app->add_subcommand("prose", "Examples in words only");
    prose_only->group("Commands");
    prose_only->footer("Examples:\n  (none yet)\n\nSee edgeship --help.");
    auto* piped = t.app->add_subcommand("piped", "Examples in a pipe count");
    piped->group("Commands");
    piped->footer("Notes first.\n\nExamples:\n  printf x | \\\n      edgeship piped --password-stdin");
    auto missing = commands_without_examples(*t.app);
    EXPECT_EQ(missing, (std::vector<std::string>{"edgeship undocumented", "edgeship prose"}));
}

TEST(Docgen, OneManPagePerVisibleCommandAndNoneForHiddenOnes) {
    Tree t;
    auto paths = command_paths(*t.app);
    auto pages = man_pages(*t.app, "1.2.3");
    ASSERT_EQ(pages.size(), paths.size() + 1);
    EXPECT_EQ(pages.front().file_name, "edgeship.1");
    for (const auto& path : paths) {
        std::string name = path;
        std::replace(name.begin(), name.end(), ' ', '-');
        EXPECT_NE(find_page(pages, name + ".1"), nullptr) << path;
    }
    EXPECT_NE(std::find(paths.begin(), paths.end(), "edgeship deployment create"), paths.end());
    EXPECT_NE(std::find(paths.begin(), paths.end(), "edgeship module add"), paths.end());
    for (const auto& p : pages) {
        EXPECT_EQ(p.content.find("__docgen"), std::string::npos) << p.file_name;
        EXPECT_EQ(p.content.find("__complete"), std::string::npos) << p.file_name;
    }
}

TEST(Docgen, ManPagesAreAsciiRoffWithEscapedMinusSigns) {
    Tree t;
    for (const auto& p : man_pages(*t.app, "1.2.3")) {
        EXPECT_TRUE(std::all_of(p.content.begin(), p.content.end(), [](char c) { return (c & 0x80) == 0; }))
            << p.file_name << " has non-ASCII bytes";
        EXPECT_NE(p.content.find(".TH \""), std::string::npos) << p.file_name;
        EXPECT_NE(p.content.find("\"edgeship 1.2.3\""), std::string::npos) << p.file_name;
        // Every text line that could be read as a request is a known macro.
        std::istringstream in(p.content);
        for (std::string line; std::getline(in, line);) {
            if (line.starts_with(".") || line.starts_with("'")) {
                static const std::set<std::string> k_macros = {".TH", ".SH", ".TP", ".PP", ".RS", ".RE", ".ad", ".nh",
                                                              ".nf", ".fi", ".\\\""};
                EXPECT_TRUE(k_macros.contains(line.substr(0, line.find(' ')))) << p.file_name << ": " << line;
            }
        }
    }
}

TEST(Docgen, CommandPageCarriesOptionsExamplesAndSeeAlso) {
    Tree t;
    auto pages = man_pages(*t.app, "1.2.3");
    const auto* create = find_page(pages, "edgeship-deployment-create.1");
    ASSERT_NE(create, nullptr);
    const auto& c = create->content;
    EXPECT_NE(c.find(".SH NAME\nedgeship\\-deployment\\-create \\- Create a deployment"), std::string::npos) << c;
    EXPECT_NE(c.find("\\fB\\-m\\fR, \\fB\\-\\-manifest\\fR \\fITEXT\\fR"), std::string::npos) << c;
    EXPECT_NE(c.find("(required)"), std::string::npos);
    EXPECT_NE(c.find(".SH EXAMPLES\n.RS 2\n.nf\nedgeship deployment create score\\-v1"), std::string::npos) << c;
    EXPECT_NE(c.find(".SH SEE ALSO\n\\fBedgeship\\fR(1),\n\\fBedgeship\\-deployment\\fR(1)\n"), std::string::npos) << c;
    EXPECT_NE(c.find(".SH EXIT STATUS"), std::string::npos);
    EXPECT_NE(c.find("\\fB130\\fR\ninterrupted"), std::string::npos);

    const auto* parent = find_page(pages, "edgeship-deployment.1");
    ASSERT_NE(parent, nullptr);
    EXPECT_NE(parent->content.find(".SH COMMANDS"), std::string::npos);
    EXPECT_NE(parent->content.find("\\fBedgeship\\-deployment\\-status\\fR(1)"), std::string::npos);
}

TEST(Docgen, RootPageListsCommandsEnvironmentAndFiles) {
    Tree t;
    auto pages = man_pages(*t.app, "1.2.3");
    const auto& root = pages.front().content;
    EXPECT_NE(root.find("\\fBdeployment create\\fR"), std::string::npos);
    EXPECT_NE(root.find("\\fBEDGESHIP_COLOR\\fR"), std::string::npos);
    EXPECT_NE(root.find("\\fBEDGESHIP_IOTHUB_CONNECTION_STRING\\fR, \\fBIOTHUB_CONNECTION_STRING\\fR"),
              std::string::npos);
    EXPECT_NE(root.find("A secret: never printed"), std::string::npos);
    EXPECT_NE(root.find("/usr/share/edgeship/templates"), std::string::npos);
    EXPECT_NE(root.find("\\fB\\-\\-env\\-file\\fR \\fITEXT\\fR"), std::string::npos);
}

TEST(Docgen, ReferenceHasAnIndexAndOnePagePerTopLevelCommand) {
    Tree t;
    auto pages = reference_pages(*t.app);
    ASSERT_NE(find_page(pages, "README.md"), nullptr);
    const auto* dep = find_page(pages, "deployment.md");
    ASSERT_NE(dep, nullptr);
    EXPECT_EQ(find_page(pages, "deployment-create.md"), nullptr); // subcommands are sections
    EXPECT_EQ(find_page(pages, "__docgen.md"), nullptr);
    EXPECT_NE(dep->content.find("## edgeship deployment create\n"), std::string::npos);
    EXPECT_NE(dep->content.find("| `-m, --manifest TEXT` | Deployment manifest (required) |"), std::string::npos)
        << dep->content;
    EXPECT_NE(dep->content.find("### Examples\n\n```text\nedgeship deployment create score-v1"), std::string::npos);
    const auto& index = find_page(pages, "README.md")->content;
    EXPECT_NE(index.find("| [`edgeship deployment create`](deployment.md#edgeship-deployment-create) |"),
              std::string::npos);
    EXPECT_NE(index.find("## Exit codes"), std::string::npos);
    EXPECT_NE(index.find("| `iothub_connection_string` (secret) |"), std::string::npos);
    EXPECT_EQ(index.find("1.2.3"), std::string::npos);
}

TEST(Docgen, HiddenCommandWritesThePagesAtomically) {
    TempDir dir;
    FakeIo fake;
    auto out = dir.path() / "man";
    int code = run({"__docgen", "man", out.string()}, fake.io, {{"NO_COLOR", "1"}});
    ASSERT_EQ(code, 0) << fake.err.str();
    EXPECT_TRUE(std::filesystem::is_regular_file(out / "edgeship.1"));
    EXPECT_TRUE(std::filesystem::is_regular_file(out / "edgeship-module-add.1"));
    EXPECT_EQ(fake.out.str(), "");
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(out)) {
        EXPECT_EQ(e.path().extension(), ".1") << e.path(); // no temporaries left behind
        ++n;
    }
    Tree t;
    EXPECT_EQ(n, command_paths(*t.app).size() + 1);
}

TEST(Docgen, HiddenCommandStaysOutOfHelpAndCompletion) {
    FakeIo fake;
    ASSERT_EQ(run({"--help"}, fake.io, {{"NO_COLOR", "1"}}), 0);
    EXPECT_EQ(fake.out.str().find("__docgen"), std::string::npos);
    Tree t;
    auto words = complete_words(*t.app, {"__"});
    EXPECT_TRUE(words.empty()) << ::testing::PrintToString(words);
}

TEST(Docgen, BadFormatIsAUsageError) {
    TempDir dir;
    FakeIo fake;
    EXPECT_EQ(run({"__docgen", "html", dir.path().string()}, fake.io, {{"NO_COLOR", "1"}}), 2);
    EXPECT_NE(fake.err.str().find("edgeship: error:"), std::string::npos);
}

} // namespace
} // namespace edgeship::cli
