#include "iothub/rollout.hpp"

#include <gtest/gtest.h>

namespace edgeship::iothub {
namespace {

using nlohmann::json;

// An $edgeAgent twin whose desired version 5 wants module "score" on image score:2.
json twin(json reported, json configurations = nullptr) {
    json t = {{"deviceId", "dev1"},
              {"moduleId", "$edgeAgent"},
              {"properties",
               {{"desired",
                 {{"$version", 5},
                  {"modules", {{"score", {{"status", "running"}, {"settings", {{"image", "score:2"}}}}}}},
                  {"systemModules",
                   {{"edgeAgent", {{"settings", {{"image", "agent:1.4"}}}}},
                    {"edgeHub", {{"status", "running"}, {"settings", {{"image", "hub:1.4"}}}}}}}}},
                {"reported", std::move(reported)}}}};
    if (!configurations.is_null()) {
        t["configurations"] = std::move(configurations);
    }
    return t;
}

json good_reported(long code = 200, json score = {{"runtimeStatus", "running"}, {"settings", {{"image", "score:2"}}}}) {
    return {{"lastDesiredVersion", 5},
            {"lastDesiredStatus", {{"code", code}, {"description", code == 200 ? "" : "bad things"}}},
            {"modules", {{"score", std::move(score)}}},
            {"systemModules", {{"edgeHub", {{"runtimeStatus", "running"}, {"settings", {{"image", "hub:1.4"}}}}}}}};
}

TEST(Rollout, Succeeded) {
    auto d = evaluate_twin(twin(good_reported()), std::nullopt);
    EXPECT_EQ(d.state, DeviceState::succeeded) << d.reason;
    EXPECT_EQ(d.device_id, "dev1");
    EXPECT_TRUE(d.reason.empty());
}

TEST(Rollout, NotReportedYetIsPending) {
    auto d = evaluate_twin(twin(json::object()), std::nullopt);
    EXPECT_EQ(d.state, DeviceState::pending);
    EXPECT_EQ(d.reason, "the edge agent has not reported yet (device offline or runtime not started)");
}

TEST(Rollout, OlderVersionIsPending) {
    auto r = good_reported();
    r["lastDesiredVersion"] = 4;
    auto d = evaluate_twin(twin(r), std::nullopt);
    EXPECT_EQ(d.state, DeviceState::pending);
    EXPECT_EQ(d.reason, "waiting for the edge agent to apply desired version 5 (last applied 4)");
}

TEST(Rollout, AgentVersionsBefore1_2) {
    EXPECT_TRUE(agent_older_than_1_2("1.1.18"));
    EXPECT_TRUE(agent_older_than_1_2("1.0.10.4"));
    EXPECT_TRUE(agent_older_than_1_2("0.9"));
    EXPECT_FALSE(agent_older_than_1_2("1.2.0"));
    EXPECT_FALSE(agent_older_than_1_2("1.4.20"));
    EXPECT_FALSE(agent_older_than_1_2("2.0.0"));
    EXPECT_FALSE(agent_older_than_1_2(""));
    EXPECT_FALSE(agent_older_than_1_2("latest"));
    EXPECT_FALSE(agent_older_than_1_2("1"));
}

TEST(Rollout, AgentBefore1_2KeepsLastDesiredVersionForAnIdenticalManifest) {
    // Azure/iotedge#4166: before 1.2.0 an empty reconcile plan did not advance lastDesiredVersion.
    auto r = good_reported();
    r["lastDesiredVersion"] = 4;
    r["version"] = {{"version", "1.1.18"}, {"build", "1"}};
    auto d = evaluate_twin(twin(r), std::nullopt);
    EXPECT_EQ(d.state, DeviceState::succeeded) << d.reason;
    EXPECT_EQ(d.note, "edge agent 1.1.18 (before 1.2.0) keeps lastDesiredVersion 4 for an identical manifest "
                      "(desired 5); accepted because every module runs as desired");
    auto s = summarize("", {d});
    ASSERT_EQ(s.notes.size(), 1u);
    EXPECT_EQ(s.notes[0].rfind("dev1: edge agent 1.1.18", 0), 0u);

    // The same twin from a 1.2+ agent is still waiting, and so is an old agent whose modules differ.
    r["version"]["version"] = "1.2.0";
    EXPECT_EQ(evaluate_twin(twin(r), std::nullopt).state, DeviceState::pending);
    r["version"]["version"] = "1.1.18";
    r["modules"]["score"]["settings"]["image"] = "score:1";
    auto old_image = evaluate_twin(twin(r), std::nullopt);
    EXPECT_EQ(old_image.state, DeviceState::pending);
    EXPECT_TRUE(old_image.note.empty());
    // ... or one that reports a failure for the old version.
    auto bad = good_reported(500);
    bad["lastDesiredVersion"] = 4;
    bad["version"] = {{"version", "1.1.18"}};
    EXPECT_EQ(evaluate_twin(twin(bad), std::nullopt).state, DeviceState::pending);
}

TEST(Rollout, FailureCodesFailAndNotYetCodesWait) {
    for (long code : {400L, 412L}) {
        auto d = evaluate_twin(twin(good_reported(code)), std::nullopt);
        EXPECT_EQ(d.state, DeviceState::failed) << code;
        EXPECT_NE(d.reason.find(std::to_string(code)), std::string::npos);
        EXPECT_NE(d.reason.find("bad things"), std::string::npos);
    }
    for (long code : {406L, 417L, 500L}) {
        auto d = evaluate_twin(twin(good_reported(code)), std::nullopt);
        EXPECT_EQ(d.state, DeviceState::pending) << code;
    }
    auto d = evaluate_twin(twin(good_reported(400)), std::nullopt);
    EXPECT_EQ(d.reason, "edge agent reports 400 ConfigFormatError: bad things");
}

TEST(Rollout, SlowPull500IsPendingAndNamesTheModule) {
    auto r = good_reported(500, {{"runtimeStatus", "running"}, {"settings", {{"image", "score:1"}}}});
    r["lastDesiredStatus"]["description"] = "The operation was canceled";
    auto d = evaluate_twin(twin(r), std::nullopt);
    EXPECT_EQ(d.state, DeviceState::pending);
    ASSERT_EQ(d.modules.size(), 1u);
    EXPECT_EQ(d.modules[0].name, "score");
    EXPECT_EQ(d.modules[0].problem, "runs image score:1, wants score:2");
    EXPECT_EQ(d.reason, "edge agent reports 500 Failed, retrying: The operation was canceled "
                        "(score: runs image score:1, wants score:2)");
}

TEST(Rollout, BackoffWaitsUntilTheRestartPolicyGivesUp) {
    auto backoff = [](long restarts) {
        return good_reported(200, {{"runtimeStatus", "backoff"},
                                   {"exitCode", 139},
                                   {"restartCount", restarts},
                                   {"settings", {{"image", "score:2"}}}});
    };
    auto d = evaluate_twin(twin(backoff(1)), std::nullopt);
    EXPECT_EQ(d.state, DeviceState::pending);
    EXPECT_EQ(d.reason, "modules not ready: score: backoff (exit code 139, 1 restarts)");
    EXPECT_FALSE(d.modules[0].failed);
    d = evaluate_twin(twin(backoff(20)), std::nullopt);
    EXPECT_EQ(d.state, DeviceState::failed);
    EXPECT_EQ(d.reason, "module failing: score: backoff (exit code 139, 20 restarts)");
    EXPECT_TRUE(d.modules[0].failed);
}

TEST(Rollout, FailedAndDeadFailUnhealthyWaits) {
    for (const char* status : {"failed", "dead"}) {
        auto d = evaluate_twin(
            twin(good_reported(200, {{"runtimeStatus", status}, {"settings", {{"image", "score:2"}}}})), std::nullopt);
        EXPECT_EQ(d.state, DeviceState::failed) << status;
        EXPECT_EQ(d.reason, std::string("module failing: score: ") + status);
    }
    auto d = evaluate_twin(
        twin(good_reported(200, {{"runtimeStatus", "unhealthy"}, {"settings", {{"image", "score:2"}}}})), std::nullopt);
    EXPECT_EQ(d.state, DeviceState::pending);
    EXPECT_EQ(d.reason, "modules not ready: score: unhealthy");
    // A module crash-looping while the agent reports 500 fails on the module.
    d = evaluate_twin(twin(good_reported(500, {{"runtimeStatus", "failed"}, {"settings", {{"image", "score:2"}}}})),
                      std::nullopt);
    EXPECT_EQ(d.state, DeviceState::failed);
}

TEST(Rollout, ImagesAreComparedAsTheAgentNormalisesThem) {
    auto t = twin(good_reported(200, {{"runtimeStatus", "running"}, {"settings", {{"image", "reg.io/score:latest"}}}}));
    t["properties"]["desired"]["modules"]["score"]["settings"]["image"] = " reg.io/score ";
    EXPECT_EQ(evaluate_twin(t, std::nullopt).state, DeviceState::succeeded);
    t["properties"]["desired"]["modules"]["score"]["settings"]["image"] = "$upstream:443/score:latest";
    t["properties"]["reported"]["modules"]["score"]["settings"]["image"] = "parent.local:443/score:latest";
    EXPECT_EQ(evaluate_twin(t, std::nullopt).state, DeviceState::succeeded);
    t["properties"]["desired"]["modules"]["score"]["settings"]["image"] = "$upstream:443/score";
    EXPECT_EQ(evaluate_twin(t, std::nullopt).state, DeviceState::succeeded);
    t["properties"]["reported"]["modules"]["score"]["settings"]["image"] = "parent.local:443/score:2";
    EXPECT_EQ(evaluate_twin(t, std::nullopt).state, DeviceState::pending);
    t["properties"]["desired"]["modules"]["score"]["settings"]["image"] = "localhost:5000/score";
    t["properties"]["reported"]["modules"]["score"]["settings"]["image"] = "localhost:5000/score:latest";
    EXPECT_EQ(evaluate_twin(t, std::nullopt).state, DeviceState::succeeded);
}

TEST(Rollout, OldImageOrMissingModuleIsPending) {
    auto d = evaluate_twin(twin(good_reported(200, {{"runtimeStatus", "running"}, {"settings", {{"image", "score:1"}}}})),
                           std::nullopt);
    EXPECT_EQ(d.state, DeviceState::pending);
    EXPECT_EQ(d.reason, "modules not ready: score: runs image score:1, wants score:2");
    auto r = good_reported();
    r["modules"] = json::object();
    d = evaluate_twin(twin(r), std::nullopt);
    EXPECT_EQ(d.reason, "modules not ready: score: not reported yet (wants score:2)");
    r = good_reported(200, {{"runtimeStatus", "stopped"}, {"settings", {{"image", "score:2"}}}});
    d = evaluate_twin(twin(r), std::nullopt);
    EXPECT_EQ(d.reason, "modules not ready: score: stopped, wants running");
}

TEST(Rollout, EdgeHubIsCheckedLikeAModule) {
    auto r = good_reported();
    r["systemModules"]["edgeHub"]["runtimeStatus"] = "failed";
    auto d = evaluate_twin(twin(r), std::nullopt);
    EXPECT_EQ(d.state, DeviceState::failed);
    EXPECT_EQ(d.modules[0].name, "edgeHub");
}

TEST(Rollout, DeploymentMustBeApplied) {
    auto d = evaluate_twin(twin(good_reported(), {{"v2", {{"status", "Applied"}}}}), "v2");
    EXPECT_EQ(d.state, DeviceState::succeeded);
    d = evaluate_twin(twin(good_reported(), {{"v1", {{"status", "Applied"}}}, {"v2", {{"status", "Targeted"}}}}), "v2");
    EXPECT_EQ(d.state, DeviceState::pending);
    EXPECT_FALSE(d.applied);
    EXPECT_TRUE(d.targeted);
    EXPECT_EQ(d.reason, "deployment targeted, but v1 is applied (higher priority)");
    d = evaluate_twin(twin(good_reported(), {{"v1", {{"status", "Applied"}}}}), "v2");
    EXPECT_FALSE(d.targeted);
}

TEST(Rollout, SummaryCountsAndJson) {
    std::vector<DeviceRollout> ds;
    ds.push_back(evaluate_twin(twin(good_reported(), {{"v2", {{"status", "Applied"}}}}), "v2"));
    auto failed = twin(good_reported(400), {{"v2", {{"status", "Applied"}}}});
    failed["deviceId"] = "dev2";
    ds.push_back(evaluate_twin(failed, "v2"));
    auto pending = twin(json::object(), {{"v2", {{"status", "Targeted"}}}});
    pending["deviceId"] = "dev3";
    ds.push_back(evaluate_twin(pending, "v2"));
    auto other = twin(good_reported(), {{"v1", {{"status", "Applied"}}}});
    ds.push_back(evaluate_twin(other, "v2"));
    auto s = summarize("v2", ds);
    EXPECT_EQ(s.targeted, 3u);
    EXPECT_EQ(s.applied, 2u);
    EXPECT_EQ(s.succeeded, 1u);
    EXPECT_EQ(s.failed, 1u);
    EXPECT_EQ(s.pending, 1u);
    EXPECT_FALSE(s.settled());
    EXPECT_EQ(summary_line(s), "1/3 succeeded, 1 failed, 1 pending (targeted 3, applied 2)");
    auto j = summary_to_json(s);
    EXPECT_EQ(j.dump(), R"({"deployment":"v2","targeted":3,"applied":2,"succeeded":1,"failed":1,"pending":1,"complete":false,"failures":[{"device_id":"dev2","reason":"edge agent reports 400 ConfigFormatError: bad things","modules":[]}],"pending_devices":[{"device_id":"dev3","reason":"deployment targeted but not applied yet","modules":[]}],"notes":[]})");
}

TEST(Rollout, EmptyFleetIsNotSettled) {
    auto s = summarize("v2", {});
    EXPECT_FALSE(s.settled());
    EXPECT_FALSE(s.all_succeeded());
}

} // namespace
} // namespace edgeship::iothub
