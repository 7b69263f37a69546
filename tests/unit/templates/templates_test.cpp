#include "templates/embedded.hpp"
#include "templates/engine.hpp"
#include "templates/source.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <sstream>

namespace edgeship::templates {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::TempDir;
using test::write_text;

TEST(Engine, RendersValuesAndRepeatedSections) {
    Dictionary d;
    d.set("NAME", "score");
    d.add_section("ROW").set("V", "1");
    d.add_section("ROW").set("V", "2");
    auto out = render("t", "module {{NAME}}:{{#ROW}} [{{V}} of {{NAME}}]{{/ROW}}{{#HIDDEN}}no{{/HIDDEN}}\n", d);
    ASSERT_TRUE(out) << out.error().what();
    EXPECT_EQ(*out, "module score: [1 of score] [2 of score]\n");
}

TEST(Engine, KeepsWhitespaceAndJsonBracesExactly) {
    Dictionary d;
    d.set("X", "a\"b");
    auto out = render("t", "  {\"a\": {\"b\": [1]}}\n\n\t{{X}}\n", d);
    ASSERT_TRUE(out);
    EXPECT_EQ(*out, "  {\"a\": {\"b\": [1]}}\n\n\ta\"b\n");
}

TEST(Engine, SyntaxErrorIsAnErrorNamingTheTemplateAndNothingReachesStderr) {
    std::ostringstream captured;
    auto* old = std::cerr.rdbuf(captured.rdbuf());
    auto out = render("runtimes/x/app.py", "ok {{BROKEN", Dictionary{});
    std::cerr.rdbuf(old);
    ASSERT_FALSE(out);
    EXPECT_NE(out.error().message().find("runtimes/x/app.py: template syntax error"), std::string::npos)
        << out.error().message();
    EXPECT_NE(out.error().message().find("No ending '}}'"), std::string::npos) << out.error().message();
    EXPECT_EQ(captured.str(), "");
}

TEST(Embedded, TableMatchesTemplatesDirectoryByteForByte) {
    fs::path root = test::source_dir() / "templates";
    std::size_t on_disk = 0;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) {
            continue;
        }
        ++on_disk;
        std::string rel = fs::relative(e.path(), root).generic_string();
        auto embedded = find_embedded(rel);
        ASSERT_TRUE(embedded.has_value()) << rel << " is not embedded";
        EXPECT_EQ(std::string(*embedded), read_text(e.path())) << rel;
    }
    EXPECT_EQ(embedded_files().size(), on_disk);
    EXPECT_FALSE(find_embedded("runtimes/nope.json").has_value());
    // sorted, so lookup by binary search is valid
    auto files = embedded_files();
    for (std::size_t i = 1; i < files.size(); ++i) {
        EXPECT_LT(files[i - 1].name, files[i].name);
    }
}

TEST(Source, UserDirectoryOverridesEmbeddedAndAddsFiles) {
    TempDir dir;
    fs::create_directories(dir / "solution");
    write_text(dir / "solution/env", "CUSTOM=1\n");
    write_text(dir / "solution/extra.txt", "x");
    auto src = TemplateSource::open(dir.path());
    ASSERT_TRUE(src);
    EXPECT_EQ(*src->read("solution/env"), "CUSTOM=1\n");
    EXPECT_EQ(src->origin("solution/env"), (dir / "solution/env").string());
    EXPECT_EQ(src->origin("solution/gitignore"), "embedded");
    EXPECT_EQ(*src->read("solution/gitignore"), std::string(*find_embedded("solution/gitignore")));
    auto names = src->list("solution/");
    EXPECT_NE(std::find(names.begin(), names.end(), "solution/extra.txt"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "solution/deployment.template.json"), names.end());
}

TEST(Source, MissingDirectoryAndMissingTemplateAreErrors) {
    auto src = TemplateSource::open("/nonexistent/edgeship-templates");
    ASSERT_FALSE(src);
    EXPECT_EQ(src.error().code(), ExitCode::usage);
    TemplateSource embedded;
    auto r = embedded.read("runtimes/none/runtime.json");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "template 'runtimes/none/runtime.json' not found in the embedded templates");
}

} // namespace
} // namespace edgeship::templates
