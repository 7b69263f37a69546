#include "core/result.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace edgeship {
namespace {

Result<int> parse_positive(int v) {
    if (v <= 0) {
        return fail("value must be positive, got " + std::to_string(v), ExitCode::validation);
    }
    return v;
}

Result<int> doubled(int v) {
    EDGESHIP_TRY_ASSIGN(int x, parse_positive(v));
    return x * 2;
}

Result<void> check_twice(int v) {
    EDGESHIP_TRY(parse_positive(v));
    EDGESHIP_TRY(parse_positive(v - 1));
    return {};
}

TEST(Result, HoldsValue) {
    auto r = doubled(21);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 42);
}

TEST(Result, PropagatesErrorWithCode) {
    auto r = doubled(-1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::validation);
    EXPECT_EQ(r.error().message(), "value must be positive, got -1");
}

TEST(Result, VoidResultPropagates) {
    EXPECT_TRUE(check_twice(5));
    auto r = check_twice(1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "value must be positive, got 0");
}

TEST(Result, MoveOnlyValues) {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
    ASSERT_TRUE(r);
    auto p = std::move(r).value();
    EXPECT_EQ(*p, 7);
}

TEST(Error, ContextIsOutermostFirstAndOneLine) {
    Error e("401 Unauthorized\nbody");
    e.context("uploading sha256:ab").context("pushing app:1.0");
    EXPECT_EQ(e.what(), "pushing app:1.0: uploading sha256:ab: 401 Unauthorized body");
    EXPECT_EQ(e.code(), ExitCode::failure);
}

TEST(Error, HintIsKeptSeparately) {
    auto e = Error("unknown command 'isnpect'", ExitCode::usage).hint("did you mean 'inspect'?");
    EXPECT_EQ(e.hint_text(), "did you mean 'inspect'?");
    EXPECT_EQ(to_int(e.code()), 2);
}

} // namespace
} // namespace edgeship
