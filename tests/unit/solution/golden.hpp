#pragma once
// Golden files (tests/fixtures/golden/): compared byte for byte; EDGESHIP_UPDATE_GOLDEN=1 rewrites them.

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace edgeship::test {

inline bool update_golden() {
    const char* v = std::getenv("EDGESHIP_UPDATE_GOLDEN");
    return v != nullptr && std::string(v) == "1";
}

inline std::filesystem::path golden_dir() { return source_dir() / "tests" / "fixtures" / "golden"; }

/// Compares `actual` with golden file `rel` (under tests/fixtures/golden/), or rewrites it.
inline void expect_golden(const std::string& rel, const std::string& actual) {
    auto path = golden_dir() / rel;
    if (update_golden()) {
        std::filesystem::create_directories(path.parent_path());
        write_text(path, actual);
        return;
    }
    ASSERT_TRUE(std::filesystem::is_regular_file(path))
        << "missing golden file " << path << " (run with EDGESHIP_UPDATE_GOLDEN=1 to create it)";
    EXPECT_EQ(read_text(path), actual) << "golden file " << rel << " differs (EDGESHIP_UPDATE_GOLDEN=1 rewrites it)";
}

} // namespace edgeship::test
