// In-process tests of `edgeship deployment …`: parsing through hooks and the checks that run before
// any request.
#include "cli/app.hpp"
#include "cli/iothub_commands.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::cli {
namespace {

using test::run_cli;

const std::string k_cs = "HostName=testhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey="
                         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

struct Captured {
    DeploymentCreateOptions create;
    DeploymentUpdateOptions update;
    DeploymentDeleteOptions remove;
    DeploymentStatusOptions status;
    std::string which;
};

Captured parse(std::vector<std::string> args) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    Captured c;
    DeploymentRunners r;
    r.create = [&c](const DeploymentCreateOptions& o, Context&) -> Result<void> { c.create = o; c.which = "create"; return {}; };
    r.list = [&c](const DeploymentListOptions&, Context&) -> Result<void> { c.which = "list"; return {}; };
    r.show = [&c](const DeploymentShowOptions&, Context&) -> Result<void> { c.which = "show"; return {}; };
    r.update = [&c](const DeploymentUpdateOptions& o, Context&) -> Result<void> { c.update = o; c.which = "update"; return {}; };
    r.remove = [&c](const DeploymentDeleteOptions& o, Context&) -> Result<void> { c.remove = o; c.which = "delete"; return {}; };
    r.status = [&c](const DeploymentStatusOptions& o, Context&) -> Result<void> { c.status = o; c.which = "status"; return {}; };
    register_deployment(app, ctx, r);
    std::reverse(args.begin(), args.end());
    app.parse(args);
    EXPECT_TRUE(ctx.action());
    return c;
}

TEST(Deployment, ParseCreate) {
    auto c = parse({"deployment", "create", "v2", "-m", "m.json", "-t", "tags.env='prod'", "-p", "7", "--label", "a=b",
                    "--label", "c=d", "--metric", "ok=SELECT deviceId FROM devices", "--layered", "--replace", "v1",
                    "--wait", "--timeout", "15m"});
    EXPECT_EQ(c.which, "create");
    EXPECT_EQ(c.create.id, "v2");
    EXPECT_EQ(c.create.target_condition, "tags.env='prod'");
    EXPECT_EQ(c.create.priority, 7);
    EXPECT_TRUE(c.create.priority_given);
    EXPECT_EQ(c.create.labels, (std::vector<std::string>{"a=b", "c=d"}));
    EXPECT_EQ(c.create.metrics.size(), 1u);
    EXPECT_TRUE(c.create.layered);
    EXPECT_EQ(c.create.replace, "v1");
    EXPECT_TRUE(c.create.wait.wait);
    EXPECT_EQ(c.create.wait.timeout, "15m");
}

TEST(Deployment, ParseCreateWithoutPriority) {
    auto c = parse({"deployment", "create", "v2", "-m", "m.json", "-t", "x", "--replace", "v1"});
    EXPECT_FALSE(c.create.priority_given);
}

TEST(Deployment, ParseUpdateDeleteStatus) {
    auto c = parse({"deployment", "update", "v1", "-p", "3", "--etag", "MQ=="});
    EXPECT_EQ(c.which, "update");
    EXPECT_TRUE(c.update.priority_given);
    EXPECT_FALSE(c.update.target_condition_given);
    EXPECT_EQ(c.update.etag, "MQ==");
    c = parse({"deployment", "delete", "v1", "--force"});
    EXPECT_EQ(c.which, "delete");
    EXPECT_TRUE(c.remove.force);
    c = parse({"deployment", "status", "v1", "--wait", "--page-size", "200"});
    EXPECT_EQ(c.which, "status");
    EXPECT_EQ(c.status.wait.page_size, 200);
}

TEST(Deployment, SubcommandIsRequired) {
    auto r = run_cli({"deployment"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err.substr(0, 16), "edgeship: error:");
}

TEST(Deployment, PriorityRequiredWithoutReplace) {
    test::TempDir dir;
    auto r = run_cli({"deployment", "create", "v1", "-m", (dir / "m.json").string(), "-t", "x"}, {{"IOTHUB_CONNECTION_STRING", k_cs}});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: --priority is required (or --replace OLD to use OLD's priority + 1)\n");
}

TEST(Deployment, ReplaceItselfAndBadIds) {
    auto r = run_cli({"deployment", "create", "v1", "-m", "m.json", "-t", "x", "--replace", "V1"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: --replace v1: a deployment cannot replace itself\n");
    r = run_cli({"deployment", "create", "a/b", "-m", "m.json", "-t", "x", "-p", "1"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: deployment id 'a/b': character '/' is not allowed\n"
                     "hint: deployment ids use lower-case letters, digits and - + % _ * ! '\n");
}

TEST(Deployment, BadLabelIsAUsageError) {
    auto r = run_cli({"deployment", "create", "v1", "-m", "m.json", "-t", "x", "-p", "1", "--label", "novalue"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: --label 'novalue': expected NAME=VALUE\n");
}

TEST(Deployment, UpdateNeedsAChangeAndOneEtagMode) {
    auto r = run_cli({"deployment", "update", "v1"}, {{"IOTHUB_CONNECTION_STRING", k_cs}});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: nothing to update: give --target-condition, --priority, --label or --metric\n");
    r = run_cli({"deployment", "update", "v1", "-p", "2", "--etag", "x", "--force"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: --etag and --force cannot be combined\n");
    r = run_cli({"deployment", "delete", "v1", "--etag", "x", "--force"});
    EXPECT_EQ(r.code, 2);
}

TEST(Deployment, DryRunCreatePrintsThePut) {
    test::TempDir dir;
    test::write_text(dir / "l.json", R"({"modulesContent":{"$edgeAgent":{"properties.desired.modules.x":{"type":"docker","status":"running","restartPolicy":"always","settings":{"image":"x:1"}}},"$edgeHub":{}}})");
    auto r = run_cli({"deployment", "create", "Layer-1", "-m", (dir / "l.json").string(), "-t", "tags.env='prod'", "-p",
                      "5", "--layered", "--label", "app=x", "--dry-run"},
                     {{"IOTHUB_CONNECTION_STRING", k_cs}});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
              "PUT https://testhub.azure-devices.net/configurations/layer-1?api-version=2021-04-12");
    auto body = nlohmann::json::parse(r.out.substr(r.out.find("\n\n") + 2));
    EXPECT_EQ(body["id"], "layer-1");
    EXPECT_EQ(body["priority"], 5);
    EXPECT_EQ(body["labels"]["app"], "x");
    EXPECT_EQ(body["schemaVersion"], "2.0");
    EXPECT_EQ(body["targetCondition"], "tags.env='prod'");
    // create-only: no If-Match (docs/design/iothub.md §12.6)
    EXPECT_EQ(r.out.find("If-Match"), std::string::npos);
}

TEST(Deployment, HelpHasExamples) {
    for (const auto* sub : {"create", "list", "show", "update", "delete", "status"}) {
        auto r = run_cli({"deployment", sub, "--help"});
        EXPECT_EQ(r.code, 0) << sub;
        EXPECT_NE(r.out.find("Examples:"), std::string::npos) << sub;
        EXPECT_NE(r.out.find(std::string("edgeship deployment ") + sub), std::string::npos) << sub;
    }
}

} // namespace
} // namespace edgeship::cli
