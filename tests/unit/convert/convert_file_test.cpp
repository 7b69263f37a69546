// convert::convert_file, the facade `edgeship convert` and `edgeship ship` share: which reader a file
// goes to, the passes it runs, and that a failure leaves the output as it was.

#include "convert/convert_file.hpp"
#include "model/onnx_model.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <onnx/defs/parser.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <map>
#include <optional>

namespace edgeship::convert {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

fs::path fixture(const std::string& rel) { return test::source_dir() / "tests/fixtures" / rel; }

// dir/lin.onnx: a 16x4 Gemm, enough weights for fp16 to have something to convert.
fs::path write_gemm_model(const TempDir& dir) {
    onnx::ModelProto m;
    auto status = onnx::OnnxParser::Parse(m, R"(
<ir_version: 7, opset_import: ["" : 13]>
lin (float[N, 16] x) => (float[N, 4] y) <float[4] b = {1, 2, 3, 4}> {
  y = Gemm(x, w, b)
}
)");
    EXPECT_TRUE(status.IsOK()) << status.ErrorMessage();
    auto* w = m.mutable_graph()->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(16);
    w->add_dims(4);
    for (int k = 0; k < 64; ++k) {
        w->add_float_data(static_cast<float>(k) * 0.01f);
    }
    auto path = dir / "lin.onnx";
    auto saved = model::save_model(m, path);
    EXPECT_TRUE(saved) << saved.error().what();
    return path;
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

std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

// choose_reader's answer, or nothing on an error (shown by the EXPECT that compares it).
std::optional<Reader> reader_for(const fs::path& input, std::string_view from) {
    auto r = choose_reader(input, from);
    if (!r) {
        return std::nullopt;
    }
    return *r;
}

ConvertRequest request(const fs::path& in, const fs::path& out) {
    ConvertRequest r;
    r.input = in;
    r.output = out;
    r.edgeship_version = "0.0.0-test";
    return r;
}

TEST(ChooseReader, DetectsEdgeshipFormatsAndFrameworkFilesFromTheirBytes) {
    TempDir dir;
    EXPECT_EQ(reader_for(fixture("xgboost/binary.json"), ""), Reader::edgeship);
    EXPECT_EQ(reader_for(fixture("xgboost/binary.ubj"), ""), Reader::edgeship);
    EXPECT_EQ(reader_for(fixture("lightgbm/regression.txt"), ""), Reader::edgeship);
    EXPECT_EQ(reader_for(write_gemm_model(dir), ""), Reader::edgeship);
    // A pickle (protocol 4 header) is the Python bridge's; nothing is unpickled to decide.
    test::write_text(dir / "model.pkl", std::string("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x07sklearn", 20));
    EXPECT_EQ(reader_for(dir / "model.pkl", ""), Reader::python);
}

TEST(ChooseReader, FromOverridesDetection) {
    EXPECT_EQ(reader_for(fixture("xgboost/binary.json"), "torch"), Reader::python);
    EXPECT_EQ(reader_for(fixture("xgboost/binary.json"), "sklearn"), Reader::python);
    EXPECT_EQ(reader_for(fixture("lightgbm/regression.txt"), "onnx"), Reader::edgeship);
}

TEST(ChooseReader, MissingFilesGoToTheReaderWhichSaysWhy) {
    TempDir dir;
    EXPECT_EQ(reader_for(dir / "absent.json", ""), Reader::edgeship);
    auto c = convert_file(request(dir / "absent.json", dir / "out.onnx"));
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find((dir / "absent.json").string()), std::string::npos) << c.error().what();
    EXPECT_EQ(listing(dir.path()), std::vector<std::string>{});
}

TEST(ConvertFile, UnknownBytesAreOneLineNamingTheFile) {
    TempDir dir;
    test::write_text(dir / "x.bin", "hello world, not a model");
    auto c = convert_file(request(dir / "x.bin", dir / "out.onnx"));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::failure);
    EXPECT_EQ(c.error().message(), (dir / "x.bin").string() +
                                       ": unknown model format: not XGBoost JSON/UBJ, LightGBM text or ONNX, and not "
                                       "a scikit-learn pickle/joblib file or a PyTorch file");
    EXPECT_NE(c.error().hint_text().find("--from sklearn|torch"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "out.onnx"));
}

TEST(ConvertFile, XGBoostJsonGoesThroughTheTreeReader) {
    TempDir dir;
    auto c = convert_file(request(fixture("xgboost/binary.json"), dir / "m.onnx"));
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->conversion.source_format, "xgboost-json");
    EXPECT_GT(c->conversion.trees, 0u);
    EXPECT_FALSE(c->optimized);
    EXPECT_TRUE(c->bytes.empty());
    EXPECT_EQ(c->conversion.output, (dir / "m.onnx").string());
    EXPECT_EQ(c->conversion.output_bytes, fs::file_size(dir / "m.onnx"));
    EXPECT_EQ(metadata(dir / "m.onnx")["edgeship.version"], "0.0.0-test");
}

TEST(ConvertFile, LightGBMTextGoesThroughTheTreeReaderWithMargins) {
    TempDir dir;
    auto r = request(fixture("lightgbm/binary.txt"), dir / "m.onnx");
    r.output_kind = model::OutputKind::margin;
    auto c = convert_file(r);
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->conversion.source_format, "lightgbm-text");
    EXPECT_EQ(c->conversion.outputs, std::vector<std::string>{"margin"});
}

TEST(ConvertFile, OnnxIsReEmitted) {
    TempDir dir;
    auto in = write_gemm_model(dir);
    auto c = convert_file(request(in, dir / "out.onnx"));
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->conversion.source_format, "onnx");
    EXPECT_EQ(metadata(dir / "out.onnx")["edgeship.source_format"], "onnx");
}

TEST(ConvertFile, PassesAreApplied) {
    TempDir dir;
    auto in = write_gemm_model(dir);
    auto r = request(in, dir / "out.onnx");
    r.passes.emplace();
    r.passes->fp16.emplace();
    auto c = convert_file(r);
    ASSERT_TRUE(c) << c.error().what();
    ASSERT_TRUE(c->optimized);
    EXPECT_EQ(c->optimized->steps, std::vector<std::string>{"fp16"});
    EXPECT_LT(c->optimized->parameter_bytes_after, c->optimized->parameter_bytes_before);
    auto loaded = model::load_model(dir / "out.onnx");
    ASSERT_TRUE(loaded);
    for (const auto& init : loaded->proto.graph().initializer()) {
        if (init.name() == "w") {
            EXPECT_EQ(init.data_type(), onnx::TensorProto::FLOAT16);
        }
    }
    EXPECT_EQ(metadata(dir / "out.onnx")["edgeship.optimize.steps"], "fp16");
}

TEST(ConvertFile, ExternalDataAloneIsStampedAndCounted) {
    TempDir dir;
    auto in = write_gemm_model(dir);
    fs::create_directory(dir / "out");
    auto r = request(in, dir / "out" / "m.onnx");
    r.external_data = model::ExternalData::yes;
    auto c = convert_file(r);
    ASSERT_TRUE(c) << c.error().what();
    ASSERT_TRUE(c->conversion.external_data);
    ASSERT_TRUE(c->optimized);
    EXPECT_EQ(c->optimized->steps, std::vector<std::string>{"external-data"});
    EXPECT_EQ(c->optimized->size_after, c->conversion.output_bytes + c->conversion.external_data->bytes);
    EXPECT_EQ(listing(dir / "out"), (std::vector<std::string>{"m.onnx", "m.onnx.data"}));
}

TEST(ConvertFile, StdoutReturnsTheBytesAndWritesNothing) {
    TempDir dir;
    auto c = convert_file(request(fixture("xgboost/binary.json"), "-"));
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->conversion.output, "-");
    EXPECT_EQ(c->bytes.size(), c->conversion.output_bytes);
    onnx::ModelProto parsed;
    EXPECT_TRUE(parsed.ParseFromString(c->bytes));
}

TEST(ConvertFile, AFailingPassLeavesTheOutputAsItWas) {
    TempDir dir;
    auto in = write_gemm_model(dir);
    test::write_text(dir / "out.onnx", "old");
    auto r = request(in, dir / "out.onnx");
    r.passes.emplace();
    r.passes->quantize = optimize::QuantizeMode::static_int8;
    r.passes->calibration = dir / "absent.npy";
    auto c = convert_file(r);
    ASSERT_FALSE(c);
    EXPECT_EQ(std::string(c.error().what()).rfind("optimizing the converted " + in.string() + ": --calibration", 0), 0u)
        << c.error().what();
    EXPECT_EQ(test::read_text(dir / "out.onnx"), "old");
    EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"lin.onnx", "out.onnx"}));
}

TEST(ConvertFile, ARefusedModelWritesNothing) {
    TempDir dir;
    auto c = convert_file(request(fixture("lightgbm/refuse_linear_tree.txt"), dir / "m.onnx"));
    ASSERT_FALSE(c);
    EXPECT_EQ(listing(dir.path()), std::vector<std::string>{});
}

TEST(ConvertFile, OptionCombinationsFailBeforeAnythingIsRead) {
    TempDir dir;
    auto absent = dir / "absent.json"; // reading it would fail with exit 1, not 2
    auto r = request(absent, "-");
    r.external_data = model::ExternalData::yes;
    auto c = convert_file(r);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::usage);

    r = request(absent, dir / "m.onnx");
    r.passes.emplace();
    r.passes->fp16.emplace();
    r.passes->quantize = optimize::QuantizeMode::dynamic_int8;
    c = convert_file(r);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::usage);

    r = request(absent, dir / "m.onnx");
    r.from = "keras";
    c = convert_file(r);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::usage);
    EXPECT_EQ(c.error().message(), "--from keras: unknown format");
}

TEST(ConvertFile, TreeOnlyAndTorchOnlyOptionsAreUsageErrorsOnTheOtherRoute) {
    TempDir dir;
    auto r = request(fixture("xgboost/binary.json"), dir / "m.onnx");
    r.framework.input_shape = {1, 8};
    auto c = convert_file(r);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::usage);
    EXPECT_EQ(c.error().message(), "--input-shape applies to PyTorch models only");

    r = request(fixture("xgboost/binary.json"), dir / "m.onnx");
    r.from = "sklearn";
    r.iterations = model::IterationLimit::best_iteration;
    c = convert_file(r);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::usage);
    EXPECT_EQ(c.error().message(), "--margin and --best-iteration apply to XGBoost/LightGBM models only");
    EXPECT_EQ(listing(dir.path()), std::vector<std::string>{});
}

} // namespace
} // namespace edgeship::convert
