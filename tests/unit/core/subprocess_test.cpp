#include "core/fs.hpp"
#include "core/subprocess.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::core {
namespace {

namespace fs = std::filesystem;

const Environment k_env{{"PATH", "/usr/bin:/bin"}};

TEST(Subprocess, FindsProgramsOnTheCapturedPath) {
    auto sh = find_program("sh", k_env);
    ASSERT_TRUE(sh.has_value());
    EXPECT_TRUE(sh->is_absolute());
    EXPECT_FALSE(find_program("sh", {{"PATH", "/nonexistent"}}).has_value());
    EXPECT_FALSE(find_program("/nonexistent/tool", k_env).has_value());
    EXPECT_FALSE(find_program("", k_env).has_value());
}

TEST(Subprocess, RunsInItsDirectoryWithItsEnvironmentAndReportsTheExit) {
    test::TempDir dir;
    ChildRun run;
    run.argv = {find_program("sh", k_env)->string(), "-c", "pwd; echo \"$GREETING\"; echo oops >&2; exit 3"};
    run.env = k_env;
    run.env["GREETING"] = "hello";
    run.cwd = dir / "";
    run.stdout_file = dir / "out";
    run.stderr_file = dir / "err";
    run.cancel = nullptr;
    auto exit = run_child(run);
    ASSERT_TRUE(exit) << exit.error().what();
    EXPECT_TRUE(exit->exited);
    EXPECT_EQ(exit->code, 3);
    EXPECT_FALSE(exit->ok());
    auto out = read_file(dir / "out").value();
    EXPECT_NE(out.find("hello"), std::string::npos);
    EXPECT_NE(out.find(fs::canonical(dir / "").string()), std::string::npos);
    EXPECT_EQ(tail_lines(dir / "err", 5), std::vector<std::string>{"oops"});
}

TEST(Subprocess, ATimeoutStopsTheWholeGroup) {
    test::TempDir dir;
    ChildRun run;
    run.argv = {find_program("sh", k_env)->string(), "-c", "sleep 30 & sleep 30"};
    run.env = k_env;
    run.timeout = std::chrono::seconds(1);
    run.cancel = nullptr;
    const auto t0 = std::chrono::steady_clock::now();
    auto exit = run_child(run);
    ASSERT_TRUE(exit) << exit.error().what();
    EXPECT_TRUE(exit->timed_out);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    run.argv = {(dir / "missing").string()};
    auto missing = run_child(run);
    ASSERT_FALSE(missing);
    EXPECT_NE(std::string(missing.error().what()).find("cannot run"), std::string::npos);
}

TEST(TempDirTest, RemovedWithItsContents) {
    test::TempDir parent;
    fs::path kept;
    {
        auto made = TempDir::create(parent / "sub", "x-");
        ASSERT_TRUE(made) << made.error().what();
        kept = made->path();
        EXPECT_EQ(kept.filename().string().rfind("x-", 0), 0u);
        fs::create_directories(kept / "a");
        write_file_atomic(kept / "a/b", "c").value();
        TempDir moved(std::move(*made));
        EXPECT_TRUE(fs::exists(kept / "a/b"));
    }
    EXPECT_FALSE(fs::exists(kept));
}

TEST(Subprocess, TailLinesOfTextKeepTheLastNonEmptyLines) {
    using namespace std::string_view_literals;
    EXPECT_EQ(tail_lines("a\n\nb \r\nc\nd"sv, 3), (std::vector<std::string>{"b", "c", "d"}));
    EXPECT_EQ(tail_lines("one\n"sv, 5), std::vector<std::string>{"one"});
    EXPECT_TRUE(tail_lines(""sv, 5).empty());
    EXPECT_TRUE(tail_lines("x\ny"sv, 0).empty());
}

} // namespace
} // namespace edgeship::core

