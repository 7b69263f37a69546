#include "model/convert.hpp"
#include "model/feature_names.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace fs = std::filesystem;
using namespace edgeship::model;

namespace {

std::map<std::string, std::string> meta(const std::string& value) { return {{feature_names_key, value}}; }

} // namespace

TEST(FeatureNames, WhatTheConverterWritesTheScaffoldReads) {
    const std::vector<std::string> names{"vibration_rms", "bearing temp (C)", "rpm"};
    const auto read = read_feature_names(meta(encode_feature_names(names)), 3);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(*read, names);
}

TEST(FeatureNames, WidthMustMatchTheInputUnlessSymbolic) {
    const auto value = encode_feature_names({"a", "b"});
    EXPECT_FALSE(read_feature_names(meta(value), 3).has_value());
    EXPECT_TRUE(read_feature_names(meta(value), std::nullopt).has_value());
}

TEST(FeatureNames, NamesARowObjectCannotKeyAreIgnored) {
    EXPECT_FALSE(read_feature_names({}, 2).has_value());
    EXPECT_FALSE(read_feature_names(meta("[]"), 0).has_value());
    EXPECT_FALSE(read_feature_names(meta("not json"), 1).has_value());
    EXPECT_FALSE(read_feature_names(meta("[\"a\", \"a\"]"), 2).has_value());
    EXPECT_FALSE(read_feature_names(meta("[\"a\", \"\"]"), 2).has_value());
    EXPECT_FALSE(read_feature_names(meta("[\"a\", 1]"), 2).has_value());
    // The comma list of earlier examples is not a second format.
    EXPECT_FALSE(read_feature_names({{"features", "a,b"}}, 2).has_value());
}

TEST(FeatureNames, ConvertedXGBoostModelCarriesThem) {
    const fs::path src = edgeship::test::source_dir() / "tests/fixtures/xgboost/binary.json";
    ConvertOptions o;
    o.input = src;
    auto c = convert_model(o);
    ASSERT_TRUE(c.has_value()) << c.error().what();
    std::map<std::string, std::string> m;
    for (const auto& p : c->model.proto().metadata_props()) {
        m[p.key()] = p.value();
    }
    const auto names = read_feature_names(m, c->report.features);
    ASSERT_TRUE(names.has_value());
    EXPECT_EQ(*names, (std::vector<std::string>{"vibration_rms", "bearing_temp_c", "current_a", "rpm"}));
}
