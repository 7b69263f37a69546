#include "model/inspect.hpp"
#include "model/onnx_model.hpp"
#include "model_fixtures.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <random>

namespace edgeship::model {
namespace {

using test::TempDir;

TEST(LoadModel, ReadsValidModelAndFileFacts) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_tiny_tree), dir / "m.onnx");
    auto m = load_model(dir / "m.onnx");
    ASSERT_TRUE(m) << m.error().what();
    EXPECT_EQ(m->proto.ir_version(), 8);
    EXPECT_EQ(m->file_size, std::filesystem::file_size(dir / "m.onnx"));
    EXPECT_EQ(m->sha256.size(), 64u);
}

TEST(LoadModel, EmptyFile) {
    TempDir dir;
    test::write_text(dir / "e.onnx", "");
    auto m = load_model(dir / "e.onnx");
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().message(), (dir / "e.onnx").string() + ": empty file, not an ONNX model");
    EXPECT_EQ(m.error().code(), ExitCode::failure);
}

TEST(LoadModel, RandomBytes) {
    TempDir dir;
    std::mt19937 rng(42);
    std::string junk(4096, '\0');
    for (auto& c : junk) {
        c = static_cast<char>(rng());
    }
    test::write_text(dir / "r.onnx", junk);
    auto m = load_model(dir / "r.onnx");
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message().find("not an ONNX model"), std::string::npos) << m.error().message();
}

TEST(LoadModel, TruncatedProtobuf) {
    TempDir dir;
    std::string bytes;
    test::parse_onnx_text(test::k_mlp).SerializeToString(&bytes);
    test::write_text(dir / "t.onnx", bytes.substr(0, bytes.size() / 2));
    auto m = load_model(dir / "t.onnx");
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message().find("truncated or corrupt"), std::string::npos) << m.error().message();
}

TEST(LoadModel, ProtobufThatIsNotAModel) {
    TempDir dir;
    onnx::TensorProto t; // a valid protobuf of the wrong kind: no ir_version, no graph
    t.set_name("weights");
    t.add_dims(2);
    t.add_float_data(1.0f);
    t.add_float_data(2.0f);
    std::string bytes;
    t.SerializeToString(&bytes);
    test::write_text(dir / "tensor.pb", bytes);
    auto m = load_model(dir / "tensor.pb");
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message().find("not an ONNX model"), std::string::npos) << m.error().message();
}

TEST(LoadModel, DirectoryAndMissingFile) {
    TempDir dir;
    auto d = load_model(dir.path());
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message().find("is a directory"), std::string::npos);
    auto missing = load_model(dir / "absent.onnx");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("absent.onnx: no such file"), std::string::npos);
}

TEST(CheckModel, ValidModelHasNoFindings) {
    TempDir dir;
    test::save_proto(test::parse_onnx_text(test::k_mlp), dir / "m.onnx");
    auto m = load_model(dir / "m.onnx");
    ASSERT_TRUE(m);
    onnx::ModelProto inferred;
    EXPECT_TRUE(check_model(*m, StrictShapes::yes, &inferred).empty());
    // Shape inference ran: the intermediate values got types.
    EXPECT_GE(inferred.graph().value_info_size(), 2);
}

TEST(CheckModel, NewerIrVersionIsNamed) {
    TempDir dir;
    auto proto = test::parse_onnx_text(test::k_mlp);
    proto.set_ir_version(10);
    test::save_proto(proto, dir / "new.onnx");
    auto m = load_model(dir / "new.onnx");
    ASSERT_TRUE(m);
    auto findings = check_model(*m);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].stage, "ir_version");
    EXPECT_EQ(findings[0].message, "IR version 10 is newer than this build supports (ONNX 1.12: IR 8 at most)");
}

TEST(CheckModel, UnknownOperatorIsACheckerFinding) {
    TempDir dir;
    auto proto = test::parse_onnx_text(test::k_mlp);
    proto.mutable_graph()->mutable_node(1)->set_op_type("NoSuchOp");
    test::save_proto(proto, dir / "bad.onnx");
    auto m = load_model(dir / "bad.onnx");
    ASSERT_TRUE(m);
    auto findings = check_model(*m);
    ASSERT_FALSE(findings.empty());
    EXPECT_EQ(findings[0].stage, "checker");
    EXPECT_NE(findings[0].message.find("NoSuchOp"), std::string::npos) << findings[0].message;
}

// Moves initializer w1 of the MLP into an external file, as ONNX's external-data format specifies.
onnx::ModelProto with_external_w1(const std::filesystem::path& dir, const std::string& location) {
    auto proto = test::parse_onnx_text(test::k_mlp);
    auto* w1 = proto.mutable_graph()->mutable_initializer(0);
    EXPECT_EQ(w1->name(), "w1");
    std::string raw(reinterpret_cast<const char*>(w1->float_data().data()), w1->float_data_size() * sizeof(float));
    w1->clear_float_data();
    w1->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* loc = w1->add_external_data();
    loc->set_key("location");
    loc->set_value(location);
    auto* len = w1->add_external_data();
    len->set_key("length");
    len->set_value(std::to_string(raw.size()));
    test::write_text(dir / location, raw);
    return proto;
}

TEST(CheckModel, ExternalDataIsResolvedNextToTheModel) {
    TempDir dir;
    test::save_proto(with_external_w1(dir.path(), "weights.bin"), dir / "ext.onnx");
    auto report = inspect_model(dir / "ext.onnx");
    ASSERT_TRUE(report) << report.error().what();
    EXPECT_TRUE(report->valid()) << report->findings.front().message;
    ASSERT_EQ(report->external_data.size(), 1u);
    EXPECT_EQ(report->external_data[0].tensor, "w1");
    EXPECT_EQ(report->external_data[0].location, "weights.bin");
    EXPECT_EQ(report->external_data[0].length, 48);
    EXPECT_EQ(report->parameter_count, 12u + 4u + 8u + 2u);
}

TEST(CheckModel, MissingOrShortExternalDataIsAFinding) {
    TempDir dir;
    test::save_proto(with_external_w1(dir.path(), "weights.bin"), dir / "ext.onnx");
    test::write_text(dir / "weights.bin", "short");
    auto short_report = inspect_model(dir / "ext.onnx");
    ASSERT_TRUE(short_report);
    ASSERT_FALSE(short_report->valid());
    EXPECT_EQ(short_report->findings[0].stage, "external_data");
    EXPECT_NE(short_report->findings[0].message.find("shorter"), std::string::npos);

    std::filesystem::remove(dir / "weights.bin");
    auto missing = inspect_model(dir / "ext.onnx");
    ASSERT_TRUE(missing);
    ASSERT_FALSE(missing->valid());
    EXPECT_NE(missing->findings[0].message.find("missing or unreadable"), std::string::npos);
}

TEST(CheckModel, ExternalDataOutsideTheModelDirectoryIsRefused) {
    TempDir dir;
    std::filesystem::create_directory(dir / "sub");
    auto proto = with_external_w1(dir.path(), "weights.bin");
    proto.mutable_graph()->mutable_initializer(0)->mutable_external_data(0)->set_value("../weights.bin");
    test::save_proto(proto, dir / "sub" / "ext.onnx");
    auto report = inspect_model(dir / "sub" / "ext.onnx");
    ASSERT_TRUE(report);
    ASSERT_FALSE(report->valid());
    EXPECT_NE(report->findings[0].message.find("must be a relative path inside"), std::string::npos);
}

TEST(SaveModel, RoundTripsAtomically) {
    TempDir dir;
    auto proto = test::parse_onnx_text(test::k_tiny_tree);
    ASSERT_TRUE(save_model(proto, dir / "out.onnx"));
    auto back = load_model(dir / "out.onnx");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->proto.SerializeAsString(), proto.SerializeAsString());
}

} // namespace
} // namespace edgeship::model
