#pragma once

// Images with file layers of chosen bytes and a client connected to a FakeRegistry, for the transfer
// tests (upload_test.cpp, push_pull_test.cpp).

#include "fake_registry.hpp"
#include "test_support.hpp"

#include "oci/image.hpp"
#include "oci/media_types.hpp"
#include "registry/client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

namespace edgeship::test {

/// `n` bytes that do not compress and differ per `seed`.
inline std::string noise(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) {
        c = static_cast<char>(rng() & 0xff);
    }
    return s;
}

/// A layer whose blob is a file of `bytes` in `dir` (the registry never looks inside a layer).
inline oci::ImageLayer file_layer(const std::filesystem::path& dir, const std::string& bytes) {
    oci::ImageLayer l;
    l.descriptor.media_type = std::string(oci::media_type::oci_layer_gzip);
    l.descriptor.digest = oci::Digest::of(bytes);
    l.descriptor.size = static_cast<std::int64_t>(bytes.size());
    l.diff_id = oci::Digest::of("uncompressed " + bytes);
    const auto path = dir / l.descriptor.digest.hex();
    write_text(path, bytes);
    l.source = oci::LocalFile{path, std::nullopt};
    return l;
}

inline oci::LocalImage image_of(std::vector<oci::ImageLayer> layers, const std::string& arch = "amd64") {
    oci::ImageConfig cfg;
    cfg.architecture = arch;
    cfg.created = "1970-01-01T00:00:01Z";
    for (const auto& l : layers) {
        cfg.append_layer(l.diff_id, {cfg.created, "layer", "", "", false});
    }
    return oci::assemble_image(cfg, std::move(layers), oci::ManifestFormat::oci).value();
}

inline registry::RegistryOptions fake_options(const FakeRegistry& fake) {
    registry::RegistryOptions o;
    o.host = fake.host();
    o.transport = registry::Transport::plain_http;
    o.parallel_blobs = 1; // requests in a known order
    o.retry.max_attempts = 4;
    o.retry.initial_delay = std::chrono::milliseconds(1);
    o.retry.max_delay = std::chrono::milliseconds(5);
    o.user_agent = "edgeship-test";
    return o;
}

inline std::unique_ptr<registry::Registry> connect(registry::RegistryOptions o) {
    auto r = registry::Registry::connect(std::move(o));
    if (!r) {
        ADD_FAILURE() << r.error().what();
        return nullptr;
    }
    return std::move(r).value();
}

inline oci::Reference ref_on(const FakeRegistry& fake, const std::string& rest) {
    return oci::Reference::parse(fake.host() + "/" + rest).value();
}

inline const registry::BlobResult* result_for(const registry::TransferReport& report, const oci::Digest& d) {
    for (const auto& b : report.blobs) {
        if (b.blob.digest == d) {
            return &b;
        }
    }
    return nullptr;
}

} // namespace edgeship::test
