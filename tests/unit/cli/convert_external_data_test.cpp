// `edgeship convert --external-data` and ONNX input with external data, in-process (FakeIo): the
// flag parses, the report names the side file, metadata is stamped as `optimize` does, and bad
// external data fails with one line and no output.

#include "cli/app.hpp"
#include "cli/convert_commands.hpp"
#include "model/external_data.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <onnx/defs/parser.h>
#include <onnx/onnx_pb.h>

namespace edgeship::cli {
namespace {

using test::run_cli;
using test::TempDir;
namespace fs = std::filesystem;

// dir/in/m.onnx with its 300x4 Gemm weight in dir/in/m.onnx.data.
fs::path write_external_model(const TempDir& dir) {
    onnx::ModelProto m;
    auto status = onnx::OnnxParser::Parse(m, R"(
<ir_version: 7, opset_import: ["" : 13]>
lin (float[N, 300] x) => (float[N, 4] y) <float[4] b = {1, 2, 3, 4}> {
  y = Gemm(x, w, b)
}
)");
    EXPECT_TRUE(status.IsOK()) << status.ErrorMessage();
    auto* w = m.mutable_graph()->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(300);
    w->add_dims(4);
    for (int k = 0; k < 1200; ++k) {
        w->add_float_data(static_cast<float>(k) * 0.001f);
    }
    fs::create_directory(dir / "in");
    auto info = model::save_with_external_data(m, dir / "in" / "m.onnx");
    EXPECT_TRUE(info) << info.error().what();
    return dir / "in" / "m.onnx";
}

std::map<std::string, std::string> metadata(const fs::path& p) {
    auto loaded = model::load_model(p);
    EXPECT_TRUE(loaded);
    std::map<std::string, std::string> out;
    for (const auto& kv : loaded->proto.metadata_props()) {
        out[kv.key()] = kv.value();
    }
    return out;
}

TEST(ConvertExternalDataParse, TheFlagIsSharedWithOptimize) {
    FakeIo fake;
    Context ctx(fake.io, {});
    CLI::App app;
    ConvertOptions seen;
    register_convert(app, ctx, [&](const ConvertOptions& o, Context&) -> Result<void> {
        seen = o;
        return {};
    });
    app.parse(std::vector<std::string>{"--external-data", "out.onnx", "-o", "m.onnx", "convert"});
    ASSERT_TRUE(ctx.action);
    ASSERT_TRUE(ctx.action());
    EXPECT_TRUE(seen.passes.external_data);
    EXPECT_FALSE(seen.passes.any()); // not a pass: only how the result is written
}

TEST(ConvertExternalDataRun, WritesTheSideFileAndStampsMetadata) {
    TempDir dir;
    auto in = write_external_model(dir);
    auto out = (dir / "out.onnx").string();
    auto r = run_cli({"convert", in.string(), "-o", out, "--external-data", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["source_format"], "onnx");
    EXPECT_EQ(j["external_data"], (nlohmann::json{{"location", "out.onnx.data"}, {"bytes", 4800}, {"tensors", 1}}));
    EXPECT_EQ(j["optimize"]["steps"], nlohmann::json::array({"external-data"}));
    EXPECT_EQ(j["optimize"]["external_data"]["location"], "out.onnx.data");
    EXPECT_EQ(j["optimize"]["size_after"], j["output_bytes"].get<std::uint64_t>() + 4800);
    EXPECT_EQ(fs::file_size(dir / "out.onnx.data"), 4800u);
    auto meta = metadata(out);
    EXPECT_EQ(meta["edgeship.optimize.external_data"], "out.onnx.data");
    EXPECT_EQ(meta["edgeship.optimize.steps"], "external-data");
    EXPECT_EQ(meta["edgeship.source_format"], "onnx");
}

TEST(ConvertExternalDataRun, TextModeNamesTheSideFile) {
    TempDir dir;
    auto in = write_external_model(dir);
    auto out = (dir / "out.onnx").string();
    auto r = run_cli({"convert", in.string(), "-o", out, "--external-data"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, out + "\n");
    EXPECT_NE(r.err.find("-> " + out + " + out.onnx.data (1 tensors, 4800 bytes)"), std::string::npos) << r.err;
}

TEST(ConvertExternalDataRun, InlineByDefault) {
    TempDir dir;
    auto in = write_external_model(dir);
    auto out = (dir / "out.onnx").string();
    auto r = run_cli({"convert", "--from", "onnx", in.string(), "-o", out, "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["external_data"], nullptr);
    EXPECT_FALSE(fs::exists(dir / "out.onnx.data"));
    auto loaded = model::load_model(out);
    ASSERT_TRUE(loaded);
    EXPECT_TRUE(model::external_data_refs(loaded->proto).empty());
}

TEST(ConvertExternalDataRun, StdoutCannotCarryASideFile) {
    TempDir dir;
    auto in = write_external_model(dir);
    auto r = run_cli({"convert", in.string(), "-o", "-", "--external-data"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "edgeship: error: --external-data cannot be combined with -o - (the weights go to a file beside "
                     "the model)\nhint: write the model to a file with -o FILE.onnx\n");
}

TEST(ConvertExternalDataRun, MissingOrTruncatedDataIsOneLineAndNoOutput) {
    TempDir dir;
    auto in = write_external_model(dir);
    auto data = dir / "in" / "m.onnx.data";
    auto out = (dir / "out.onnx").string();
    test::write_text(data, test::read_text(data).substr(0, 100));
    auto truncated = run_cli({"convert", in.string(), "-o", out, "--external-data"});
    EXPECT_EQ(truncated.code, 1);
    EXPECT_EQ(truncated.err, "edgeship: error: " + in.string() + ": tensor 'w': external data file " + data.string() +
                                 " is shorter (100 bytes) than offset+length (4800): truncated?\n");
    fs::remove(data);
    auto missing = run_cli({"convert", in.string(), "-o", out});
    EXPECT_EQ(missing.code, 1);
    EXPECT_EQ(missing.err, "edgeship: error: " + in.string() + ": tensor 'w': external data file " + data.string() +
                               " is missing or unreadable\n");
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out + ".data"));
}

} // namespace
} // namespace edgeship::cli
