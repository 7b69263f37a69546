// The ship steps with fake actions: the plan (--dry-run) and its side-effect freedom, step failure naming
// and exit codes, resume (convert stamp, model replacement, build/push skip on an equal digest), the
// --deploy-dry-run mode and the --json report shape.
#include "pipeline/ship.hpp"

#include "core/sha256.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace edgeship::pipeline {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::TempDir;
using test::write_text;

/// Fake actions over a temporary directory: counts calls, keeps a fake registry (reference → digest)
/// and the bytes each push "uploads" (only blobs the registry lacks, as a real registry client does).
struct Fakes {
    std::map<std::string, int> calls;
    std::map<std::string, std::string> registry;   ///< reference → manifest digest
    std::set<std::string> blobs;                   ///< digests the registry holds
    std::map<std::string, std::string> fail_with;  ///< action → message
    std::map<std::string, ExitCode> fail_code;
    std::vector<DeployRequest> deployed;
    std::vector<Mode> deploy_modes;
    bool onnx_input = false;
    std::string gen_image; ///< overrides the image the fake manifest runs
    std::vector<std::vector<std::string>> built_batches; ///< platforms of each build call
    std::string index_with; ///< the push of this platform also sends an index (as the real action does for the last one)
    std::vector<std::pair<fs::path, fs::path>> refreshed; ///< refresh_signature calls (module dir, model)
    bool signature_changes = false;                       ///< what refresh_signature answers

    Result<void> maybe_fail(const std::string& action) {
        ++calls[action];
        if (auto it = fail_with.find(action); it != fail_with.end()) {
            auto code = fail_code.count(action) ? fail_code[action] : ExitCode::failure;
            return fail(it->second, code);
        }
        return {};
    }

    ShipActions actions() {
        ShipActions a;
        a.is_onnx = [this](const fs::path&) { return onnx_input; };
        a.convert = [this](const fs::path& in, const fs::path& out) -> Result<ConvertOutcome> {
            EDGESHIP_TRY(maybe_fail("convert"));
            std::string bytes = "onnx(" + read_text(in) + ")";
            write_text(out, bytes);
            return ConvertOutcome{core::sha256_hex(bytes), bytes.size(), "fake"};
        };
        a.check = [this](const fs::path& p) -> Result<void> {
            EDGESHIP_TRY(maybe_fail("check"));
            if (!fs::exists(p)) {
                return fail(p.string() + ": missing");
            }
            return {};
        };
        a.scaffold = [this](const ScaffoldRequest& r) -> Result<std::vector<std::string>> {
            EDGESHIP_TRY(maybe_fail(r.kind == ScaffoldRequest::Kind::init ? "init" : "module_add"));
            fs::create_directories(r.solution / "modules" / r.module / "model");
            write_text(r.solution / "deployment.template.json", "{}");
            write_text(r.solution / "modules" / r.module / "module.json", "{}");
            write_text(r.solution / "modules" / r.module / "app.py", "print('app')");
            fs::copy_file(r.model, r.solution / "modules" / r.module / "model" / "model.onnx");
            return std::vector<std::string>{"a", "b"};
        };
        a.refresh_signature = [this](const fs::path& module_dir, const fs::path& onnx) -> Result<bool> {
            EDGESHIP_TRY(maybe_fail("refresh_signature"));
            refreshed.emplace_back(module_dir, onnx);
            return signature_changes;
        };
        a.image_reference = [](const fs::path&, const std::string& m, const std::string& p,
                               const core::Environment& env) -> Result<std::string> {
            return env.at("CONTAINER_REGISTRY_SERVER") + "/" + m + ":0.0.1-" + p;
        };
        a.pushed_digest = [this](const std::string& ref) -> Result<std::optional<std::string>> {
            ++calls["pushed_digest"];
            auto it = registry.find(ref);
            return it == registry.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
        };
        a.build = [this](const BuildRequest& r) -> Result<std::vector<ShipImage>> {
            EDGESHIP_TRY(maybe_fail("build"));
            built_batches.push_back(r.platforms);
            std::string model = read_text(r.solution / "modules" / r.module / "model" / "model.onnx");
            std::vector<ShipImage> out;
            for (const auto& platform : r.platforms) {
                ShipImage img;
                img.digest = "sha256:" + core::sha256_hex("manifest" + model + platform);
                // Layers: a base (shared), the app (unchanged) and the model (changes with the model).
                auto fake = std::make_shared<oci::LocalImage>();
                fake->manifest.bytes = "base|app|" + model;
                img.image = fake;
                out.push_back(std::move(img));
            }
            return out;
        };
        a.push = [this](const ShipImage& img) -> Result<PushOutcome> {
            EDGESHIP_TRY(maybe_fail("push"));
            PushOutcome out;
            out.digest = img.digest;
            std::string text = img.image->manifest.bytes;
            std::size_t start = 0;
            while (start <= text.size()) {
                auto end = text.find('|', start);
                std::string blob = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
                if (blobs.insert(blob).second) {
                    out.bytes_uploaded += blob.size();
                } else {
                    out.bytes_skipped += blob.size();
                }
                if (end == std::string::npos) {
                    break;
                }
                start = end + 1;
            }
            registry[img.reference] = img.digest;
            if (img.platform == index_with) {
                out.index = ShipIndex{"127.0.0.1:5000/scoring:0.0.1", "sha256:" + core::sha256_hex("index" + img.digest),
                                      {"amd64", img.platform}, 300, 500};
            }
            return out;
        };
        a.gen = [this](const GenRequest& r) -> Result<GenOutcome> {
            EDGESHIP_TRY(maybe_fail("gen"));
            fs::create_directories(r.solution / "config");
            auto p = r.solution / "config" / ("deployment." + r.platform + ".json");
            std::string image = (r.env.count("CONTAINER_REGISTRY_SERVER") ? r.env.at("CONTAINER_REGISTRY_SERVER")
                                                                          : std::string("localhost:5000")) +
                                "/scoring:0.0.1-" + r.platform;
            if (!gen_image.empty()) {
                image = gen_image;
            }
            nlohmann::json m;
            m["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]["scoring"]["settings"]["image"] = image;
            write_text(p, m.dump());
            return GenOutcome{p, {}};
        };
        a.validate = [this](const fs::path&) { return maybe_fail("validate"); };
        a.deploy = [this](const DeployRequest& r, Mode m) -> Result<DeployOutcome> {
            deploy_modes.push_back(m);
            EDGESHIP_TRY(maybe_fail("deploy"));
            DeployOutcome out;
            out.operations.push_back({"iothub", "POST", "/devices/" + r.device + "/applyConfigurationContent", ""});
            if (m == Mode::run) {
                deployed.push_back(r);
                out.applied = true;
            }
            return out;
        };
        a.wait = [this](const DeployRequest&) -> Result<RolloutOutcome> {
            EDGESHIP_TRY(maybe_fail("wait"));
            return RolloutOutcome{"succeeded", {{"succeeded", 1}}};
        };
        return a;
    }
};

struct Ship {
    TempDir dir;
    Fakes fakes;
    ShipOptions options;

    Ship() {
        write_text(dir / "model.json", "trees v1");
        options.model = dir / "model.json";
        options.solution = dir / "pm";
        options.image_target = ImageTarget::registry;
        options.registry = "127.0.0.1:5000";
        options.env["CONTAINER_REGISTRY_SERVER"] = "127.0.0.1:5000";
        options.deploy_target = DeployTarget::device;
        options.device = "gw-01";
        options.wait = true;
    }

    struct Out {
        RunReport run;
        std::shared_ptr<ShipState> state;
        nlohmann::ordered_json json;
    };

    Out run(Mode mode = Mode::run) {
        auto state = std::make_shared<ShipState>();
        auto steps = make_ship_steps(options, fakes.actions(), state);
        EXPECT_TRUE(steps) << (steps ? "" : steps.error().what());
        RunOptions ro;
        ro.mode = mode;
        ro.cancel = nullptr;
        auto report = run_steps(*steps, ro);
        auto json = ship_report_json(options, *state, report, mode);
        return {std::move(report), state, std::move(json)};
    }
};

std::vector<std::string> statuses(const RunReport& r) {
    std::vector<std::string> out;
    for (const auto& s : r.steps) {
        out.push_back(s.name + "=" + std::string(status_name(s.status)));
    }
    return out;
}

TEST(Ship, FirstRunDoesEveryStepInOrder) {
    Ship s;
    auto out = s.run();
    ASSERT_TRUE(out.run.ok()) << out.run.error->what();
    EXPECT_EQ(statuses(out.run),
              (std::vector<std::string>{"convert=done", "check=done", "solution=done", "build=done", "push=done",
                                        "gen=done", "validate=done", "deploy=done", "wait=done"}));
    EXPECT_EQ(s.fakes.calls["init"], 1);
    // The conversion was staged beside the solution and moved into it by init.
    EXPECT_FALSE(fs::exists(s.dir / ".pm.edgeship"));
    EXPECT_TRUE(fs::exists(s.dir / "pm" / ".edgeship" / "model.onnx"));
    EXPECT_EQ(out.state->onnx, s.dir / "pm" / ".edgeship" / "model.onnx");
    ASSERT_EQ(s.fakes.deployed.size(), 1u);
    EXPECT_EQ(s.fakes.deployed[0].manifest, s.dir / "pm" / "config" / "deployment.amd64.json");
    EXPECT_EQ(s.fakes.registry.count("127.0.0.1:5000/scoring:0.0.1-amd64"), 1u);
}

TEST(Ship, ReportJsonShape) {
    Ship s;
    auto out = s.run();
    const auto& j = out.json;
    std::vector<std::string> keys;
    for (const auto& [k, v] : j.items()) {
        keys.push_back(k);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"ok", "dry_run", "hub_dry_run", "model", "model_digest", "onnx",
                                              "onnx_sha256", "solution", "module", "images", "indexes", "bytes_uploaded",
                                              "bytes_skipped", "manifest", "manifests", "deployment", "rollout",
                                              "duration_ms", "steps", "failed_step", "error", "exit_code"}));
    EXPECT_EQ(j["model_digest"], "sha256:" + core::sha256_hex("trees v1"));
    EXPECT_EQ(j["onnx_sha256"], core::sha256_hex("onnx(trees v1)"));
    ASSERT_EQ(j["images"].size(), 1u);
    EXPECT_EQ(j["images"][0]["reference"], "127.0.0.1:5000/scoring:0.0.1-amd64");
    EXPECT_EQ(j["images"][0]["pushed"], true);
    EXPECT_EQ(j["bytes_uploaded"], std::string("base|app|onnx(trees v1)").size() - 2);
    EXPECT_EQ(j["bytes_skipped"], 0);
    EXPECT_EQ(j["deployment"]["kind"], "device");
    EXPECT_EQ(j["deployment"]["id"], "gw-01");
    EXPECT_EQ(j["deployment"]["applied"], true);
    EXPECT_EQ(j["rollout"]["outcome"], "succeeded");
    EXPECT_EQ(j["steps"].size(), 9u);
    EXPECT_EQ(j["steps"][0]["name"], "convert");
    EXPECT_TRUE(j["steps"][0].contains("duration_ms"));
    EXPECT_EQ(j["exit_code"], 0);
    EXPECT_TRUE(j["failed_step"].is_null());
}

TEST(Ship, RerunWithTheSameModelResumesWithoutRebuildingOrReuploading) {
    Ship s;
    ASSERT_TRUE(s.run().run.ok());
    s.fakes.calls.clear();
    auto out = s.run();
    ASSERT_TRUE(out.run.ok()) << out.run.error->what();
    EXPECT_EQ(statuses(out.run),
              (std::vector<std::string>{"convert=skipped", "check=done", "solution=skipped", "build=skipped",
                                        "push=skipped", "gen=done", "validate=done", "deploy=done", "wait=done"}));
    EXPECT_EQ(s.fakes.calls["convert"], 0);
    EXPECT_EQ(s.fakes.calls["build"], 0);
    EXPECT_EQ(s.fakes.calls["push"], 0);
    EXPECT_EQ(s.fakes.calls["pushed_digest"], 1); // the registry was asked, read-only
    EXPECT_EQ(out.json["images"][0]["up_to_date"], true);
    EXPECT_EQ(out.json["bytes_uploaded"], 0);
}

TEST(Ship, RetrainedModelReconvertsReplacesTheModelAndUploadsOnlyTheModelLayer) {
    Ship s;
    ASSERT_TRUE(s.run().run.ok());
    write_text(s.dir / "model.json", "trees v2");
    s.fakes.calls.clear();
    auto out = s.run();
    ASSERT_TRUE(out.run.ok()) << out.run.error->what();
    EXPECT_EQ(statuses(out.run)[0], "convert=done");
    EXPECT_EQ(statuses(out.run)[2], "solution=done"); // model replaced in place
    EXPECT_EQ(s.fakes.calls["init"], 0);
    EXPECT_EQ(read_text(s.dir / "pm" / "modules" / "scoring" / "model" / "model.onnx"), "onnx(trees v2)");
    EXPECT_EQ(s.fakes.calls["build"], 1);
    EXPECT_EQ(out.json["bytes_uploaded"], std::string("onnx(trees v2)").size());
    EXPECT_EQ(out.json["bytes_skipped"], std::string("base").size() + std::string("app").size());
}

TEST(Ship, ReplacingTheModelKeepsTheGeneratedSignatureInStep) {
    Ship s;
    ASSERT_TRUE(s.run().run.ok());
    EXPECT_TRUE(s.fakes.refreshed.empty()); // init generated it for this model
    const fs::path module = s.dir / "pm" / "modules" / "scoring";
    // Same signature: asked, nothing to say.
    write_text(s.dir / "model.json", "trees v2");
    auto same = s.run();
    ASSERT_TRUE(same.run.ok()) << same.run.error->what();
    ASSERT_EQ(s.fakes.refreshed.size(), 1u);
    EXPECT_EQ(s.fakes.refreshed[0].first, module);
    EXPECT_EQ(s.fakes.refreshed[0].second.filename(), "model.onnx"); // the new ONNX, before it is copied
    EXPECT_EQ(read_text(s.fakes.refreshed[0].second), "onnx(trees v2)");
    EXPECT_EQ(same.run.steps[2].summary, "replaced the model of module scoring");
    // New inputs: the summary says the signature was regenerated and the file is an output of the step.
    s.fakes.signature_changes = true;
    write_text(s.dir / "model.json", "trees v3, other inputs");
    auto changed = s.run();
    ASSERT_TRUE(changed.run.ok()) << changed.run.error->what();
    EXPECT_NE(changed.run.steps[2].summary.find("app/signature.json regenerated"), std::string::npos)
        << changed.run.steps[2].summary;
    EXPECT_EQ(changed.run.steps[2].outputs.back().kind, "signature");
    EXPECT_EQ(changed.run.steps[2].outputs.back().value, (module / "app" / "signature.json").string());
    // A failure to refresh fails the solution step, naming it.
    s.fakes.fail_with["refresh_signature"] = "cannot write app/signature.json";
    write_text(s.dir / "model.json", "trees v4");
    auto failed = s.run();
    ASSERT_FALSE(failed.run.ok());
    EXPECT_EQ(failed.run.failed_step, "solution");
    // Nothing half-done: the module still serves the previous model, so the next run retries both.
    EXPECT_EQ(read_text(module / "model" / "model.onnx"), "onnx(trees v3, other inputs)");
    s.fakes.fail_with.erase("refresh_signature");
    auto retried = s.run();
    ASSERT_TRUE(retried.run.ok()) << retried.run.error->what();
    EXPECT_EQ(statuses(retried.run)[2], "solution=done");
    EXPECT_EQ(read_text(module / "model" / "model.onnx"), "onnx(trees v4)");
}

TEST(Ship, ChangedConversionFlagsOrADamagedOnnxReconvert) {
    Ship s;
    ASSERT_TRUE(s.run().run.ok());
    s.options.convert_fingerprint = "--fp16";
    s.fakes.calls.clear();
    ASSERT_TRUE(s.run().run.ok());
    EXPECT_EQ(s.fakes.calls["convert"], 1);

    write_text(s.dir / "pm" / ".edgeship" / "model.onnx", "truncated");
    s.fakes.calls.clear();
    ASSERT_TRUE(s.run().run.ok());
    EXPECT_EQ(s.fakes.calls["convert"], 1);
}

TEST(Ship, ImageMissingFromTheRegistryIsPushedAgain) {
    Ship s;
    ASSERT_TRUE(s.run().run.ok());
    s.fakes.registry.clear(); // registry wiped (or digest changed)
    s.fakes.calls.clear();
    auto out = s.run();
    ASSERT_TRUE(out.run.ok());
    EXPECT_EQ(s.fakes.calls["build"], 1);
    EXPECT_EQ(s.fakes.calls["push"], 1);
}

TEST(Ship, SeveralPlatformsAreBuiltInOneCallAndTheIndexIsReported) {
    Ship s;
    s.options.platforms = {"amd64", "arm64v8"};
    s.fakes.index_with = "arm64v8";
    auto out = s.run();
    ASSERT_TRUE(out.run.ok()) << out.run.error->what();
    EXPECT_EQ(s.fakes.built_batches, (std::vector<std::vector<std::string>>{{"amd64", "arm64v8"}}));
    EXPECT_EQ(s.fakes.calls["push"], 2);
    ASSERT_EQ(out.json["images"].size(), 2u);
    EXPECT_EQ(out.json["images"][1]["reference"], "127.0.0.1:5000/scoring:0.0.1-arm64v8");
    ASSERT_EQ(out.json["indexes"].size(), 1u);
    EXPECT_EQ(out.json["indexes"][0]["reference"], "127.0.0.1:5000/scoring:0.0.1");
    EXPECT_EQ(out.json["indexes"][0]["platforms"], (nlohmann::json{"amd64", "arm64v8"}));
    // blobs uploaded once (the second image HEAD-skips base, app and model), plus the index's 300
    const std::uint64_t first = std::string("base|app|onnx(trees v1)").size() - 2;
    EXPECT_EQ(out.json["bytes_uploaded"], first + 300);
    EXPECT_EQ(out.json["bytes_skipped"], first); // the index's 500 skipped are the images' blobs again
    EXPECT_EQ(out.json["indexes"][0]["bytes_skipped"], 500);
    const auto& push = out.run.steps[4];
    EXPECT_EQ(push.name, "push");
    EXPECT_NE(push.summary.find("pushed 2 images and 1 index"), std::string::npos) << push.summary;
    EXPECT_EQ(push.outputs.back().kind, "index");

    // Only the platform the registry lost is rebuilt, alone (no index: the other image was not rebuilt).
    s.fakes.registry.erase("127.0.0.1:5000/scoring:0.0.1-arm64v8");
    s.fakes.built_batches.clear();
    s.fakes.index_with.clear();
    auto again = s.run();
    ASSERT_TRUE(again.run.ok()) << again.run.error->what();
    EXPECT_EQ(s.fakes.built_batches, (std::vector<std::vector<std::string>>{{"arm64v8"}}));
    EXPECT_EQ(again.json["images"][0]["up_to_date"], true);
    EXPECT_EQ(again.json["images"][1]["pushed"], true);
    EXPECT_EQ(again.json["indexes"].size(), 0u);
    const auto& build = again.run.steps[3];
    ASSERT_EQ(build.outputs.size(), 2u);
    EXPECT_EQ(build.outputs[0].value, "127.0.0.1:5000/scoring:0.0.1-amd64"); // platform order kept
}

TEST(Ship, DryRunOfSeveralPlatformsPlansTheIndexAfterTheImages) {
    Ship s;
    s.options.platforms = {"amd64", "arm64v8"};
    auto out = s.run(Mode::plan);
    ASSERT_TRUE(out.run.ok()) << out.run.error->what();
    const auto& push = out.run.steps[4];
    ASSERT_EQ(push.name, "push");
    ASSERT_FALSE(push.operations.empty());
    EXPECT_EQ(push.operations.back().target, "/v2/scoring/manifests/<version>");
    EXPECT_EQ(push.operations.back().detail, "the index over the 2 platform images, after them");
    EXPECT_EQ(s.fakes.calls["build"] + s.fakes.calls["push"], 0);
}

TEST(Ship, AlreadyOnnxSkipsConvert) {
    Ship s;
    s.fakes.onnx_input = true;
    auto out = s.run();
    ASSERT_TRUE(out.run.ok());
    EXPECT_EQ(statuses(out.run)[0], "convert=skipped");
    EXPECT_EQ(s.fakes.calls["convert"], 0);
    EXPECT_EQ(out.state->onnx, s.options.model);
    EXPECT_EQ(out.json["onnx_sha256"], core::sha256_hex("trees v1"));
}

TEST(Ship, ExistingSolutionWithoutTheModuleGetsModuleAdd) {
    Ship s;
    fs::create_directories(s.dir / "pm");
    write_text(s.dir / "pm" / "deployment.template.json", "{}");
    auto out = s.run();
    ASSERT_TRUE(out.run.ok()) << out.run.error->what();
    EXPECT_EQ(s.fakes.calls["module_add"], 1);
    EXPECT_EQ(s.fakes.calls["init"], 0);
    // Work directory inside the existing solution from the start.
    EXPECT_TRUE(fs::exists(s.dir / "pm" / ".edgeship" / "ship.json"));
}

TEST(Ship, DryRunPlansEveryStepAndTouchesNothing) {
    Ship s;
    auto out = s.run(Mode::plan);
    ASSERT_TRUE(out.run.ok()) << out.run.error->what();
    EXPECT_EQ(statuses(out.run),
              (std::vector<std::string>{"convert=planned", "check=planned", "solution=planned", "build=planned",
                                        "push=planned", "gen=planned", "validate=planned", "deploy=planned",
                                        "wait=planned"}));
    EXPECT_FALSE(fs::exists(s.dir / "pm"));
    EXPECT_FALSE(fs::exists(s.dir / ".pm.edgeship"));
    EXPECT_EQ(s.fakes.calls["convert"] + s.fakes.calls["init"] + s.fakes.calls["build"] + s.fakes.calls["push"] +
                  s.fakes.calls["gen"],
              0);
    EXPECT_EQ(s.fakes.deploy_modes, std::vector<Mode>{Mode::plan});
    EXPECT_TRUE(s.fakes.deployed.empty());
    // Registry and IoT Hub operations are listed.
    std::vector<std::string> ops;
    for (const auto& st : out.run.steps) {
        for (const auto& o : st.operations) {
            ops.push_back(st.name + " " + o.service + " " + o.method + " " + o.target);
        }
    }
    EXPECT_EQ(ops, (std::vector<std::string>{
                       "convert file write " + (s.dir / ".pm.edgeship" / "model.onnx").string(),
                       "solution file write " + (s.dir / "pm" / "modules" / "scoring").string(),
                       "push registry HEAD /v2/scoring/blobs/<digest>",
                       "push registry POST /v2/scoring/blobs/uploads/",
                       "push registry PATCH+PUT /v2/scoring/blobs/uploads/<session>",
                       "push registry PUT /v2/scoring/manifests/<version>-amd64",
                       "gen file write " + (s.dir / "pm" / "config" / "deployment.amd64.json").string(),
                       "deploy iothub POST /devices/gw-01/applyConfigurationContent",
                       "wait iothub GET /twins/gw-01/modules/$edgeAgent"}));
    EXPECT_EQ(out.json["dry_run"], true);
}

TEST(Ship, DryRunOfAnUpToDateSolutionSaysWhatWouldBeSkipped) {
    Ship s;
    ASSERT_TRUE(s.run().run.ok());
    auto before = read_text(s.dir / "pm" / ".edgeship" / "ship.json");
    s.fakes.calls.clear();
    auto out = s.run(Mode::plan);
    ASSERT_TRUE(out.run.ok());
    EXPECT_EQ(statuses(out.run)[0], "convert=skipped");
    EXPECT_EQ(statuses(out.run)[2], "solution=skipped");
    EXPECT_EQ(statuses(out.run)[3], "build=skipped");
    EXPECT_EQ(statuses(out.run)[4], "push=skipped");
    EXPECT_EQ(read_text(s.dir / "pm" / ".edgeship" / "ship.json"), before);
    EXPECT_EQ(s.fakes.deployed.size(), 1u); // only the first run's
}

TEST(Ship, DeployDryRunRunsEverythingButTheHubCalls) {
    Ship s;
    s.options.hub_calls = HubCalls::plan_only;
    auto out = s.run();
    ASSERT_TRUE(out.run.ok());
    EXPECT_EQ(statuses(out.run),
              (std::vector<std::string>{"convert=done", "check=done", "solution=done", "build=done", "push=done",
                                        "gen=done", "validate=done", "deploy=planned", "wait=planned"}));
    EXPECT_TRUE(s.fakes.deployed.empty());
    EXPECT_EQ(s.fakes.calls["wait"], 0);
    EXPECT_EQ(out.json["hub_dry_run"], true);
    EXPECT_EQ(out.json["deployment"]["applied"], false);
}

struct Injection {
    const char* action;
    const char* step;
    ExitCode code;
};

class ShipFailure : public ::testing::TestWithParam<Injection> {};

TEST_P(ShipFailure, NamesTheStepKeepsItsExitCodeAndEarlierOutputs) {
    Ship s;
    const auto& inj = GetParam();
    s.fakes.fail_with[inj.action] = "injected";
    s.fakes.fail_code[inj.action] = inj.code;
    auto out = s.run();
    ASSERT_FALSE(out.run.ok());
    EXPECT_EQ(out.run.failed_step, inj.step);
    EXPECT_EQ(out.run.error->what(), std::string("ship: step ") + inj.step + ": injected");
    EXPECT_EQ(out.run.error->code(), inj.code);
    EXPECT_EQ(out.json["failed_step"], inj.step);
    EXPECT_EQ(out.json["exit_code"], to_int(inj.code));
    // Steps after it did not run; steps before it kept their outputs.
    bool after = false;
    for (const auto& st : out.run.steps) {
        if (after) {
            EXPECT_EQ(st.status, StepStatus::not_run) << st.name;
        }
        after = after || st.name == inj.step;
    }
    if (std::string(inj.step) != "convert") {
        EXPECT_TRUE(fs::exists(out.state->onnx)) << out.state->onnx;
    }
    // A re-run after the cause is fixed resumes: the conversion is not redone.
    s.fakes.fail_with.clear();
    s.fakes.calls.clear();
    auto again = s.run();
    ASSERT_TRUE(again.run.ok()) << again.run.error->what();
    EXPECT_EQ(s.fakes.calls["convert"], std::string(inj.step) == "convert" ? 1 : 0);
}

INSTANTIATE_TEST_SUITE_P(EachStep, ShipFailure,
                         ::testing::Values(Injection{"convert", "convert", ExitCode::failure},
                                           Injection{"check", "check", ExitCode::validation},
                                           Injection{"init", "solution", ExitCode::usage},
                                           Injection{"build", "build", ExitCode::failure},
                                           Injection{"push", "push", ExitCode::auth},
                                           Injection{"gen", "gen", ExitCode::validation},
                                           Injection{"validate", "validate", ExitCode::validation},
                                           Injection{"deploy", "deploy", ExitCode::auth},
                                           Injection{"wait", "wait", ExitCode::failure}),
                         [](const auto& p) { return std::string(p.param.action); });

TEST(Ship, ValidateFailsWhenTheManifestDoesNotRunThePushedImage) {
    Ship s;
    s.fakes.gen_image = "mcr.microsoft.com/other:1";
    auto out = s.run();
    ASSERT_FALSE(out.run.ok());
    EXPECT_EQ(out.run.failed_step, "validate");
    EXPECT_EQ(out.run.error->code(), ExitCode::validation);
    EXPECT_EQ(out.run.error->what(),
              "ship: step validate: " + (s.dir / "pm" / "config" / "deployment.amd64.json").string() +
                  ": no module runs the image just pushed (127.0.0.1:5000/scoring:0.0.1-amd64); its modules run: "
                  "mcr.microsoft.com/other:1");
    EXPECT_TRUE(s.fakes.deployed.empty());
}

TEST(Ship, PushFailureKeepsTheBuiltImageRecordedOnlyWhenPushed) {
    Ship s;
    s.fakes.fail_with["push"] = "503";
    ASSERT_FALSE(s.run().run.ok());
    EXPECT_TRUE(s.fakes.registry.empty());
    s.fakes.fail_with.clear();
    s.fakes.calls.clear();
    ASSERT_TRUE(s.run().run.ok());
    EXPECT_EQ(s.fakes.calls["push"], 1); // not skipped: it never reached the registry
}

TEST(Ship, OptionsAreCheckedFirst) {
    ShipOptions o;
    o.model = "m.json";
    o.solution = "pm";
    o.wait = true;
    auto steps = make_ship_steps(o, {}, std::make_shared<ShipState>());
    ASSERT_FALSE(steps);
    EXPECT_EQ(steps.error().code(), ExitCode::usage);
    EXPECT_EQ(steps.error().what(), "ship: --wait needs --device or --deployment");

    o.wait = false;
    o.deploy_target = DeployTarget::deployment;
    o.deployment_id = "pm-v2";
    steps = make_ship_steps(o, {}, std::make_shared<ShipState>());
    ASSERT_FALSE(steps);
    EXPECT_EQ(steps.error().what(), "ship: --deployment needs --target-condition");
}

TEST(Ship, NoImageTargetSkipsBuildAndPush) {
    Ship s;
    s.options.image_target = ImageTarget::none;
    s.options.deploy_target = DeployTarget::none;
    s.options.wait = false;
    auto out = s.run();
    ASSERT_TRUE(out.run.ok());
    EXPECT_EQ(statuses(out.run),
              (std::vector<std::string>{"convert=done", "check=done", "solution=done", "build=skipped",
                                        "push=skipped", "gen=done", "validate=done", "deploy=skipped",
                                        "wait=skipped"}));
    EXPECT_TRUE(out.json["deployment"].is_null());
}

TEST(Ship, MissingActionFailsNamingIt) {
    Ship s;
    auto actions = s.fakes.actions();
    actions.build = nullptr;
    auto state = std::make_shared<ShipState>();
    auto steps = make_ship_steps(s.options, actions, state);
    ASSERT_TRUE(steps);
    RunOptions ro;
    ro.cancel = nullptr;
    auto report = run_steps(*steps, ro);
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error->what(), "ship: step build: no implementation for build is wired in this build");
}

TEST(ShipStamp, RoundTripsAndToleratesGarbage) {
    TempDir d;
    ShipStamp st;
    st.source_sha256 = "a";
    st.convert_fingerprint = "f";
    st.onnx_sha256 = "b";
    st.images.push_back({"amd64", "r/x:1", "sha256:c", "fp"});
    ASSERT_TRUE(write_stamp(d.path() / "w", st));
    auto back = read_stamp(d.path() / "w");
    EXPECT_EQ(back.source_sha256, "a");
    EXPECT_EQ(back.images.at(0).digest, "sha256:c");
    write_text(d.path() / "w" / "ship.json", "{not json");
    EXPECT_TRUE(read_stamp(d.path() / "w").source_sha256.empty());
}

TEST(ShipStamp, WorkDirIsBesideANewSolutionAndInsideAnExistingOne) {
    TempDir d;
    EXPECT_EQ(work_dir_for(d.path() / "pm"), d.path() / ".pm.edgeship");
    EXPECT_EQ(work_dir_for(d.path() / "pm/"), d.path() / ".pm.edgeship");
    fs::create_directories(d.path() / "pm");
    write_text(d.path() / "pm" / "deployment.template.json", "{}");
    EXPECT_EQ(work_dir_for(d.path() / "pm"), d.path() / "pm" / ".edgeship");
}

TEST(ShipStamp, TreeHashChangesWithContentAndIgnoresTheWorkDir) {
    TempDir d;
    fs::create_directories(d.path() / "m" / "app");
    write_text(d.path() / "m" / "app" / "a.py", "1");
    auto h1 = tree_sha256(d.path() / "m");
    ASSERT_TRUE(h1);
    fs::create_directories(d.path() / "m" / ".edgeship");
    write_text(d.path() / "m" / ".edgeship" / "x", "ignored");
    EXPECT_EQ(*tree_sha256(d.path() / "m"), *h1);
    write_text(d.path() / "m" / "app" / "a.py", "2");
    EXPECT_NE(*tree_sha256(d.path() / "m"), *h1);
}

} // namespace
} // namespace edgeship::pipeline
