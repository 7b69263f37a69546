// The generic step runner: order, timing, failure naming and exit codes, not_run, plan mode, Ctrl-C.
#include "pipeline/steps.hpp"

#include <gtest/gtest.h>

namespace edgeship::pipeline {
namespace {

struct FakeClock {
    std::chrono::steady_clock::time_point now{};
    std::function<std::chrono::steady_clock::time_point()> fn() {
        return [this] { return now; };
    }
};

Step ok_step(std::string name, std::vector<std::string>& calls, FakeClock& clock, int ms, StepStatus status) {
    return {name, [name, &calls, &clock, ms, status](Mode mode) -> Result<StepResult> {
                calls.push_back(name + (mode == Mode::plan ? ":plan" : ":run"));
                clock.now += std::chrono::milliseconds(ms);
                StepResult r;
                r.status = status;
                r.summary = name + " summary";
                return r;
            }};
}

TEST(RunSteps, RunsInOrderAndTimesEachStep) {
    std::vector<std::string> calls;
    FakeClock clock;
    RunOptions o;
    o.clock = clock.fn();
    o.cancel = nullptr;
    auto report = run_steps({ok_step("a", calls, clock, 10, StepStatus::done),
                             ok_step("b", calls, clock, 250, StepStatus::skipped)},
                            o);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(calls, (std::vector<std::string>{"a:run", "b:run"}));
    ASSERT_EQ(report.steps.size(), 2u);
    EXPECT_EQ(report.steps[0].name, "a");
    EXPECT_EQ(report.steps[0].duration.count(), 10);
    EXPECT_EQ(report.steps[1].status, StepStatus::skipped);
    EXPECT_EQ(report.steps[1].duration.count(), 250);
    EXPECT_EQ(report.failed_step, "");
}

TEST(RunSteps, FailureNamesTheStepKeepsItsExitCodeAndStops) {
    std::vector<std::string> calls;
    FakeClock clock;
    RunOptions o;
    o.clock = clock.fn();
    o.cancel = nullptr;
    Step bad{"push", [](Mode) -> Result<StepResult> {
                 return fail("pushing r/app:1: 401 Unauthorized", ExitCode::auth);
             }};
    auto report = run_steps({ok_step("build", calls, clock, 5, StepStatus::done), bad,
                             ok_step("gen", calls, clock, 5, StepStatus::done)},
                            o);
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.failed_step, "push");
    EXPECT_EQ(report.error->code(), ExitCode::auth);
    EXPECT_EQ(report.error->what(), "ship: step push: pushing r/app:1: 401 Unauthorized");
    EXPECT_EQ(calls, (std::vector<std::string>{"build:run"})); // gen never ran
    ASSERT_EQ(report.steps.size(), 3u);
    EXPECT_EQ(report.steps[1].status, StepStatus::failed);
    EXPECT_EQ(report.steps[1].summary, "pushing r/app:1: 401 Unauthorized");
    EXPECT_EQ(report.steps[2].status, StepStatus::not_run);
}

TEST(RunSteps, PlanModeIsPassedToEveryStep) {
    std::vector<std::string> calls;
    FakeClock clock;
    RunOptions o;
    o.mode = Mode::plan;
    o.clock = clock.fn();
    o.cancel = nullptr;
    auto report = run_steps({ok_step("a", calls, clock, 0, StepStatus::planned),
                             ok_step("b", calls, clock, 0, StepStatus::planned)},
                            o);
    EXPECT_TRUE(report.ok());
    EXPECT_EQ(calls, (std::vector<std::string>{"a:plan", "b:plan"}));
}

TEST(RunSteps, AThrowingStepFailsWithoutEscaping) {
    RunOptions o;
    o.cancel = nullptr;
    Step thrower{"gen", [](Mode) -> Result<StepResult> { throw std::runtime_error("bad_alloc-ish"); }};
    auto report = run_steps({thrower}, o);
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error->what(), "ship: step gen: unexpected exception: bad_alloc-ish");
    EXPECT_EQ(report.error->code(), ExitCode::failure);
}

TEST(RunSteps, CtrlCBetweenStepsExits130) {
    core::CancelToken token;
    token.cancel();
    RunOptions o;
    o.cancel = &token;
    bool ran = false;
    Step s{"convert", [&ran](Mode) -> Result<StepResult> {
               ran = true;
               return StepResult{};
           }};
    auto report = run_steps({s}, o);
    ASSERT_FALSE(report.ok());
    EXPECT_FALSE(ran);
    EXPECT_EQ(report.error->code(), ExitCode::interrupted);
    EXPECT_EQ(report.failed_step, "convert");
}

TEST(RunSteps, ProgressCallbackSeesStartAndEnd) {
    std::vector<std::string> seen;
    RunOptions o;
    o.cancel = nullptr;
    o.on_step = [&seen](const StepResult& r, bool finished) {
        seen.push_back(r.name + (finished ? ":" + std::string(status_name(r.status)) : ":start"));
    };
    std::vector<std::string> calls;
    FakeClock clock;
    (void)run_steps({ok_step("a", calls, clock, 0, StepStatus::done)}, o);
    EXPECT_EQ(seen, (std::vector<std::string>{"a:start", "a:done"}));
}

TEST(StepJson, ShapeIsStable) {
    StepResult r;
    r.name = "push";
    r.status = StepStatus::planned;
    r.duration = std::chrono::milliseconds(12);
    r.summary = "would push";
    r.inputs.push_back({"image", "h/r:1", "sha256:ab"});
    r.outputs.push_back({"image", "h/r:1", ""});
    r.operations.push_back({"registry", "PUT", "/v2/r/manifests/1", "manifest"});
    auto j = step_to_json(r);
    EXPECT_EQ(j.dump(),
              R"({"name":"push","status":"planned","duration_ms":12,"summary":"would push",)"
              R"("inputs":[{"kind":"image","value":"h/r:1","digest":"sha256:ab"}],)"
              R"("outputs":[{"kind":"image","value":"h/r:1"}],)"
              R"("operations":[{"service":"registry","method":"PUT","target":"/v2/r/manifests/1","detail":"manifest"}]})");
}

} // namespace
} // namespace edgeship::pipeline
