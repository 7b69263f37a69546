#include "core/status_line.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace edgeship::core {
namespace {

TEST(StatusLine, ElideKeepsShortTextAndCutsLongTextWithAnEllipsis) {
    EXPECT_EQ(elide_to_width("abcde", 5), "abcde");
    EXPECT_EQ(elide_to_width("abcdef", 5), "abcd…");
    EXPECT_EQ(elide_to_width("abcdef", 1), "…");
    EXPECT_EQ(elide_to_width("abc", 0), "");
    EXPECT_EQ(elide_to_width("", 3), "");
}

TEST(StatusLine, ElideCountsCodePointsAndNeverSplitsOne) {
    // "é" and "…" are two and three bytes but one column each.
    EXPECT_EQ(elide_to_width("éééé", 4), "éééé");
    EXPECT_EQ(elide_to_width("éééééé", 4), "ééé…");
    EXPECT_EQ(elide_to_width("sha256:ab12… 1 MiB", 12), "sha256:ab12…");
    EXPECT_EQ(elide_to_width("sha256:ab12… 1 MiB", 11), "sha256:ab1…");
}

TEST(StatusLine, SmartTerminalRedrawsInPlaceAndErasesTheRest) {
    std::ostringstream out;
    StatusLine line(out, true, 10); // 9 columns: the last one stays free
    EXPECT_FALSE(line.drawn());
    line.clear(); // nothing drawn: nothing written
    EXPECT_EQ(out.str(), "");
    line.update("a long first update");
    line.update("short");
    EXPECT_TRUE(line.drawn());
    line.clear();
    EXPECT_FALSE(line.drawn());
    line.clear();
    EXPECT_EQ(out.str(), "\ra long f…\x1b[K\rshort\x1b[K\r\x1b[K");
}

TEST(StatusLine, ElsewhereEveryUpdateIsALineAndNothingIsErased) {
    std::ostringstream out;
    StatusLine line(out, false, 10);
    line.update("a long first update");
    line.update("short");
    line.clear();
    EXPECT_FALSE(line.drawn());
    EXPECT_EQ(out.str(), "a long first update\nshort\n");
}

TEST(StatusLine, ZeroWidthMeansTheDefault) {
    std::ostringstream out;
    StatusLine line(out, true, 0);
    const std::string text(k_default_status_width + 5, 'x');
    line.update(text);
    EXPECT_EQ(out.str(), "\r" + std::string(k_default_status_width - 2, 'x') + "…\x1b[K");
}

} // namespace
} // namespace edgeship::core
