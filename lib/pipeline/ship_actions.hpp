#pragma once

// The library-backed ShipActions: each is the library call its own command makes —
//   convert   convert::convert_file (the facade `edgeship convert` calls)
//   check     model::inspect_model (checker + shape inference)
//   scaffold  solution::plan_init / plan_module_add + apply_plan
//   gen       solution::generate_manifest + write_manifest
//   validate  manifest::validate_manifest
//   deploy    iothub::HubClient::apply_configuration_content / iothub::create_deployment
//   wait      iothub::poll_device / poll_deployment through iothub::wait_for_rollout
//   images    an OCI image layout (oci::OciLayout) here; a registry through actions the caller adds
// What needs the terminal or credentials (the pickle prompt, the hub client, wait progress) is passed in.

#include "convert/convert_file.hpp"
#include "core/log.hpp"
#include "iothub/client.hpp"
#include "iothub/deployments.hpp"
#include "pipeline/ship.hpp"

#include <functional>
#include <optional>
#include <string>

namespace edgeship::pipeline {

/// convert's flags as ship takes them: the request `edgeship convert` builds, whose input, output and
/// log are set per call (ship has no --margin, --best-iteration or --external-data).
using ConvertSettings = convert::ConvertRequest;

/// The text of `settings` that the convert stamp records (a changed flag reconverts).
std::string convert_fingerprint(const ConvertSettings& settings);

struct HubAccess {
    /// Opens the client on first use (credentials are read then, not before). Plans call it too, to
    /// show exact URLs, and fall back to paths when it fails.
    std::function<Result<iothub::HubClient*>()> open;
    /// Waits for a rollout (the CLI draws progress); default: iothub::wait_for_rollout with `wait`.
    std::function<Result<iothub::WaitResult>(const std::function<Result<iothub::FleetSummary>()>&)> wait_for;
    iothub::WaitOptions wait;
    int page_size = iothub::k_default_page_size;
    bool validate = true; ///< deploy validates the manifest again, as `deploy` does
};

struct DefaultActionOptions {
    ConvertSettings convert;
    std::string template_dir; ///< --template-dir for scaffolding ("" = embedded)
    HubAccess hub;
    core::Logger log;
};

/// Every action except build/push/pushed_digest, which depend on the image target (see
/// add_oci_layout_actions; the registry ones are added by the caller).
ShipActions make_default_actions(const DefaultActionOptions& options);

/// build/push/pushed_digest for an OCI image layout at `layout_dir`: push writes the image's blobs (those
/// present count as skipped) and tags it with the reference's tag. `build` is left as given.
void add_oci_layout_actions(ShipActions& actions, const std::filesystem::path& layout_dir);

/// The tag part of "host/repo:tag" ("latest" when absent).
std::string reference_tag(const std::string& reference);

} // namespace edgeship::pipeline
