#pragma once

// The flags `edgeship convert` takes for framework files (scikit-learn pickles/joblib, PyTorch
// files), and their translation into model::FrameworkConvertOptions. Header-only so `convert`
// (cli/convert.cpp) can add them without a second command: add_framework_options() on its
// subcommand, then framework_convert_options() + model::convert_framework() when the input is a
// framework file. docs/frameworks.md.

#include "cli/context.hpp"
#include "model/framework_convert.hpp"

#include <CLI/App.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::cli {

struct FrameworkCliOptions {
    std::string python;                    ///< --python (else EDGESHIP_PYTHON, else python3)
    bool trust_pickle = false;             ///< --trust-pickle
    std::string input_shape;               ///< --input-shape 1,3,224,224 (torch)
    std::string input_name;                ///< --input-name
    std::vector<std::string> output_names; ///< --output-name (repeatable or comma-separated)
    bool dynamic_batch = false;            ///< --dynamic-batch (torch)
    int bridge_timeout = 600;              ///< --bridge-timeout seconds
};

/// Help text for the pickle-safety flag: why pickles are refused.
inline constexpr const char* k_trust_pickle_help =
    "Load Python pickles (scikit-learn .pkl/.joblib, torch.save files). Loading a pickle runs any code "
    "inside it, so edgeship refuses unless you trust the file's source (on a terminal it asks instead). "
    "TorchScript files (torch.jit.save) are not pickles of classes and need no trust.";

inline constexpr const char* k_framework_footer =
    R"(scikit-learn and PyTorch (run in your Python; see docs/frameworks.md):
  edgeship convert model.pkl -o model.onnx --trust-pickle          sklearn pickle/joblib (estimator or Pipeline)
  edgeship convert net.pt -o net.onnx --input-shape 1,3,32,32 --dynamic-batch   TorchScript (torch.jit.save)
  edgeship convert whole.pt -o m.onnx --input-shape 1,8 --trust-pickle --python ~/venv/bin/python)";

/// Adds the framework flags to `sub` (the `convert` subcommand). --opset and --name stay convert's own.
inline void add_framework_options(CLI::App* sub, FrameworkCliOptions& o) {
    sub->add_option("--python", o.python,
                    "Python interpreter with scikit-learn/PyTorch (default: $EDGESHIP_PYTHON, else python3)");
    sub->add_flag("--trust-pickle", o.trust_pickle, k_trust_pickle_help);
    sub->add_option("--input-shape", o.input_shape,
                    "PyTorch: the example input's shape, batch first (1,3,224,224)");
    sub->add_option("--input-name", o.input_name,
                    "Name of the graph input (default: features for sklearn, input for torch)");
    sub->add_option("--output-name", o.output_names,
                    "Name(s) of the graph outputs (PyTorch: one per model output)")
        ->delimiter(',');
    sub->add_flag("--dynamic-batch", o.dynamic_batch, "PyTorch: make the batch dimension symbolic");
    sub->add_option("--bridge-timeout", o.bridge_timeout, "Seconds the Python bridge may run (default 600)")
        ->check(CLI::Range(1, 86400));
}

/// "1,3,224,224" or "1x3x224x224" → {1, 3, 224, 224}; exit 2 on anything else.
inline Result<std::vector<std::int64_t>> parse_input_shape(const std::string& text) {
    std::vector<std::int64_t> dims;
    if (text.empty()) {
        return dims;
    }
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find_first_of(",x", start);
        if (end == std::string::npos) {
            end = text.size();
        }
        std::int64_t v = 0;
        const char* b = text.data() + start;
        const char* e = text.data() + end;
        auto [ptr, ec] = std::from_chars(b, e, v);
        if (ec != std::errc() || ptr != e || b == e || v <= 0) {
            return fail("--input-shape " + text +
                            ": expected positive integers separated by commas (1,3,224,224)",
                        ExitCode::usage);
        }
        dims.push_back(v);
        start = end + 1;
    }
    return dims;
}

/// Asks on the terminal whether to load a pickle. Only when stdin and stderr are TTYs (STYLE.md §7).
inline bool confirm_pickle_on_tty(Context& ctx, const std::filesystem::path& path,
                                  const model::PickleProbe& probe) {
    if (!ctx.io.stdin_tty || !ctx.io.stderr_tty) {
        return false;
    }
    std::string what =
        probe.globals.empty() ? "" : " It would import " + model::describe_globals(probe.globals) + ".";
    ctx.io.err << "edgeship: " << path.string()
               << " is a Python pickle; loading it runs any code it contains." << what
               << "\nLoad it? Only if you trust its source. [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(ctx.io.in, answer)) {
        return false;
    }
    return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES" || answer == "Yes";
}

/// The library options for converting `model` (`from`: "", "sklearn" or "torch"; opset 0 = default).
inline Result<model::FrameworkConvertOptions>
framework_convert_options(const FrameworkCliOptions& o, const std::string& model_path,
                          const std::string& from, std::int64_t opset, const std::string& name,
                          const std::string& edgeship_version, Context& ctx) {
    model::FrameworkConvertOptions fo;
    fo.input = model_path;
    if (!from.empty()) {
        auto k = model::parse_framework_kind(from);
        if (!k) {
            return fail("--from " + from + ": not a framework (sklearn, torch)", ExitCode::usage);
        }
        fo.kind = *k;
    }
    fo.framework.python.python = model::resolve_python(o.python, ctx.env);
    fo.framework.python.env = ctx.env;
    fo.framework.python.timeout = std::chrono::seconds(o.bridge_timeout);
    fo.framework.trust = o.trust_pickle ? model::PickleTrust::trusted : model::PickleTrust::refuse;
    fo.framework.confirm = [&ctx](const std::filesystem::path& p, const model::PickleProbe& probe) {
        return confirm_pickle_on_tty(ctx, p, probe);
    };
    if (opset != 0) {
        fo.opset = opset;
    }
    fo.name = name;
    fo.input_name = o.input_name;
    fo.output_names = o.output_names;
    EDGESHIP_TRY_ASSIGN(fo.input_shape, parse_input_shape(o.input_shape));
    fo.batch = o.dynamic_batch ? model::BatchDim::dynamic : model::BatchDim::fixed;
    fo.edgeship_version = edgeship_version;
    return fo;
}

} // namespace edgeship::cli
