#include "optimize/external_data.hpp"

#include "model/onnx_model.hpp"
#include "optimize_fixtures.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace edgeship::optimize {
namespace {

using test::TempDir;
using TP = onnx::TensorProto;

onnx::ModelProto big_model() {
    // 300 x 4 weights (4800 bytes) go external; the 4-float bias stays inline (under 1024 bytes).
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
        w->add_float_data(static_cast<float>(k) * 0.001f);
    }
    return m;
}

TEST(ExternalData, RoundTripThroughThePathBasedApis) {
    TempDir dir;
    auto m = big_model();
    auto original = m;
    auto info = save_with_external_data(m, dir / "m.onnx");
    ASSERT_TRUE(info) << info.error().what();
    EXPECT_EQ(info->location, "m.onnx.data");
    EXPECT_EQ(info->tensors, 1u);
    EXPECT_EQ(info->bytes, 4800u);
    EXPECT_EQ(std::filesystem::file_size(dir / "m.onnx.data"), 4800u);

    auto loaded = model::load_model(dir / "m.onnx");
    ASSERT_TRUE(loaded) << loaded.error().what();
    auto refs = model::external_data_refs(loaded->proto);
    ASSERT_EQ(refs.size(), 1u);
    EXPECT_EQ(refs[0].tensor, "w");
    EXPECT_EQ(refs[0].offset, 0u);
    EXPECT_EQ(refs[0].length, 4800);
    EXPECT_TRUE(model::check_model(*loaded).empty()) << model::check_model(*loaded).front().message;

    auto bytes = load_external_data(loaded->proto, dir.path());
    ASSERT_TRUE(bytes) << bytes.error().what();
    EXPECT_EQ(*bytes, 4800u);
    const auto* w = test::find_initializer(loaded->proto, "w");
    EXPECT_EQ(w->data_location(), TP::DEFAULT);
    const auto* w0 = test::find_initializer(original, "w");
    std::string expect(reinterpret_cast<const char*>(w0->float_data().data()), 4800);
    EXPECT_EQ(w->raw_data(), expect);
    EXPECT_EQ(external_data_bytes(original, dir.path()), 0u);
}

TEST(ExternalData, MissingOrEscapingFilesAreErrors) {
    TempDir dir;
    auto m = big_model();
    ASSERT_TRUE(save_with_external_data(m, dir / "m.onnx"));
    auto loaded = model::load_model(dir / "m.onnx");
    std::filesystem::remove(dir / "m.onnx.data");
    auto r = load_external_data(loaded->proto, dir.path());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "tensor 'w': external data file " + (dir / "m.onnx.data").string() +
                                       " is missing or unreadable");
    for (auto& kv : *loaded->proto.mutable_graph()->mutable_initializer(1)->mutable_external_data()) {
        if (kv.key() == "location") {
            kv.set_value("../etc/passwd");
        }
    }
    EXPECT_EQ(load_external_data(loaded->proto, dir.path()).error().message(),
              "tensor 'w': external data location '../etc/passwd' must be a relative path inside the model's directory");
}

TEST(ExternalData, NothingIsLeftBehindWhenTheModelCannotBeWritten) {
    TempDir dir;
    auto m = big_model();
    std::filesystem::create_directory(dir / "m.onnx"); // the model path is a directory: the write fails
    EXPECT_FALSE(save_with_external_data(m, dir / "m.onnx"));
    EXPECT_FALSE(std::filesystem::exists(dir / "m.onnx.data"));
}

} // namespace
} // namespace edgeship::optimize
