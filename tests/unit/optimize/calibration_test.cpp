#include "optimize/calibration.hpp"

#include "optimize_fixtures.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace edgeship::optimize {
namespace {

using test::TempDir;

// A version 1.0 .npy file as NumPy writes it: magic, header dict padded to 64 bytes, little-endian data.
std::string npy(const std::string& descr, const std::string& shape, const std::string& data) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    std::size_t total = 10 + dict.size() + 1;
    dict += std::string((64 - total % 64) % 64, ' ') + "\n";
    std::string out = "\x93NUMPY";
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(dict.size() & 0xff);
    out += static_cast<char>(dict.size() >> 8);
    return out + dict + data;
}

template <class V> std::string bytes_of(const std::vector<V>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(V));
}

TEST(Calibration, ReadsFloat32AndFloat64Npy) {
    TempDir dir;
    auto model = test::parse_onnx_text(test::k_opt_mlp);
    test::write_text(dir / "a.npy", npy("<f4", "(2, 3)", bytes_of(std::vector<float>{1, 2, 3, 4, 5, 6})));
    auto a = load_calibration(dir / "a.npy", model);
    ASSERT_TRUE(a) << a.error().what();
    EXPECT_EQ(a->rows, 2u);
    EXPECT_EQ(a->inputs.at("x").dims, (std::vector<std::int64_t>{2, 3}));
    EXPECT_EQ(a->inputs.at("x").f, (std::vector<float>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(a->sha256.size(), 64u);
    test::write_text(dir / "b.npy", npy("<f8", "(1, 3)", bytes_of(std::vector<double>{0.5, -1, 2})));
    auto b = load_calibration(dir / "b.npy", model);
    ASSERT_TRUE(b) << b.error().what();
    EXPECT_EQ(b->inputs.at("x").f, (std::vector<float>{0.5f, -1, 2}));
}

TEST(Calibration, WrongShapeNamesFileInputAndShapes) {
    TempDir dir;
    auto model = test::parse_onnx_text(test::k_opt_mlp);
    test::write_text(dir / "w.npy", npy("<f4", "(2, 4)", bytes_of(std::vector<float>(8, 1.0f))));
    auto r = load_calibration(dir / "w.npy", model);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), (dir / "w.npy").string() +
                                       ": each row has shape [4] but input 'x' expects [3] per row (model input shape [?,3])");
    test::write_text(dir / "rows.json", "[[1, 2, 3], [1, 2]]");
    auto j = load_calibration(dir / "rows.json", model);
    ASSERT_FALSE(j);
    EXPECT_EQ(j.error().message(), (dir / "rows.json").string() +
                                       ": row 1 has shape [2] but input 'x' expects [3] per row (model input shape [?,3])");
}

TEST(Calibration, BadFilesAreNamed) {
    TempDir dir;
    auto model = test::parse_onnx_text(test::k_opt_mlp);
    test::write_text(dir / "i.npy", npy("<i8", "(1, 3)", bytes_of(std::vector<std::int64_t>{1, 2, 3})));
    EXPECT_EQ(load_calibration(dir / "i.npy", model).error().message(),
              (dir / "i.npy").string() + ": .npy dtype '<i8' is not supported (use float32 '<f4' or float64 '<f8')");
    test::write_text(dir / "short.npy", npy("<f4", "(2, 3)", bytes_of(std::vector<float>{1, 2, 3})));
    EXPECT_EQ(load_calibration(dir / "short.npy", model).error().message(),
              (dir / "short.npy").string() + ": .npy data holds 12 bytes, shape [2,3] needs 24");
    test::write_text(dir / "x.json", "{\"x\": 1}");
    EXPECT_EQ(load_calibration(dir / "x.json", model).error().message(),
              (dir / "x.json").string() + ": expected a non-empty JSON array of rows");
    test::write_text(dir / "bad.json", "[[1, 2");
    EXPECT_NE(load_calibration(dir / "bad.json", model).error().message().find(": not JSON ("), std::string::npos);
    EXPECT_FALSE(load_calibration(dir / "missing.npy", model));
}

TEST(Calibration, JsonRowsForSeveralInputsAreObjects) {
    TempDir dir;
    auto model = test::parse_onnx_text(R"(
<ir_version: 7, opset_import: ["" : 13]>
two (float[N, 2] a, float[N, 1, 2] b) => (float[N, 2] y) {
  y = Add(a, a)
}
)");
    test::write_text(dir / "r.json", R"([{"a": [1, 2], "b": [[3, 4]]}, {"a": [5, 6], "b": [[7, 8]]}])");
    auto r = load_calibration(dir / "r.json", model);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->rows, 2u);
    EXPECT_EQ(r->inputs.at("b").dims, (std::vector<std::int64_t>{2, 1, 2}));
    EXPECT_EQ(r->inputs.at("b").f, (std::vector<float>{3, 4, 7, 8}));
    test::write_text(dir / "plain.json", "[[1, 2]]");
    EXPECT_EQ(load_calibration(dir / "plain.json", model).error().message(),
              (dir / "plain.json").string() + ": row 0 must be an object {input name: values}: the model has 2 inputs");
    test::write_text(dir / "a.npy", npy("<f4", "(1, 2)", bytes_of(std::vector<float>{1, 2})));
    EXPECT_NE(load_calibration(dir / "a.npy", model).error().message().find("single-input models only"),
              std::string::npos);
}

} // namespace
} // namespace edgeship::optimize
