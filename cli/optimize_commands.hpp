#pragma once

// `edgeship optimize`: the command layer over lib/optimize (issue 4, docs/optimize.md).

#include "cli/context.hpp"
#include "optimize/optimize.hpp"

#include <CLI/App.hpp>

#include <optional>
#include <string>
#include <vector>

namespace edgeship::cli {

/// The edge passes shared by `optimize` and `convert` (issue 4: "as flags of convert and as
/// edgeship optimize"), bound by add_optimization_flags() and translated by optimization_options().
struct OptimizationFlags {
    bool fp16 = false;
    std::vector<std::string> fp16_block; ///< op types added to the default block list
    std::vector<std::string> fp16_allow; ///< op types removed from it
    std::string quantize;                ///< "" = none
    bool per_channel = false;
    std::string calibration;
    bool any() const { return fp16 || !quantize.empty(); }
};
void add_optimization_flags(CLI::App* sub, OptimizationFlags& flags);
/// The library options for `flags` (no opset, no external data); usage errors exit 2.
Result<optimize::OptimizeOptions> optimization_options(const OptimizationFlags& flags);

struct OptimizeOptions {
    std::string input;
    std::string output;
    OptimizationFlags passes;
    std::optional<int> opset;
    bool external_data = false;
    bool json = false;
    bool dry_run = false;
};
void register_optimize(CLI::App& parent, Context& ctx, Runner<OptimizeOptions> run);
Result<void> run_optimize(const OptimizeOptions& opts, Context& ctx);

} // namespace edgeship::cli
