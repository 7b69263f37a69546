#include "oci/image_config.hpp"
#include "oci/json.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"

#include <gtest/gtest.h>

namespace edgeship::oci {
namespace {

Descriptor layer_desc(char c, std::int64_t size) {
    Descriptor d;
    d.media_type = std::string(media_type::oci_layer_gzip);
    d.digest = Digest::from_sha256_hex(std::string(64, c));
    d.size = size;
    return d;
}

Manifest sample_manifest() {
    Manifest m;
    m.config = Descriptor::for_bytes(media_type::oci_config, "{\"a\":1}");
    m.layers = {layer_desc('a', 10), layer_desc('b', 20)};
    m.annotations["org.opencontainers.image.source"] = "https://example.com";
    return m;
}

TEST(CanonicalJson, SortedCompactStable) {
    nlohmann::json j = {{"z", 1}, {"a", {{"y", "é"}, {"b", true}}}, {"m", nlohmann::json::array({3, 2})}};
    auto s = canonical_json(j, "x");
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, R"({"a":{"b":true,"y":"é"},"m":[3,2],"z":1})");
    // Invalid UTF-8 is an error, not a silently different byte string.
    nlohmann::json bad = std::string("\xff\xfe");
    auto r = canonical_json(bad, "label");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("label: cannot serialize JSON"), std::string::npos);
}

TEST(Manifest, SerializesDeterministically) {
    auto a = make_blob(sample_manifest());
    auto b = make_blob(sample_manifest());
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->bytes, b->bytes);
    EXPECT_EQ(a->descriptor.digest, b->descriptor.digest);
    EXPECT_EQ(a->descriptor.digest, Digest::of(a->bytes));
    EXPECT_EQ(a->descriptor.size, static_cast<std::int64_t>(a->bytes.size()));
    EXPECT_EQ(a->descriptor.media_type, media_type::oci_manifest);
    EXPECT_EQ(a->bytes.find(' '), std::string::npos);
    EXPECT_EQ(a->bytes.rfind("{\"annotations\":", 0), 0u) << a->bytes; // keys sorted
}

TEST(Manifest, RoundTrips) {
    auto blob = *make_blob(sample_manifest());
    auto parsed = Manifest::parse(blob.bytes, "manifest");
    ASSERT_TRUE(parsed) << parsed.error().what();
    EXPECT_EQ(parsed->layers.size(), 2u);
    EXPECT_EQ(parsed->layers[1].size, 20);
    EXPECT_EQ(parsed->config.digest, sample_manifest().config.digest);
    EXPECT_EQ(*parsed->serialize(), blob.bytes);
}

TEST(Manifest, DockerFormatOmitsOciOnlyFields) {
    Manifest m = sample_manifest();
    m.media_type = std::string(media_type::docker_manifest);
    m.config.media_type = std::string(media_type::docker_config);
    auto bytes = *m.serialize();
    EXPECT_EQ(bytes.find("annotations"), std::string::npos);
    EXPECT_NE(bytes.find("\"schemaVersion\":2"), std::string::npos);
    EXPECT_EQ(m.format(), ManifestFormat::docker);
}

TEST(Manifest, ParseErrorsNameTheField) {
    auto e1 = Manifest::parse("{", "manifest of v1");
    ASSERT_FALSE(e1);
    EXPECT_NE(e1.error().message().find("manifest of v1: not valid JSON"), std::string::npos);
    auto e2 = Manifest::parse(R"({"schemaVersion":1})", "m");
    EXPECT_NE(e2.error().message().find("schemaVersion must be 2"), std::string::npos);
    auto e3 = Manifest::parse(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})", "m");
    EXPECT_NE(e3.error().message().find("is an index"), std::string::npos);
    auto e4 = Manifest::parse(
        R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:abc","size":1},"layers":[]})", "m");
    ASSERT_FALSE(e4);
    EXPECT_NE(e4.error().message().find("m: config.digest: invalid digest"), std::string::npos) << e4.error().message();
    auto e5 = Manifest::parse(R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" + std::string(64, 'a') +
                                  R"(","size":-1},"layers":[]})",
                              "m");
    EXPECT_NE(e5.error().message().find("size: must be a non-negative integer"), std::string::npos);
}

TEST(Index, PlatformsAndParse) {
    Index idx;
    auto a = layer_desc('c', 5);
    a.media_type = std::string(media_type::oci_manifest);
    a.platform = Platform{"linux", "arm", "v7", "", {}};
    idx.manifests.push_back(a);
    auto blob = make_blob(idx);
    ASSERT_TRUE(blob);
    EXPECT_NE(blob->bytes.find(R"("platform":{"architecture":"arm","os":"linux","variant":"v7"})"), std::string::npos)
        << blob->bytes;
    auto back = Index::parse(blob->bytes, "index");
    ASSERT_TRUE(back);
    ASSERT_TRUE(back->manifests[0].platform);
    EXPECT_EQ(back->manifests[0].platform->str(), "linux/arm/v7");
    auto not_index = Index::parse(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})", "i");
    ASSERT_FALSE(not_index);
    EXPECT_NE(not_index.error().message().find("is not an index"), std::string::npos);
}

TEST(MediaTypes, LayerConversion) {
    EXPECT_EQ(*convert_layer_media_type(media_type::oci_layer_gzip, ManifestFormat::docker), media_type::docker_layer_gzip);
    EXPECT_EQ(*convert_layer_media_type(media_type::docker_layer_gzip, ManifestFormat::oci), media_type::oci_layer_gzip);
    EXPECT_EQ(*convert_layer_media_type(media_type::docker_layer, ManifestFormat::oci), media_type::oci_layer);
    EXPECT_FALSE(convert_layer_media_type(media_type::oci_layer_zstd, ManifestFormat::docker));
    EXPECT_FALSE(convert_layer_media_type("text/plain", ManifestFormat::oci));
}

TEST(ImageConfig, SerializesRuntimeSettings) {
    ImageConfig c;
    c.created = format_rfc3339(1);
    c.set_platform(*Platform::parse("linux/arm/v7"));
    c.config.set_env("PATH", "/usr/bin");
    c.config.set_env("MODEL", "a.onnx");
    c.config.set_env("PATH", "/usr/local/bin:/usr/bin");
    c.config.cmd = std::vector<std::string>{"python3", "-u", "main.py"};
    ASSERT_TRUE(c.config.expose("8080"));
    ASSERT_TRUE(c.config.expose("5000/udp"));
    c.config.working_dir = "/app";
    c.config.user = "1000:1000";
    c.config.labels["org.opencontainers.image.version"] = "1.0";
    c.append_layer(Digest::from_sha256_hex(std::string(64, 'd')), HistoryEntry{c.created, "edgeship: app", "", "", false});
    auto blob = c.to_blob(ManifestFormat::oci);
    ASSERT_TRUE(blob);
    EXPECT_EQ(blob->descriptor.media_type, media_type::oci_config);
    EXPECT_EQ(c.to_blob(ManifestFormat::docker)->descriptor.media_type, media_type::docker_config);
    EXPECT_EQ(c.to_blob(ManifestFormat::docker)->descriptor.digest, blob->descriptor.digest); // same JSON
    EXPECT_EQ(c.created, "1970-01-01T00:00:01Z");
    auto j = nlohmann::json::parse(blob->bytes);
    EXPECT_EQ(j["config"]["Env"], nlohmann::json({"PATH=/usr/local/bin:/usr/bin", "MODEL=a.onnx"}));
    EXPECT_EQ(j["config"]["ExposedPorts"], nlohmann::json({{"5000/udp", nlohmann::json::object()}, {"8080/tcp", nlohmann::json::object()}}));
    EXPECT_EQ(j["rootfs"]["type"], "layers");
    EXPECT_EQ(j["rootfs"]["diff_ids"][0], "sha256:" + std::string(64, 'd'));
    EXPECT_EQ(j["variant"], "v7");
    EXPECT_EQ(j["history"][0]["created_by"], "edgeship: app");
    EXPECT_EQ(c.config.env_value("MODEL").value_or(""), "a.onnx");
    EXPECT_FALSE(c.config.expose("http"));
    EXPECT_FALSE(c.config.expose("70000"));
}

TEST(ImageConfig, KeepsUnknownFieldsOfABaseImage) {
    std::string base =
        R"({"architecture":"amd64","os":"linux","docker_version":"24.0","container_config":{"Hostname":"x"},)"
        R"("config":{"Env":["PATH=/bin"],"Cmd":null,"OnBuild":null,"Healthcheck":{"Test":["NONE"]}},)"
        R"("rootfs":{"type":"layers","diff_ids":["sha256:)" + std::string(64, 'e') + R"("]},)"
        R"("history":[{"created":"2024-01-01T00:00:00Z","created_by":"ADD rootfs"},{"created_by":"CMD","empty_layer":true}]})";
    auto c = ImageConfig::parse(base, "base config");
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->diff_ids.size(), 1u);
    EXPECT_EQ(c->history.size(), 2u);
    EXPECT_TRUE(c->history[1].empty_layer);
    EXPECT_EQ(c->non_empty_history(), 1u);
    EXPECT_FALSE(c->config.cmd);
    auto j = c->to_json();
    EXPECT_EQ(j["docker_version"], "24.0");
    EXPECT_EQ(j["container_config"]["Hostname"], "x");
    EXPECT_EQ(j["config"]["Healthcheck"]["Test"][0], "NONE");
    EXPECT_EQ(j["config"]["Env"][0], "PATH=/bin");
}

TEST(ImageConfig, ParseErrors) {
    EXPECT_NE(ImageConfig::parse("[]", "cfg").error().message().find("cfg: must be a JSON object"), std::string::npos);
    EXPECT_NE(ImageConfig::parse(R"({"rootfs":{"type":"x"}})", "cfg").error().message().find("rootfs.type"), std::string::npos);
    auto e = ImageConfig::parse(R"({"rootfs":{"type":"layers","diff_ids":["nope"]}})", "cfg");
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message().find("cfg: rootfs.diff_ids[0]: invalid digest \"nope\""), std::string::npos);
    auto e2 = ImageConfig::parse(R"({"config":{"Env":"A=1"},"rootfs":{"type":"layers","diff_ids":[]}})", "cfg");
    ASSERT_FALSE(e2);
    EXPECT_NE(e2.error().message().find("cfg: config.Env: must be an array"), std::string::npos);
}

TEST(ImageConfig, Rfc3339) {
    EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(1700000000), "2023-11-14T22:13:20Z");
}

} // namespace
} // namespace edgeship::oci
