#pragma once

// The image actions of `ship`, over the facade `edgeship build` uses (imagebuild/build_images.hpp): the
// build step builds every platform that is not up to date in one imagebuild::build_images call (layers
// shared, the layer cache and the model layer uploaded while it is compressed with --registry, a
// multi-platform index for several platforms), kept in a staging directory until the push step sends
// each image with imagebuild::push_built_image (the registry HEAD-skips blobs it has, so a re-ship with a
// new model uploads only the model layer) and, after the last one, the index; or writes them into an OCI
// image layout (--oci-layout).

#include "imagebuild/deps_layer.hpp"
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
    imagebuild::DepsTools tools;  ///< npm / pip for the dependencies layer
    std::string base_registry;    ///< mirror of the runtimes' official bases ("" = Docker Hub)
    /// The client for a registry host (the push target, or a base image's registry), kept by the caller
    /// for the run (registry::Clients: each host's own credential). Called lazily.
    std::function<Result<registry::Registry*>(const std::string& host)> registry_for;
    registry::BlobEventCallback events; ///< transfer progress (base pulls and pushes)
    std::function<void()> finish;       ///< clears the progress display (called by the CLI)
    core::Logger log;
};

/// Sets actions.build, actions.push and actions.pushed_digest for `options.image_target`.
void add_image_actions(ShipActions& actions, const ShipOptions& options, const ImageActionOptions& image_options);

} // namespace edgeship::pipeline
