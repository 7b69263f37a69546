#pragma once

// A pipeline as a sequence of named steps (issue 8): each step either runs (Mode::run) or describes what
// it would do (Mode::plan, for --dry-run: no writes, no remote changes). The runner times every step,
// stops at the first failure, names the step in the error ("ship: step build: …") and keeps the error's
// exit code, and lists the steps that did not run. Nothing here knows what the steps do.

#include "core/cancel.hpp"
#include "core/log.hpp"
#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::pipeline {

enum class Mode { run, plan };

enum class StepStatus {
    done,    ///< ran and produced its outputs
    skipped, ///< nothing to do (up to date, not asked for, already pushed)
    failed,  ///< returned an error; later steps did not run
    planned, ///< --dry-run: described, not performed
    not_run, ///< an earlier step failed
};

/// "done", "skipped", "failed", "planned", "not_run".
std::string_view status_name(StepStatus status);

/// Something a step reads or writes: a file, an image reference, a deployment.
struct Artefact {
    std::string kind;  ///< "onnx", "model", "solution", "image", "manifest", "deployment", …
    std::string value; ///< a path, a reference, an id
    std::string digest; ///< "sha256:…" when known
};

/// One remote or file operation a step performs (or would perform, in a plan).
struct Operation {
    std::string service; ///< "registry", "iothub", "file", "python"
    std::string method;  ///< "HEAD", "PUT", "POST", "GET", "write", "copy", "run"
    std::string target;  ///< a URL path or a file path
    std::string detail;  ///< what is sent or why (never a secret)
};

struct StepResult {
    std::string name;
    StepStatus status = StepStatus::done;
    std::chrono::milliseconds duration{0};
    std::string summary; ///< one line: what happened or would happen, or why it was skipped
    std::vector<Artefact> inputs;
    std::vector<Artefact> outputs;
    std::vector<Operation> operations;
};

/// A step: `run(mode)` returns its result (status done/skipped in Mode::run, planned/skipped in
/// Mode::plan) or an error. The runner sets `name`, `duration`, and `failed`/`not_run`.
struct Step {
    std::string name;
    std::function<Result<StepResult>(Mode)> run;
};

struct RunReport {
    std::vector<StepResult> steps; ///< every step, in order (failed / not_run included)
    std::optional<Error> error;    ///< the failure, with context "<pipeline>: step <name>"
    std::string failed_step;       ///< empty on success
    bool ok() const { return !error.has_value(); }
};

struct RunOptions {
    std::string pipeline = "ship"; ///< outermost error context
    Mode mode = Mode::run;
    /// Called before and after each step (progress lines); may be empty.
    std::function<void(const StepResult&, bool finished)> on_step;
    const core::CancelToken* cancel = &core::CancelToken::global();
    std::function<std::chrono::steady_clock::time_point()> clock; ///< default steady_clock::now
};

/// Runs `steps` in order. Stops at the first error (or Ctrl-C between steps: exit 130); the error keeps
/// its code and gains the context "<pipeline>: step <name>". Steps after the failure are reported as
/// not_run. Never throws what a step throws: a std::exception from a step becomes a failure of it.
RunReport run_steps(const std::vector<Step>& steps, const RunOptions& options);

/// {"name", "status", "duration_ms", "summary", "inputs":[…], "outputs":[…], "operations":[…]}
nlohmann::ordered_json step_to_json(const StepResult& step);

} // namespace edgeship::pipeline
