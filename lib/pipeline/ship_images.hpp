#pragma once

// The image actions of `ship`: build with lib/imagebuild (the calls `edgeship build` makes: module
// sources, model and app layers, the runtime base, one image per platform), and send with
// registry::Registry (--registry; the registry HEAD-skips blobs it has, so a re-ship with a new model
// uploads only the model layer) or into an OCI image layout (--oci-layout).

#include "core/log.hpp"
#include "pipeline/ship.hpp"
#include "registry/client.hpp"

#include <functional>
#include <memory>
#include <string>

namespace edgeship::pipeline {

struct ImageActionOptions {
    std::string base;         ///< --base (REF, oci:DIR[:TAG], docker-archive:FILE); "" = module.json's
    std::string template_dir; ///< runtimes are read from the templates ("" = embedded)
    /// A client for a registry host (the push target, or a base image's registry). Called lazily.
    std::function<Result<std::unique_ptr<registry::Registry>>(const std::string& host)> connect;
    registry::BlobEventCallback events; ///< push progress
    std::function<void()> finish;       ///< clears the progress display (called by the CLI)
    core::Logger log;
};

/// Sets actions.build, actions.push and actions.pushed_digest for `options.image_target`.
void add_image_actions(ShipActions& actions, const ShipOptions& options, const ImageActionOptions& image_options);

} // namespace edgeship::pipeline
