#pragma once

// `edgeship convert`: declarations kept beside the command (cli/commands.hpp holds the foundation's).

#include "cli/context.hpp"
#include "cli/framework_commands.hpp"
#include "cli/optimize_commands.hpp"

#include <CLI/App.hpp>

#include <cstdint>
#include <string>

namespace edgeship::cli {

struct ConvertOptions {
    std::string model;
    std::string output;
    std::string from;          ///< "", xgboost, lightgbm, onnx, sklearn, torch ("" = detect from content)
    std::int64_t opset = 0;    ///< 0 = default (17 for trees; unchanged for ONNX input)
    std::string name;
    bool json = false;
    bool margin = false;
    bool best_iteration = false;
    FrameworkCliOptions framework; ///< scikit-learn / PyTorch bridge flags (docs/frameworks.md)
    OptimizationFlags passes;      ///< --fp16 / --quantize after conversion (docs/optimize.md)
};
void register_convert(CLI::App& parent, Context& ctx, Runner<ConvertOptions> run);
Result<void> run_convert(const ConvertOptions& opts, Context& ctx);

} // namespace edgeship::cli
