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
    bool external_data = false;          ///< weights to OUTPUT.data beside the model (not a pass)
    /// True when a pass runs (external data only changes how the result is written).
    bool any() const { return fp16 || !quantize.empty(); }
};
void add_optimization_flags(CLI::App* sub, OptimizationFlags& flags);
/// --external-data, bound separately: only commands that write the model file themselves (convert,
/// optimize) can honour it.
void add_external_data_flag(CLI::App* sub, OptimizationFlags& flags);
/// The library options for `flags` (no opset); usage errors exit 2.
Result<optimize::OptimizeOptions> optimization_options(const OptimizationFlags& flags);

struct OptimizeOptions {
    std::string input;
    std::string output;
    OptimizationFlags passes;
    std::optional<int> opset;
    bool json = false;
    bool dry_run = false;
};
void register_optimize(CLI::App& parent, Context& ctx, Runner<OptimizeOptions> run);
Result<void> run_optimize(const OptimizeOptions& opts, Context& ctx);

} // namespace edgeship::cli
