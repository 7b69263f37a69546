// In-process tests of `edgeship ship`: parsing through a capturing hook (nothing runs), usage errors, and
// real runs of the library-backed steps on the bundled example (no registry, no hub: those are the
// e2e tests in tests/e2e/registry_ship.sh).
#include "cli/app.hpp"
#include "cli/ship_commands.hpp"
#include "core/sha256.hpp"
#include "imagebuild/fixture.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

namespace edgeship::cli {
namespace {

namespace fs = std::filesystem;
using test::run_cli;
using test::TempDir;

ShipOptions parse(std::vector<std::string> args) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    ShipOptions captured;
    register_ship(app, ctx, [&captured](const ShipOptions& o, Context&) -> Result<void> {
        captured = o;
        return {};
    });
    std::reverse(args.begin(), args.end());
    app.parse(args);
    EXPECT_TRUE(static_cast<bool>(ctx.action));
    EXPECT_TRUE(ctx.action());
    return captured;
}

TEST(Ship, ParseBindsEveryFlag) {
    TempDir d;
    test::write_text(d / "reg.pem", "pem"); // --ca-file must exist (registry flags check it)
    const std::string reg_pem = (d / "reg.pem").string();
    auto o = parse({"ship", "m.pt", "--solution", "pm", "--module", "score", "--runtime", "node-onnxruntime",
                    "--platform", "amd64,arm64v8", "--registry", "127.0.0.1:5000", "--plain-http", "--base",
                    "oci:base:1", "--deployment", "pm-v2", "--target-condition", "tags.site='a'", "--priority", "20",
                    "--wait", "--timeout", "5m", "--interval", "2s", "--json", "--deploy-dry-run", "--from", "torch",
                    "--opset", "17", "--input-shape", "1,8", "--trust-pickle", "--fp16", "--hub-url", "https://h:1",
                    "--hub-ca-file", "hub.pem", "--ca-file", reg_pem, "--connection-string-file", "cs.txt",
                    "--template-dir", "tpl"});
    EXPECT_EQ(o.model, "m.pt");
    EXPECT_EQ(o.solution, "pm");
    EXPECT_EQ(o.module, "score");
    EXPECT_EQ(o.runtime, "node-onnxruntime");
    EXPECT_EQ(o.platforms, (std::vector<std::string>{"amd64", "arm64v8"}));
    EXPECT_EQ(o.registry, "127.0.0.1:5000");
    EXPECT_TRUE(o.registry_flags.plain_http);
    EXPECT_EQ(o.registry_flags.ca_file, reg_pem);
    EXPECT_EQ(o.base, "oci:base:1");
    EXPECT_EQ(o.deployment, "pm-v2");
    EXPECT_EQ(o.target_condition, "tags.site='a'");
    EXPECT_EQ(o.priority, 20);
    EXPECT_TRUE(o.wait.wait);
    EXPECT_EQ(o.wait.timeout, "5m");
    EXPECT_EQ(o.wait.interval, "2s");
    EXPECT_TRUE(o.json);
    EXPECT_TRUE(o.deploy_dry_run);
    EXPECT_FALSE(o.dry_run);
    EXPECT_EQ(o.from, "torch");
    EXPECT_EQ(o.opset, 17);
    EXPECT_EQ(o.framework.input_shape, "1,8");
    EXPECT_TRUE(o.framework.trust_pickle);
    EXPECT_TRUE(o.passes.fp16);
    EXPECT_EQ(o.hub.hub_url, "https://h:1");
    EXPECT_EQ(o.hub.ca_file, "hub.pem");
    EXPECT_EQ(o.hub.connection_string_file, "cs.txt");
    EXPECT_EQ(o.template_dir, "tpl");
}

TEST(Ship, ParseDefaults) {
    auto o = parse({"ship", "model.json"});
    EXPECT_EQ(o.solution, "");
    EXPECT_EQ(o.module, "scoring");
    EXPECT_EQ(o.runtime, "python-onnxruntime");
    EXPECT_TRUE(o.platforms.empty());
    EXPECT_TRUE(o.registry.empty());
    EXPECT_FALSE(o.dry_run);
}

TEST(Ship, RegistryAndLayoutExcludeEachOther) {
    auto r = run_cli({"ship", "m.json", "--registry", "r:1", "--oci-layout", "dir"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("edgeship: error:"), std::string::npos) << r.err;
}

TEST(Ship, DeviceAndDeploymentExcludeEachOther) {
    auto r = run_cli({"ship", "m.json", "--device", "d", "--deployment", "x", "--target-condition", "c"});
    EXPECT_EQ(r.code, 2);
}

TEST(Ship, WaitWithoutATargetIsAUsageError) {
    TempDir d;
    auto r = run_cli({"ship", (test::source_dir() / "examples/predictive-maintenance/model.json").string(),
                      "--solution", (d / "pm").string(), "--wait"},
                     {}, test::with_fake_tools(d / "tools"));
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "edgeship: error: ship: --wait needs --device or --deployment\n");
    EXPECT_FALSE(fs::exists(d / "pm"));
}

TEST(Ship, DryRunAndDeployDryRunTogetherIsAUsageError) {
    auto r = run_cli({"ship", "m.json", "--dry-run", "--deploy-dry-run"});
    EXPECT_EQ(r.code, 2);
}

TEST(Ship, MissingModelFailsInTheConvertStep) {
    TempDir d;
    auto r = run_cli({"ship", (d / "nope.json").string(), "--solution", (d / "pm").string()}, {},
                     test::with_fake_tools(d / "tools"));
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.rfind("edgeship: error: ship: step convert: ", 0), 0u) << r.err;
    EXPECT_FALSE(fs::exists(d / "pm"));
}

TEST(Ship, ExampleModelToValidatedManifestThenResumes) {
    TempDir d;
    const auto model = test::source_dir() / "examples/predictive-maintenance/model.json";
    const auto sol = d / "pm";
    auto r = run_cli({"ship", model.string(), "--solution", sol.string(), "--json"}, {},
                     test::with_fake_tools(d / "tools"));
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["ok"], true);
    EXPECT_EQ(j["model_digest"], "sha256:" + *core::sha256_file(model));
    EXPECT_EQ(j["onnx"], (sol / ".edgeship" / "model.onnx").string());
    EXPECT_EQ(j["onnx_sha256"], *core::sha256_file(sol / "modules" / "scoring" / "model" / "model.onnx"));
    EXPECT_EQ(j["manifest"], (sol / "config" / "deployment.amd64.json").string());
    EXPECT_TRUE(fs::exists(sol / "config" / "deployment.amd64.json"));
    std::vector<std::string> st;
    for (const auto& s : j["steps"]) {
        st.push_back(s["name"].get<std::string>() + "=" + s["status"].get<std::string>());
    }
    EXPECT_EQ(st, (std::vector<std::string>{"convert=done", "check=done", "solution=done", "build=skipped",
                                            "push=skipped", "gen=done", "validate=done", "deploy=skipped",
                                            "wait=skipped"}));

    auto again = run_cli({"ship", model.string(), "--solution", sol.string(), "--json"}, {},
                         test::with_fake_tools(d / "tools"));
    ASSERT_EQ(again.code, 0) << again.err;
    auto j2 = nlohmann::json::parse(again.out);
    EXPECT_EQ(j2["steps"][0]["status"], "skipped");
    EXPECT_EQ(j2["steps"][2]["status"], "skipped");
    EXPECT_EQ(j2["onnx_sha256"], j["onnx_sha256"]);
}

TEST(Ship, UpToDateCheckSeesTheBaseImageAndSourceDateEpoch) {
    // A re-ship with the same inputs skips the build; a base tag that now names another image, or another
    // SOURCE_DATE_EPOCH, changes the image, so the build runs again.
    TempDir d;
    const auto model = test::source_dir() / "examples/predictive-maintenance/model.json";
    test::make_base_layout(d / "base", {"amd64"});
    const std::vector<std::string> args = {"ship", model.string(), "--solution", (d / "pm").string(), "--oci-layout",
                                           (d / "out").string(), "--base", "oci:" + (d / "base").string() + ":3.11",
                                           "--json"};
    auto build_status = [&](core::Environment env) {
        auto r = run_cli(args, std::move(env), test::with_fake_tools(d / "tools"));
        EXPECT_EQ(r.code, 0) << r.err;
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        for (const auto& s : j["steps"]) {
            if (s["name"] == "build") {
                return s["status"].get<std::string>();
            }
        }
        return std::string("(no build step)");
    };
    EXPECT_EQ(build_status({}), "done");
    EXPECT_EQ(build_status({}), "skipped");
    EXPECT_EQ(build_status({{"SOURCE_DATE_EPOCH", "1700000000"}}), "done");
    EXPECT_EQ(build_status({{"SOURCE_DATE_EPOCH", "1700000000"}}), "skipped");
    fs::remove_all(d / "base");
    test::make_base_layout(d / "base", {"amd64", "arm64"}); // tag 3.11 now names an index
    EXPECT_EQ(build_status({{"SOURCE_DATE_EPOCH", "1700000000"}}), "done");
    EXPECT_EQ(build_status({{"SOURCE_DATE_EPOCH", "1700000000"}}), "skipped");
}

TEST(Ship, DryRunPrintsThePlanAndWritesNothing) {
    TempDir d;
    const auto model = test::source_dir() / "examples/predictive-maintenance/model.json";
    auto r = run_cli({"ship", model.string(), "--solution", (d / "pm").string(), "--registry",
                      "127.0.0.1:5999", "--plain-http", "--device", "gw-01", "--wait", "--dry-run"},
                     {}, test::with_fake_tools(d / "tools"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("convert: planned: would convert"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  registry PUT /v2/scoring/manifests/<version>-amd64"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("deploy: planned"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  iothub POST /devices/gw-01/applyConfigurationContent"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("wait: planned"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(d / "pm"));
    EXPECT_FALSE(fs::exists(d / ".pm.edgeship"));
}

TEST(Ship, InvalidOnnxFailsTheCheckStepWithExit3) {
    TempDir d;
    // An ONNX model whose only node reads an input nothing defines: the checker rejects it.
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(17);
    auto* g = m.mutable_graph();
    g->set_name("broken");
    auto* n = g->add_node();
    n->set_op_type("Relu");
    n->add_input("undefined_input");
    n->add_output("y");
    auto* out = g->add_output();
    out->set_name("y");
    out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    std::string bytes;
    ASSERT_TRUE(m.SerializeToString(&bytes));
    test::write_text(d / "broken.onnx", bytes);
    auto r = run_cli({"ship", (d / "broken.onnx").string(), "--solution", (d / "pm").string()}, {},
                     test::with_fake_tools(d / "tools"));
    EXPECT_EQ(r.code, 3) << r.err;
    // stderr: one progress line for convert (skipped: already ONNX), then the error naming the step.
    EXPECT_EQ(r.err.rfind("ship: convert: skipped (", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("\nedgeship: error: ship: step check: " + (d / "broken.onnx").string() +
                         ": invalid model: checker: "),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(d / "pm"));
}

} // namespace
} // namespace edgeship::cli
