#pragma once

// A small two-layer image built with lib/oci, for layout and archive tests.

#include "oci/image.hpp"
#include "oci/layer.hpp"
#include "oci_test_support.hpp"

namespace edgeship::test {

inline oci::LocalImage make_image(const std::filesystem::path& blobs, oci::ManifestFormat format = oci::ManifestFormat::oci,
                                  const std::string& arch = "amd64", const std::string& model = "weights-v1") {
    oci::LayerOptions lo;
    lo.blob.cancel = nullptr;
    lo.blob.sync = false;
    auto app = oci::build_layer({oci::LayerEntry::bytes("app/main.py", "print('hi')\n"),
                                 oci::LayerEntry::bytes("app/requirements.txt", "onnxruntime\n")},
                                blobs, lo)
                   .value();
    auto mdl = oci::build_layer({oci::LayerEntry::bytes("models/model.onnx", model + std::string(200000, 'm'))}, blobs, lo)
                   .value();
    oci::ImageConfig cfg;
    cfg.architecture = arch;
    cfg.created = oci::format_rfc3339(oci::k_default_epoch);
    cfg.config.cmd = std::vector<std::string>{"python3", "main.py"};
    cfg.config.working_dir = "/app";
    cfg.config.set_env("MODEL_PATH", "/models/model.onnx");
    cfg.config.labels["org.opencontainers.image.version"] = "1.0.0";
    cfg.append_layer(app.diff_id, {cfg.created, "edgeship build: app", "", "", false});
    cfg.append_layer(mdl.diff_id, {cfg.created, "edgeship build: model", "", "", false});
    auto img = oci::assemble_image(cfg, {oci::ImageLayer::from_blob(app, format), oci::ImageLayer::from_blob(mdl, format)},
                                   format);
    return std::move(img).value();
}

} // namespace edgeship::test
