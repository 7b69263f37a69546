// External data (model/external_data.hpp, docs/design/onnx.md §10.6): the location rule, the reader, the
// writer, and `convert` of ONNX input with external data (read in, written inline or external, the
// 2 GiB refusal exercised through WriteOptions::size_limit instead of 2 GiB files).

#include "model/convert.hpp"
#include "model/external_data.hpp"
#include "model/inspect.hpp"
#include "model/onnx_model.hpp"
#include "model_fixtures.hpp"
#include "test_support.hpp"

#include "core/sha256.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <iterator>

namespace edgeship::model {
namespace {

using test::TempDir;
using TP = onnx::TensorProto;
namespace fs = std::filesystem;

// A Gemm whose 300x4 float weight (4800 bytes, in float_data) goes external; the bias stays inline.
onnx::ModelProto gemm_model() {
    auto m = test::parse_onnx_text(R"(
<ir_version: 7, opset_import: ["" : 13]>
lin (float[N, 300] x) => (float[N, 4] y) <float[4] b = {1, 2, 3, 4}> {
  y = Gemm(x, w, b)
}
)");
    auto* w = m.mutable_graph()->add_initializer();
    w->set_name("w");
    w->set_data_type(TP::FLOAT);
    w->add_dims(300);
    w->add_dims(4);
    for (int k = 0; k < 1200; ++k) {
        w->add_float_data(static_cast<float>(k) * 0.001f - 0.5f);
    }
    return m;
}

const TP* initializer(const onnx::ModelProto& m, const std::string& name) {
    for (const auto& t : m.graph().initializer()) {
        if (t.name() == name) {
            return &t;
        }
    }
    return nullptr;
}

std::string w_bytes() {
    auto m = gemm_model();
    return *tensor_raw_bytes(*initializer(m, "w"));
}

// Writes gemm_model() as dir/name with w in dir/name.data.
void write_external(const fs::path& dir, const std::string& name) {
    auto m = gemm_model();
    auto info = save_with_external_data(m, dir / name);
    ASSERT_TRUE(info) << info.error().what();
}

void set_location(onnx::ModelProto& m, const std::string& location) {
    for (auto& t : *m.mutable_graph()->mutable_initializer()) {
        for (auto& kv : *t.mutable_external_data()) {
            if (kv.key() == "location") {
                kv.set_value(location);
            }
        }
    }
}

TEST(ExternalLocation, RelativeNamesInsideTheDirectoryAreAccepted) {
    TempDir dir;
    EXPECT_EQ(external_location_problem("w.data", dir.path()), "");
    EXPECT_EQ(external_location_problem("weights/w.data", dir.path()), "");
    EXPECT_EQ(external_location_problem("a..b.data", dir.path()), ""); // ".." only as a path component
    EXPECT_EQ(external_location_problem("./w.data", dir.path()), "");
}

TEST(ExternalLocation, EscapingNamesAreRefused) {
    TempDir dir;
    const std::string suffix = "' must be a relative path inside the model's directory";
    EXPECT_EQ(external_location_problem("../w.data", dir.path()), "external data location '../w.data" + suffix);
    EXPECT_EQ(external_location_problem("sub/../../w.data", dir.path()),
              "external data location 'sub/../../w.data" + suffix);
    EXPECT_EQ(external_location_problem("/etc/passwd", dir.path()), "external data location '/etc/passwd" + suffix);
    EXPECT_EQ(external_location_problem("", dir.path()), "external data location '" + suffix);
}

TEST(ExternalLocation, SymlinksOutOfTheDirectoryAreRefused) {
    TempDir dir;
    fs::create_directory(dir / "model");
    test::write_text(dir / "outside.bin", "secret");
    fs::create_symlink("../outside.bin", dir / "model" / "link.bin");
    fs::create_directory_symlink("..", dir / "model" / "up");
    auto canonical_outside = fs::canonical(dir / "outside.bin").string();
    EXPECT_EQ(external_location_problem("link.bin", dir / "model"),
              "external data location 'link.bin' resolves to " + canonical_outside +
                  ", outside the model's directory (through a symlink)");
    EXPECT_NE(external_location_problem("up/outside.bin", dir / "model"), "");
    // A symlink that stays inside is fine.
    test::write_text(dir / "model" / "real.bin", "data");
    fs::create_symlink("real.bin", dir / "model" / "alias.bin");
    EXPECT_EQ(external_location_problem("alias.bin", dir / "model"), "");
}

TEST(ExternalData, TypedFieldsAreWrittenAsLittleEndianRawBytesAtAlignedOffsets) {
    TempDir dir;
    auto m = gemm_model();
    auto* w2 = m.mutable_graph()->add_initializer(); // a second big tensor, int64 typed field
    w2->set_name("w2");
    w2->set_data_type(TP::INT64);
    w2->add_dims(130);
    for (int k = 0; k < 130; ++k) {
        w2->add_int64_data(k - 65);
    }
    auto info = save_with_external_data(m, dir / "m.onnx");
    ASSERT_TRUE(info) << info.error().what();
    EXPECT_EQ(info->location, "m.onnx.data");
    EXPECT_EQ(info->tensors, 2u);
    EXPECT_EQ(info->bytes, 4800u + 1040u); // 4800 is a multiple of 64: no padding
    auto refs = external_data_refs(m);
    ASSERT_EQ(refs.size(), 2u);
    EXPECT_EQ(refs[1].tensor, "w2");
    EXPECT_EQ(refs[1].offset, 4800u);
    EXPECT_EQ(refs[1].length, 1040);
    const std::string data = test::read_text(dir / "m.onnx.data");
    EXPECT_EQ(data.substr(0, 4800), w_bytes());
    std::int64_t first = 0;
    std::memcpy(&first, data.data() + 4800, 8);
    EXPECT_EQ(first, -65);
    // The bias (16 bytes) stays inline.
    EXPECT_EQ(initializer(m, "b")->data_location(), TP::DEFAULT);
}

TEST(ExternalData, LoadModelWithDataReadsTheWeightsBack) {
    TempDir dir;
    write_external(dir.path(), "m.onnx");
    std::uint64_t on_disk = 0;
    auto loaded = load_model_with_data(dir / "m.onnx", &on_disk);
    ASSERT_TRUE(loaded) << loaded.error().what();
    EXPECT_EQ(on_disk, 4800u);
    EXPECT_TRUE(external_data_refs(loaded->proto).empty());
    const TP* w = initializer(loaded->proto, "w");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->data_location(), TP::DEFAULT);
    EXPECT_EQ(w->raw_data(), w_bytes());
}

TEST(ExternalData, BadInputsNameTheTensorAndFile) {
    TempDir dir;
    write_external(dir.path(), "m.onnx");
    const std::string data = test::read_text(dir / "m.onnx.data");
    const std::string file = (dir / "m.onnx.data").string();

    test::write_text(dir / "m.onnx.data", data.substr(0, 1000)); // truncated
    auto truncated = load_model_with_data(dir / "m.onnx");
    ASSERT_FALSE(truncated);
    EXPECT_EQ(truncated.error().code(), ExitCode::failure);
    EXPECT_EQ(std::string(truncated.error().what()),
              "reading " + (dir / "m.onnx").string() + ": tensor 'w': external data file " + file +
                  " is shorter (1000 bytes) than offset+length (4800): truncated?");

    fs::remove(dir / "m.onnx.data"); // missing
    auto missing = load_model_with_data(dir / "m.onnx");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message(), "tensor 'w': external data file " + file + " is missing or unreadable");

    // Escaping: the data exists one level up, but the model may only read inside its directory.
    fs::create_directory(dir / "sub");
    test::write_text(dir / "m.onnx.data", data);
    auto proto = load_model(dir / "m.onnx");
    ASSERT_TRUE(proto);
    set_location(proto->proto, "../m.onnx.data");
    test::save_proto(proto->proto, dir / "sub" / "m.onnx");
    auto escaping = load_model_with_data(dir / "sub" / "m.onnx");
    ASSERT_FALSE(escaping);
    EXPECT_EQ(escaping.error().message(),
              "tensor 'w': external data location '../m.onnx.data' must be a relative path inside the model's directory");
    // check_model (inspect, check) applies the same rule.
    auto report = inspect_model(dir / "sub" / "m.onnx");
    ASSERT_TRUE(report);
    ASSERT_FALSE(report->valid());
    EXPECT_EQ(report->findings[0].stage, "external_data");
    EXPECT_EQ(report->findings[0].message, escaping.error().message());
}

TEST(ExternalData, LengthThatDoesNotMatchTheDimsIsAnError) {
    TempDir dir;
    write_external(dir.path(), "m.onnx");
    auto proto = load_model(dir / "m.onnx");
    ASSERT_TRUE(proto);
    for (auto& kv : *proto->proto.mutable_graph()->mutable_initializer(1)->mutable_external_data()) {
        if (kv.key() == "length") {
            kv.set_value("4796");
        }
    }
    test::save_proto(proto->proto, dir / "m.onnx");
    auto r = load_model_with_data(dir / "m.onnx");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "tensor 'w': external data holds 4796 bytes, its dims need 4800");
}

TEST(ExternalData, ExistingFilesAreUntouchedWhenTheWriteFails) {
    TempDir dir;
    test::write_text(dir / "m.onnx", "old model");
    test::write_text(dir / "m.onnx.data", "old data");
    auto m = gemm_model();
    // A model still over the limit after moving its weights out is refused before anything is renamed.
    auto r = save_with_external_data(m, dir / "m.onnx", k_external_threshold, /*size_limit=*/10);
    ASSERT_FALSE(r);
    EXPECT_NE(std::string(r.error().what()).find("over protobuf's 2 GiB limit"), std::string::npos);
    EXPECT_EQ(test::read_text(dir / "m.onnx"), "old model");
    EXPECT_EQ(test::read_text(dir / "m.onnx.data"), "old data");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2);
}

// convert of ONNX input whose weights are external (issue 4: "reading such models everywhere").
class ConvertExternal : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directory(dir / "in");
        write_external(dir / "in", "m.onnx");
        options.input = dir / "in" / "m.onnx";
        options.from = SourceFormat::onnx;
        options.edgeship_version = "9.9.9";
    }
    TempDir dir;
    ConvertOptions options;
};

TEST_F(ConvertExternal, InlinesTheWeightsByDefault) {
    auto c = convert_model(options);
    ASSERT_TRUE(c) << c.error().what();
    ASSERT_TRUE(write_conversion(*c, dir / "out.onnx"));
    EXPECT_FALSE(c->report.external_data);
    EXPECT_FALSE(fs::exists(dir / "out.onnx.data"));
    auto back = load_model(dir / "out.onnx");
    ASSERT_TRUE(back);
    EXPECT_TRUE(external_data_refs(back->proto).empty());
    EXPECT_EQ(initializer(back->proto, "w")->raw_data(), w_bytes());
    EXPECT_TRUE(check_model(*back, StrictShapes::yes).empty());
    EXPECT_EQ(report_to_json(c->report)["external_data"], nullptr);
}

TEST_F(ConvertExternal, WritesANewSideFileWithExternalData) {
    auto c = convert_model(options);
    ASSERT_TRUE(c) << c.error().what();
    WriteOptions wo;
    wo.external_data = ExternalData::yes;
    ASSERT_TRUE(write_conversion(*c, dir / "out.onnx", wo));
    ASSERT_TRUE(c->report.external_data);
    EXPECT_EQ(c->report.external_data->location, "out.onnx.data");
    EXPECT_EQ(c->report.external_data->tensors, 1u);
    EXPECT_EQ(c->report.external_data->bytes, 4800u);
    EXPECT_EQ(c->report.sha256, *core::sha256_file(dir / "out.onnx"));
    EXPECT_EQ(c->report.output_bytes, fs::file_size(dir / "out.onnx"));
    EXPECT_EQ(test::read_text(dir / "out.onnx.data"), w_bytes());
    auto j = report_to_json(c->report);
    EXPECT_EQ(j["external_data"]["location"], "out.onnx.data");
    auto back = load_model(dir / "out.onnx");
    ASSERT_TRUE(back);
    auto refs = external_data_refs(back->proto);
    ASSERT_EQ(refs.size(), 1u);
    EXPECT_EQ(refs[0].location, "out.onnx.data");
    EXPECT_TRUE(check_model(*back, StrictShapes::yes).empty());
}

TEST_F(ConvertExternal, OpsetConversionKeepsTheWeights) {
    options.opset = 17;
    auto c = convert_model(options);
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->report.opsets.at(""), 17);
    EXPECT_EQ(*tensor_raw_bytes(*initializer(c->model.proto(), "w")), w_bytes());
}

TEST_F(ConvertExternal, InliningOverTheLimitIsRefusedWithAHint) {
    auto c = convert_model(options);
    ASSERT_TRUE(c) << c.error().what();
    WriteOptions wo;
    wo.size_limit = 4096; // the inlined model is ~5 KB; 2 GiB in real use (k_protobuf_limit)
    test::write_text(dir / "out.onnx", "previous");
    auto r = write_conversion(*c, dir / "out.onnx", wo);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::failure);
    EXPECT_NE(std::string(r.error().what()).find("over protobuf's 2 GiB limit for one file"), std::string::npos)
        << r.error().what();
    EXPECT_EQ(r.error().hint_text(), "pass --external-data to store the weights in OUT.data beside the model");
    EXPECT_EQ(test::read_text(dir / "out.onnx"), "previous");
    EXPECT_FALSE(fs::exists(dir / "out.onnx.data"));
    EXPECT_FALSE(serialize_conversion(*c, wo));
    // The same limit with the weights outside fits.
    wo.external_data = ExternalData::yes;
    ASSERT_TRUE(write_conversion(*c, dir / "out.onnx", wo));
    EXPECT_LT(fs::file_size(dir / "out.onnx"), 4096u);
}

TEST_F(ConvertExternal, BadExternalDataFailsWithoutWriting) {
    fs::remove(dir / "in" / "m.onnx.data");
    auto c = convert_model(options);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ExitCode::failure);
    EXPECT_EQ(std::string(c.error().what()), options.input.string() + ": tensor 'w': external data file " +
                                                 (dir / "in" / "m.onnx.data").string() + " is missing or unreadable");
}

TEST(ConvertTrees, ExternalDataKeepsTreeAttributesInTheModel) {
    // Tree ensembles keep their nodes in attributes, which ONNX cannot store externally: the side
    // file holds only initializers (none here), and the model stays valid and complete.
    TempDir dir;
    ConvertOptions o;
    o.input = test::source_dir() / "tests" / "fixtures" / "xgboost" / "binary.json";
    auto plain = convert_model(o);
    auto ext = convert_model(o);
    ASSERT_TRUE(plain && ext);
    ASSERT_TRUE(write_conversion(*plain, dir / "plain.onnx"));
    WriteOptions wo;
    wo.external_data = ExternalData::yes;
    ASSERT_TRUE(write_conversion(*ext, dir / "ext.onnx", wo));
    ASSERT_TRUE(ext->report.external_data);
    EXPECT_EQ(ext->report.external_data->tensors, 0u);
    EXPECT_EQ(fs::file_size(dir / "ext.onnx.data"), 0u);
    EXPECT_EQ(test::read_text(dir / "plain.onnx"), test::read_text(dir / "ext.onnx"));
}

} // namespace
} // namespace edgeship::model
