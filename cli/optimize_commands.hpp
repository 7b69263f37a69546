#pragma once

// `edgeship optimize`: the command layer over lib/optimize (issue 4, docs/optimize.md).

#include "cli/context.hpp"

#include <CLI/App.hpp>

#include <optional>
#include <string>
#include <vector>

namespace edgeship::cli {

struct OptimizeOptions {
    std::string input;
    std::string output;
    bool fp16 = false;
    std::vector<std::string> fp16_block; ///< op types added to the default block list
    std::vector<std::string> fp16_allow; ///< op types removed from it
    std::string quantize;                ///< "" = none
    bool per_channel = false;
    std::string calibration;
    std::optional<int> opset;
    bool external_data = false;
    bool json = false;
    bool dry_run = false;
};
void register_optimize(CLI::App& parent, Context& ctx, Runner<OptimizeOptions> run);
Result<void> run_optimize(const OptimizeOptions& opts, Context& ctx);

} // namespace edgeship::cli
