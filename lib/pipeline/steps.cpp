#include "pipeline/steps.hpp"

#include <exception>

namespace edgeship::pipeline {

std::string_view status_name(StepStatus status) {
    switch (status) {
    case StepStatus::done:
        return "done";
    case StepStatus::skipped:
        return "skipped";
    case StepStatus::failed:
        return "failed";
    case StepStatus::planned:
        return "planned";
    case StepStatus::not_run:
        return "not_run";
    }
    return "unknown";
}

RunReport run_steps(const std::vector<Step>& steps, const RunOptions& options) {
    auto now = [&] { return options.clock ? options.clock() : std::chrono::steady_clock::now(); };
    RunReport report;
    for (const auto& step : steps) {
        if (report.error) {
            StepResult skipped;
            skipped.name = step.name;
            skipped.status = StepStatus::not_run;
            report.steps.push_back(std::move(skipped));
            continue;
        }
        StepResult started;
        started.name = step.name;
        if (options.on_step) {
            options.on_step(started, false);
        }
        auto t0 = now();
        Result<StepResult> result = StepResult{};
        if (options.cancel != nullptr && options.cancel->cancelled()) {
            result = unexpected(core::cancelled_error());
        } else {
            try {
                result = step.run(options.mode);
            } catch (const std::exception& e) {
                result = fail(std::string("unexpected exception: ") + e.what());
            }
        }
        auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now() - t0);
        StepResult r;
        if (result) {
            r = std::move(*result);
        } else {
            r.status = StepStatus::failed;
            r.summary = result.error().what();
            Error e = std::move(result).error();
            e.context("step " + step.name).context(options.pipeline);
            report.error = std::move(e);
            report.failed_step = step.name;
        }
        r.name = step.name;
        r.duration = elapsed;
        if (options.on_step) {
            options.on_step(r, true);
        }
        report.steps.push_back(std::move(r));
    }
    return report;
}

namespace {

nlohmann::ordered_json artefacts_json(const std::vector<Artefact>& list) {
    auto arr = nlohmann::ordered_json::array();
    for (const auto& a : list) {
        nlohmann::ordered_json j;
        j["kind"] = a.kind;
        j["value"] = a.value;
        if (!a.digest.empty()) {
            j["digest"] = a.digest;
        }
        arr.push_back(std::move(j));
    }
    return arr;
}

} // namespace

nlohmann::ordered_json step_to_json(const StepResult& step) {
    nlohmann::ordered_json j;
    j["name"] = step.name;
    j["status"] = status_name(step.status);
    j["duration_ms"] = step.duration.count();
    j["summary"] = step.summary;
    j["inputs"] = artefacts_json(step.inputs);
    j["outputs"] = artefacts_json(step.outputs);
    auto ops = nlohmann::ordered_json::array();
    for (const auto& o : step.operations) {
        ops.push_back({{"service", o.service}, {"method", o.method}, {"target", o.target}, {"detail", o.detail}});
    }
    j["operations"] = std::move(ops);
    return j;
}

} // namespace edgeship::pipeline
