#pragma once

// Small text formatting shared by commands' human-readable output.

#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>

namespace edgeship::cli {

/// "937 B", "12.0 KiB", "1.5 MiB": binary units, one decimal above bytes.
inline std::string human_bytes(std::uint64_t n) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    std::ostringstream s;
    if (u == 0) {
        s << n << " B";
    } else {
        s << std::fixed << std::setprecision(1) << v << ' ' << units[u];
    }
    return s.str();
}

} // namespace edgeship::cli
