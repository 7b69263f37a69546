#include "iothub/deployments.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::iothub {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST(Deployments, LoadManifestAcceptsBothShapes) {
    test::TempDir dir;
    test::write_text(dir / "a.json", R"({"modulesContent":{"$edgeAgent":{}}})");
    test::write_text(dir / "b.json", R"({"content":{"modulesContent":{"$edgeAgent":{}}}})");
    EXPECT_EQ(load_manifest(dir / "a.json")->dump(), R"({"modulesContent":{"$edgeAgent":{}}})");
    EXPECT_EQ(load_manifest(dir / "b.json")->dump(), R"({"modulesContent":{"$edgeAgent":{}}})");
}

TEST(Deployments, LoadManifestErrorsNameTheFile) {
    test::TempDir dir;
    test::write_text(dir / "bad.json", "{\n  \"modulesContent\": \n}");
    auto r = load_manifest(dir / "bad.json");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().what().starts_with((dir / "bad.json").string() + ": not valid JSON: ")) << r.error().what();
    test::write_text(dir / "other.json", R"({"modules":{}})");
    r = load_manifest(dir / "other.json");
    EXPECT_EQ(r.error().what(), (dir / "other.json").string() + ": not a deployment manifest: no top-level modulesContent");
    r = load_manifest(dir / "missing.json");
    EXPECT_FALSE(r);
}

TEST(Deployments, Layered) {
    EXPECT_TRUE(is_layered(json::parse(R"({"modulesContent":{"$edgeAgent":{"properties.desired.modules.m1":{}}}})")));
    EXPECT_FALSE(is_layered(json::parse(R"({"modulesContent":{"$edgeAgent":{"properties.desired":{}}}})")));
}

DeploymentSpec spec() {
    DeploymentSpec s;
    s.id = "score-v2";
    s.manifest = json::parse(R"({"modulesContent":{"$edgeAgent":{"properties.desired":{"x":1}}}})");
    s.target_condition = "tags.env='prod'";
    s.priority = 10;
    s.labels = {{"app", "score"}};
    s.metrics = {{"ok", "SELECT deviceId FROM devices"}};
    return s;
}

TEST(Deployments, ConfigurationBody) {
    EXPECT_EQ(configuration_body(spec()).dump(),
              R"({"content":{"modulesContent":{"$edgeAgent":{"properties.desired":{"x":1}}}},"id":"score-v2","labels":{"app":"score"},"metrics":{"queries":{"ok":"SELECT deviceId FROM devices"}},"priority":10,"schemaVersion":"2.0","targetCondition":"tags.env='prod'"})");
}

TEST(Deployments, SameDeploymentComparesWhatWasSent) {
    json sent = configuration_body(spec());
    json existing = sent;
    existing["etag"] = "MQ==";
    existing["createdTimeUtc"] = "2024-01-01T00:00:00Z";
    existing["systemMetrics"] = {{"queries", {{"targetedCount", "…"}}}};
    existing["metrics"]["results"] = json::object();
    EXPECT_TRUE(same_deployment(sent, existing));
    existing["priority"] = 11;
    EXPECT_FALSE(same_deployment(sent, existing));
    existing = sent;
    existing["content"]["modulesContent"]["$edgeAgent"]["properties.desired"]["x"] = 2;
    EXPECT_FALSE(same_deployment(sent, existing));
    existing = sent;
    existing["labels"] = json::object();
    EXPECT_FALSE(same_deployment(sent, existing));
}

TEST(Deployments, QuoteEtag) {
    EXPECT_EQ(quote_etag("MQ=="), "\"MQ==\"");
    EXPECT_EQ(quote_etag("\"MQ==\""), "\"MQ==\"");
    EXPECT_EQ(quote_etag("*"), "*");
}

TEST(Deployments, FleetQueryUsesBracketQuoting) {
    EXPECT_EQ(fleet_query("score-v2"),
              "SELECT * FROM devices.modules WHERE moduleId = '$edgeAgent' AND IS_DEFINED(configurations.[[score-v2]])");
}

FleetSummary summary(std::size_t targeted, std::size_t ok, std::size_t failed) {
    FleetSummary s;
    s.targeted = targeted;
    s.applied = targeted;
    s.succeeded = ok;
    s.failed = failed;
    s.pending = targeted - ok - failed;
    for (std::size_t i = 0; i < failed; ++i) {
        DeviceRollout d;
        d.device_id = "dev" + std::to_string(i);
        d.reason = "module failing: score: backoff";
        s.failures.push_back(d);
    }
    return s;
}

struct FakeTime {
    std::chrono::steady_clock::time_point now{};
    WaitOptions options(std::chrono::milliseconds timeout, std::chrono::milliseconds interval) {
        WaitOptions o;
        o.timeout = timeout;
        o.interval = interval;
        o.cancel = nullptr;
        o.clock = [this] { return now; };
        o.sleep = [this](std::chrono::milliseconds d) {
            now += d;
            return true;
        };
        return o;
    }
};

TEST(Wait, SucceedsWhenNothingIsPending) {
    FakeTime t;
    int polls = 0;
    auto r = wait_for_rollout([&]() -> Result<FleetSummary> {
        ++polls;
        return polls < 3 ? summary(2, 1, 0) : summary(2, 2, 0);
    }, t.options(60s, 5s));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcome, WaitOutcome::succeeded);
    EXPECT_EQ(r->polls, 3);
    EXPECT_EQ(r->elapsed, 10s);
}

TEST(Wait, StopsOnSettledFailure) {
    FakeTime t;
    auto r = wait_for_rollout([&]() -> Result<FleetSummary> { return summary(2, 1, 1); }, t.options(60s, 5s));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcome, WaitOutcome::failed);
    EXPECT_EQ(r->polls, 1);
    EXPECT_EQ(rollout_error(*r, "deployment v2").what(),
              "deployment v2 failed on 1 of 2 devices: dev0: module failing: score: backoff");
}

TEST(Wait, TimesOutAndIsBounded) {
    FakeTime t;
    int polls = 0;
    auto r = wait_for_rollout([&]() -> Result<FleetSummary> {
        ++polls;
        return summary(0, 0, 0);
    }, t.options(30s, 7s));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcome, WaitOutcome::timed_out);
    EXPECT_EQ(r->elapsed, 30s);
    EXPECT_EQ(polls, 6); // 0, 7, 14, 21, 28, 30
    auto e = rollout_error(*r, "deployment v2");
    EXPECT_EQ(e.what(), "deployment v2: timed out after 30s: no device is targeted yet");
}

TEST(Wait, AFleetIsDoneOnlyWhenItsTargetedCountIsStable) {
    // The hub evaluates target conditions in the background: 1 of 3 devices targeted and succeeded is not done.
    FakeTime t;
    std::vector<std::size_t> targeted = {1, 3, 3};
    std::size_t polls = 0;
    auto r = wait_for_rollout([&]() -> Result<FleetSummary> {
        auto s = summary(targeted[std::min(polls, targeted.size() - 1)], 0, 0);
        s.succeeded = s.targeted;
        s.pending = 0;
        s.deployment_id = "v2";
        ++polls;
        return s;
    }, t.options(60s, 5s));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcome, WaitOutcome::succeeded);
    EXPECT_EQ(r->polls, 3); // 1 (first sight), 3 (changed), 3 (stable)
    EXPECT_EQ(r->summary.targeted, 3u);
}

TEST(Wait, AChangingTargetedCountTimesOutSayingSo) {
    FakeTime t;
    std::size_t n = 0;
    auto r = wait_for_rollout([&]() -> Result<FleetSummary> {
        ++n;
        auto s = summary(n, n, 0);
        s.deployment_id = "v2";
        return s;
    }, t.options(10s, 5s));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcome, WaitOutcome::timed_out);
    EXPECT_FALSE(r->summary.targeting_settled);
    EXPECT_EQ(rollout_error(*r, "deployment v2").what(),
              "deployment v2: timed out after 10s: 3/3 succeeded, 0 failed, 0 pending (targeted 3, applied 3); the "
              "targeted count was still changing (the hub is evaluating the target condition)");
}

TEST(Wait, PollErrorsStopTheWait) {
    FakeTime t;
    auto r = wait_for_rollout([&]() -> Result<FleetSummary> { return fail("boom"); }, t.options(30s, 5s));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "boom");
}

TEST(Wait, CancelledSleepIsExit130) {
    WaitOptions o;
    o.timeout = 30s;
    o.interval = 5s;
    o.cancel = nullptr;
    o.sleep = [](std::chrono::milliseconds) { return false; };
    auto r = wait_for_rollout([&]() -> Result<FleetSummary> { return summary(1, 0, 0); }, o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::interrupted);
}

} // namespace
} // namespace edgeship::iothub
