#pragma once

// The framework bridge: models only their own framework can read (scikit-learn pickles, PyTorch
// files) are opened by running the user's Python with a helper script embedded in edgeship
// (framework_script.cpp). The script is written to a private temporary directory for each run; the
// child's stdout/stderr are captured, its run time is bounded, and its answer comes back as JSON.
// docs/frameworks.md describes the protocol.

#include "core/fs.hpp"
#include "core/env.hpp"
#include "core/log.hpp"
#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::model {

/// How to run the user's Python.
struct PythonOptions {
    std::string python = "python3";    ///< interpreter: a path, or a name looked up on the env's PATH
    core::Environment env;             ///< the child's whole environment (PYTHONPATH, PATH, …)
    std::chrono::seconds timeout{600}; ///< the child is killed (process group) after this long
};

/// The interpreter to use: `flag` (--python) when set, else EDGESHIP_PYTHON from `env`, else "python3".
std::string resolve_python(const std::string& flag, const core::Environment& env);

/// The embedded helper script (Python 3.7+).
std::string_view bridge_script();

/// Runs the bridge in `mode` ("probe", "sklearn", "torch") with `request` and returns its result
/// object. Errors (exit 1 unless noted): the interpreter is missing ("install …" hint), the child
/// timed out or died (its stderr's meaningful line is included), or the script reported a failure
/// (its message and hint; kind "usage" → exit 2). Honours core::CancelToken (exit 130).
/// Thread-compatible; each call uses its own temporary directory, removed before returning.
Result<nlohmann::json> run_bridge(const PythonOptions& python, std::string_view mode,
                                  const nlohmann::json& request, const core::Logger& log = {});

/// A private directory (mode 0700) under TMPDIR from `env` (else /tmp), removed with its contents
/// when destroyed.
using ScratchDir = core::TempDir;
Result<ScratchDir> scratch_dir(const core::Environment& env);

/// What the bridge learnt about a model file without unpickling it (Python's pickletools only reads
/// opcodes; nothing from the file runs).
struct PickleProbe {
    std::string container;    ///< "pickle", "joblib", "joblib-zlib", …, "zip", "unknown"
    bool torchscript = false; ///< a torch.jit.save archive (code + constants, no Python pickle of classes)
    bool looks_like_state_dict = false; ///< an OrderedDict of tensors and no module class
    std::vector<std::string> globals;   ///< classes/functions the pickle would import, in order
    std::string error;                  ///< why the file is not a readable pickle ("" = fine)
};

/// Runs the bridge's probe on `path`.
Result<PickleProbe> probe_model_file(const PythonOptions& python, const std::filesystem::path& path,
                                     const core::Logger& log = {});

enum class PickleTrust { refuse, trusted };

/// Asked when a pickle would have to be loaded without --trust-pickle; returns true to load it.
/// The CLI prompts when stdin and stderr are TTYs; the library never does I/O itself.
using ConfirmPickle = std::function<bool(const std::filesystem::path&, const PickleProbe&)>;

/// Everything the framework converters need to reach Python safely.
struct FrameworkOptions {
    PythonOptions python;
    PickleTrust trust = PickleTrust::refuse;
    ConfirmPickle confirm; ///< may be empty: refuse without asking
};

/// Ok when the file may be unpickled: trust was given, or `confirm` said yes. Otherwise the error
/// says why loading a pickle is dangerous, names what the pickle would import, and hints at
/// --trust-pickle (exit 1).
Result<void> require_pickle_trust(const std::filesystem::path& path, const PickleProbe& probe,
                                  const FrameworkOptions& options);

/// One line for the first classes a pickle imports ("sklearn.pipeline.Pipeline, sklearn…, …").
std::string describe_globals(const std::vector<std::string>& globals, std::size_t max_items = 4);

} // namespace edgeship::model
