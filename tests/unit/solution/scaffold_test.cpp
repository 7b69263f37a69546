#include "solution/scaffold.hpp"

#include "core/sha256.hpp"
#include "model/model_fixtures.hpp"
#include "solution/golden.hpp"
#include "solution/json_text.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace edgeship::solution {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using test::read_text;
using test::TempDir;
using test::write_text;

fs::path example_model() { return test::source_dir() / "examples/predictive-maintenance/model.onnx"; }

std::vector<std::string> relative_files(const fs::path& root) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.is_regular_file()) {
            out.push_back(fs::relative(e.path(), root).generic_string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Scaffolds a solution for the example model and compares every file with the golden copy
// (the model itself by checksum).
void check_golden_init(const std::string& runtime, const std::vector<std::string>& platforms, const std::string& golden) {
    TempDir dir;
    InitOptions o;
    o.dir = dir / "pm";
    o.module.name = "scoring";
    o.module.model = example_model();
    o.module.runtime = runtime;
    o.module.platforms = platforms;
    auto plan = plan_init(o, templates::TemplateSource());
    ASSERT_TRUE(plan) << plan.error().what();
    ASSERT_TRUE(apply_plan(*plan));
    auto files = relative_files(o.dir);
    std::string listing;
    for (const auto& f : files) {
        listing += f + "\n";
        if (f == "modules/scoring/model/model.onnx") {
            EXPECT_EQ(*core::sha256_file(o.dir / f), *core::sha256_file(example_model()));
            continue;
        }
        // ".golden" suffix: a golden .gitignore must not make git ignore the golden .env
        test::expect_golden(golden + "/" + f + ".golden", read_text(o.dir / f));
    }
    test::expect_golden(golden + ".files", listing);
}

TEST(Init, GoldenPythonSolutionForTheExampleModel) { check_golden_init("python-onnxruntime", {"amd64", "arm64v8"}, "init/python"); }

TEST(Init, GoldenNodeSolutionForTheExampleModel) { check_golden_init("node-onnxruntime", {"amd64", "arm64v8"}, "init/node"); }

TEST(Init, PythonDockerfilesArePlatformSpecificSlimAndNonRoot) {
    TempDir dir;
    InitOptions o;
    o.dir = dir / "s";
    o.module.name = "m";
    o.module.platforms = {"amd64", "arm64v8"};
    auto plan = plan_init(o, templates::TemplateSource());
    ASSERT_TRUE(plan) << plan.error().what();
    auto content = [&](const std::string& rel) {
        for (const auto& f : plan->files) {
            if (f.path == rel) {
                return f.content;
            }
        }
        ADD_FAILURE() << "no " << rel;
        return std::string();
    };
    std::string amd = content("modules/m/Dockerfile.amd64");
    std::string arm = content("modules/m/Dockerfile.arm64v8");
    EXPECT_NE(amd.find("FROM python:3.11-slim-bookworm AS deps\n"), std::string::npos);
    EXPECT_NE(arm.find("FROM arm64v8/python:3.11-slim-bookworm AS deps\n"), std::string::npos);
    for (const auto& d : {amd, arm, content("modules/m/Dockerfile.amd64.debug")}) {
        // the final stage: after the last FROM
        std::string final_stage = d.substr(d.rfind("\nFROM "));
        EXPECT_NE(final_stage.find("\nUSER 10001\n"), std::string::npos);
        EXPECT_NE(final_stage.find("useradd --system --uid 10001"), std::string::npos);
        for (const char* tool : {"gcc", "build-essential", "apt-get install", "pip install"}) {
            EXPECT_EQ(final_stage.find(tool), std::string::npos) << tool << " in the final stage";
        }
        EXPECT_NE(d.find("--only-binary=:all:"), std::string::npos);
    }
    EXPECT_EQ(std::count_if(plan->files.begin(), plan->files.end(),
                            [](const PlannedFile& f) { return f.path.filename() == "Dockerfile.arm64v8.debug"; }),
              0);
    auto mj = ordered_json::parse(content("modules/m/module.json"));
    EXPECT_EQ(mj["image"]["tag"]["platforms"].dump(),
              R"({"amd64":"./Dockerfile.amd64","amd64.debug":"./Dockerfile.amd64.debug","arm64v8":"./Dockerfile.arm64v8"})");
}

TEST(Init, RefusesArm32AndUnknownThings) {
    TempDir dir;
    InitOptions o;
    o.dir = dir / "s";
    o.module.name = "m";
    o.module.platforms = {"amd64", "arm32v7"};
    for (const char* rt : {"python-onnxruntime", "node-onnxruntime"}) {
        o.module.runtime = rt;
        auto r = plan_init(o, templates::TemplateSource());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code(), ExitCode::usage);
        EXPECT_EQ(r.error().message().rfind(std::string("runtime ") + rt + " cannot serve platform arm32v7: ", 0), 0u)
            << r.error().message();
    }
    o.module.runtime = "java-onnx";
    o.module.platforms = {"amd64"};
    auto r = plan_init(o, templates::TemplateSource());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "unknown runtime 'java-onnx' (available: node-onnxruntime, python-onnxruntime)");
    o.module.runtime = k_default_runtime;
    o.module.name = "bad-name";
    EXPECT_FALSE(plan_init(o, templates::TemplateSource()));
    o.module.name = "m";
    o.module.model = dir / "missing.onnx";
    EXPECT_FALSE(plan_init(o, templates::TemplateSource()));
    EXPECT_FALSE(fs::exists(o.dir));
}

TEST(Init, RefusesNonEmptyDirectoryAndAcceptsEmptyOne) {
    TempDir dir;
    fs::create_directories(dir / "full");
    write_text(dir / "full/x", "keep");
    InitOptions o;
    o.dir = dir / "full";
    o.module.name = "m";
    auto r = plan_init(o, templates::TemplateSource());
    ASSERT_FALSE(r);
    EXPECT_EQ(read_text(dir / "full/x"), "keep");
    fs::create_directories(dir / "empty");
    o.dir = dir / "empty";
    auto plan = plan_init(o, templates::TemplateSource());
    ASSERT_TRUE(plan);
    ASSERT_TRUE(apply_plan(*plan));
    EXPECT_TRUE(fs::is_regular_file(dir / "empty/deployment.template.json"));
    // no staging directory left behind
    for (const auto& e : fs::directory_iterator(dir.path())) {
        EXPECT_EQ(e.path().filename().string().find(".edgeship-tmp"), std::string::npos) << e.path();
    }
}

TEST(Init, UserTemplateDirectoryOverridesEmbeddedTemplates) {
    TempDir dir;
    fs::create_directories(dir / "tpl/runtimes/python-onnxruntime");
    write_text(dir / "tpl/runtimes/python-onnxruntime/Dockerfile.tpl", "FROM {{BASE_IMAGE}}\n# custom {{PLATFORM}}\n");
    InitOptions o;
    o.dir = dir / "s";
    o.module.name = "m";
    auto src = templates::TemplateSource::open(dir / "tpl");
    ASSERT_TRUE(src);
    auto plan = plan_init(o, *src);
    ASSERT_TRUE(plan) << plan.error().what();
    auto it = std::find_if(plan->files.begin(), plan->files.end(),
                           [](const PlannedFile& f) { return f.path == "modules/m/Dockerfile.amd64"; });
    ASSERT_NE(it, plan->files.end());
    EXPECT_EQ(it->content, "FROM python:3.11-slim-bookworm\n# custom amd64\n");
}

// module add keeps the user's edits: removing the inserted text gives back the original bytes.
TEST(ModuleAdd, InsertsModuleAndRouteKeepingUserFormatting) {
    TempDir dir;
    const std::string original = "{\n"
                                 "    \"$schema-template\": \"4.0.0\",\n"
                                 "    \"modulesContent\": {\n"
                                 "        \"$edgeAgent\": {\n"
                                 "            \"properties.desired\": {\n"
                                 "                \"schemaVersion\": \"1.1\",\n"
                                 "                \"zzz_user_key\": [1,2,   3],\n"
                                 "                \"modules\": {\n"
                                 "                    \"existing\": {\"settings\": {\"image\": \"${MODULES.existing}\"}}\n"
                                 "                },\n"
                                 "                \"runtime\": {}\n"
                                 "            }\n"
                                 "        },\n"
                                 "        \"$edgeHub\": {\n"
                                 "            \"properties.desired\": {\n"
                                 "                \"routes\": {\n"
                                 "                    \"mine\": \"FROM /messages/* INTO $upstream\"\n"
                                 "                }\n"
                                 "            }\n"
                                 "        }\n"
                                 "    }\n"
                                 "}\n";
    write_text(dir / "deployment.template.json", original);
    ModuleSpec spec;
    spec.name = "anomaly";
    spec.model = example_model();
    spec.runtime = "node-onnxruntime";
    auto plan = plan_module_add(dir.path(), spec, templates::TemplateSource());
    ASSERT_TRUE(plan) << plan.error().what();
    ASSERT_TRUE(apply_plan(*plan));
    std::string updated = read_text(dir / "deployment.template.json");
    auto j = ordered_json::parse(updated);
    auto& mods = j["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"];
    ASSERT_TRUE(mods.contains("anomaly"));
    EXPECT_EQ(mods["anomaly"]["settings"]["image"], "${MODULES.anomaly}");
    EXPECT_EQ(mods.begin().key(), "existing");
    EXPECT_EQ(j["modulesContent"]["$edgeHub"]["properties.desired"]["routes"]["anomalyToIoTHub"],
              "FROM /messages/modules/anomaly/outputs/* INTO $upstream");
    // the second module binds the next host port
    EXPECT_EQ(mods["anomaly"]["settings"]["createOptions"]["HostConfig"]["PortBindings"]["8080/tcp"][0]["HostPort"], "8081");
    // strip the two insertions: the rest is byte-identical
    auto m = find_value(updated, {"modulesContent", "$edgeAgent", "properties.desired", "modules", "anomaly"});
    ASSERT_TRUE(m && *m);
    std::string stripped = updated;
    auto key_start = stripped.rfind(",\n", (*m)->begin);
    stripped.erase(key_start, (*m)->end - key_start);
    auto r = find_value(stripped, {"modulesContent", "$edgeHub", "properties.desired", "routes", "anomalyToIoTHub"});
    ASSERT_TRUE(r && *r);
    key_start = stripped.rfind(",\n", (*r)->begin);
    stripped.erase(key_start, (*r)->end - key_start);
    EXPECT_EQ(stripped, original);
    EXPECT_TRUE(fs::is_regular_file(dir / "modules/anomaly/app/server.js"));
    EXPECT_TRUE(fs::is_regular_file(dir / "modules/anomaly/model/model.onnx"));
    EXPECT_FALSE(fs::exists(dir / "deployment.debug.template.json"));
}

TEST(ModuleAdd, RefusesDuplicatesAndMissingSolutionWithoutWriting) {
    TempDir dir;
    ModuleSpec spec;
    spec.name = "scoring";
    auto none = plan_module_add(dir.path(), spec, templates::TemplateSource());
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().message(), (dir / "deployment.template.json").string() + ": not found; is " +
                                          dir.path().string() + " a solution?");
    InitOptions o;
    o.dir = dir / "s";
    o.module.name = "scoring";
    auto plan = plan_init(o, templates::TemplateSource());
    ASSERT_TRUE(plan && apply_plan(*plan));
    std::string before = read_text(dir / "s/deployment.template.json");
    fs::remove_all(dir / "s/modules/scoring"); // the folder is gone but the template still has the module
    auto dup = plan_module_add(dir / "s", spec, templates::TemplateSource());
    ASSERT_FALSE(dup);
    EXPECT_NE(dup.error().what().find("already has 'scoring'"), std::string::npos) << dup.error().what();
    EXPECT_EQ(read_text(dir / "s/deployment.template.json"), before);
}


// ship replacing a retrained model: app/signature.json follows the model's signature, byte for byte what
// init would write, and only when it changed (the app layer stays the same for a same-signature retrain).
TEST(RefreshSignature, FollowsTheModelsSignatureOnlyWhenItChanges) {
    TempDir dir;
    InitOptions o;
    o.dir = dir / "pm";
    o.module.name = "scoring";
    o.module.model = example_model();
    auto plan = plan_init(o, templates::TemplateSource());
    ASSERT_TRUE(plan) << plan.error().what();
    ASSERT_TRUE(apply_plan(*plan));
    const fs::path module = o.dir / "modules/scoring";
    const fs::path sig = module / "app/signature.json";
    const std::string generated = read_text(sig);

    auto same = refresh_signature(module, example_model());
    ASSERT_TRUE(same) << same.error().what();
    EXPECT_FALSE(*same);
    EXPECT_EQ(read_text(sig), generated);

    // A retrained model with other inputs: the file is what init writes for that model.
    const fs::path other = dir / "other.onnx";
    test::save_proto(test::parse_onnx_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
g (float[N, 3] readings) => (float[N, 3] score) {
  score = Relu(readings)
}
)"),
                     other);
    auto changed = refresh_signature(module, other);
    ASSERT_TRUE(changed) << changed.error().what();
    EXPECT_TRUE(*changed);
    const auto j = ordered_json::parse(read_text(sig));
    EXPECT_EQ(j["inputs"][0]["name"], "readings");
    EXPECT_EQ(j["outputs"][0]["name"], "score");
    EXPECT_FALSE(j.contains("sha256"));
    InitOptions o2 = o;
    o2.dir = dir / "pm2";
    o2.module.model = other;
    auto plan2 = plan_init(o2, templates::TemplateSource());
    ASSERT_TRUE(plan2) << plan2.error().what();
    ASSERT_TRUE(apply_plan(*plan2));
    EXPECT_EQ(read_text(sig), read_text(o2.dir / "modules/scoring/app/signature.json"));

    // Not edgeship's scoring code (no app/signature.json): left alone. An unreadable model: an error, file kept.
    fs::create_directories(dir / "custom");
    auto none = refresh_signature(dir / "custom", other);
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    EXPECT_FALSE(fs::exists(dir / "custom/app"));
    write_text(dir / "broken.onnx", "not a model");
    EXPECT_FALSE(refresh_signature(module, dir / "broken.onnx"));
    EXPECT_EQ(j, ordered_json::parse(read_text(sig)));
}

} // namespace
} // namespace edgeship::solution
