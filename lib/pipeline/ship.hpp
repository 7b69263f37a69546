#pragma once

// `edgeship ship` (issue 8): model → ONNX → checked → solution → image built → pushed → manifest
// generated → validated → deployed → rollout waited for, as named steps (steps.hpp). The steps hold the
// ship's own logic — ordering, what is up to date (resume), what a --dry-run plan lists, the run report —
// and call injected actions for the work itself (ShipActions; ship_actions.hpp has the defaults, which are
// the library functions the individual commands call). Unit tests inject fakes.
//
// Resume rules (docs/ship.md):
//  - convert: skipped when <work>/ship.json records the same source sha256 and conversion flags and
//    <work>/model.onnx still has the recorded sha256 (a damaged or edited file is reconverted);
//  - solution: the module's model/model.onnx is replaced only when its sha256 differs;
//  - build + push: skipped for a platform when the build inputs (module files, model, platform, base) hash
//    to the recorded fingerprint AND the target reports the recorded manifest digest for the reference.

#include "core/env.hpp"
#include "core/result.hpp"
#include "oci/image.hpp"
#include "pipeline/steps.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::pipeline {

/// Where images go.
enum class ImageTarget {
    none,       ///< no --registry / --oci-layout: build and push are skipped
    registry,   ///< a registry host (registry::Registry)
    oci_layout, ///< an OCI image layout directory
};

/// Where the manifest goes.
enum class DeployTarget { none, device, deployment };

/// Whether the IoT Hub is called (--deploy-dry-run runs every other step but only plans deploy/wait).
enum class HubCalls { send, plan_only };

struct ShipOptions {
    std::filesystem::path model;
    std::filesystem::path solution;
    std::string module = "scoring";
    std::string runtime = "python-onnxruntime";
    std::vector<std::string> platforms = {"amd64"}; ///< the first one is the platform deployed
    ImageTarget image_target = ImageTarget::none;
    std::string registry;                  ///< host[:port] for ImageTarget::registry
    std::filesystem::path oci_layout;      ///< directory for ImageTarget::oci_layout
    std::string base;                      ///< base image reference (empty: the runtime's default)
    DeployTarget deploy_target = DeployTarget::none;
    std::string device;                    ///< DeployTarget::device
    std::string deployment_id;             ///< DeployTarget::deployment
    std::string target_condition;
    int priority = 0;
    bool wait = false;
    HubCalls hub_calls = HubCalls::send;
    /// The conversion flags as text (--from, --opset, --fp16, …): part of the convert stamp, so a changed
    /// flag reconverts.
    std::string convert_fingerprint;
    /// The process environment (gen and build merge the solution's .env under it). With a registry
    /// target, CONTAINER_REGISTRY_SERVER is set to `registry` so tags name it.
    core::Environment env;
};

// What the actions return -----------------------------------------------------------------------

struct ConvertOutcome {
    std::string onnx_sha256;
    std::uint64_t onnx_bytes = 0;
    std::string source_format; ///< "xgboost-json", "sklearn", "torch", …
};

struct ScaffoldRequest {
    enum class Kind { init, module_add } kind = Kind::init;
    std::filesystem::path solution;
    std::string module;
    std::filesystem::path model;
    std::string runtime;
    std::vector<std::string> platforms;
    std::string registry; ///< written to .env (init only)
};

/// One platform's image as the build step made it and the push step sends it.
struct ShipImage {
    std::string platform;
    std::string reference;   ///< host/repo:tag (or the layout tag with an OCI layout)
    std::string digest;      ///< manifest digest "sha256:…"
    std::string fingerprint; ///< of the build inputs
    std::uint64_t bytes_uploaded = 0;
    std::uint64_t bytes_skipped = 0;
    bool pushed = false;       ///< sent by this run
    bool up_to_date = false;   ///< already at the target with the same digest: not rebuilt, not re-sent
    std::shared_ptr<const oci::LocalImage> image; ///< set by build, consumed by push
};

/// The platforms the build step needs (those not up to date), built together: the model and app
/// layers are built once and shared, and several platforms also get a multi-platform index.
struct BuildRequest {
    std::filesystem::path solution;
    std::string module;
    std::vector<std::string> platforms;
    std::vector<std::string> references; ///< planned reference per platform (same order)
    std::string base;
    core::Environment env;
};

/// A module's multi-platform index (repo:version[-CONTAINER_TAG]) sent with the last of its images.
struct ShipIndex {
    std::string reference;
    std::string digest;
    std::vector<std::string> platforms;
    std::uint64_t bytes_uploaded = 0;
    std::uint64_t bytes_skipped = 0;
};

struct PushOutcome {
    std::string digest;
    std::uint64_t bytes_uploaded = 0;
    std::uint64_t bytes_skipped = 0;
    std::vector<Operation> operations; ///< the registry requests made (HEAD/PUT/POST …)
    std::optional<ShipIndex> index;    ///< set when this push also sent the index over the run's images
};

struct GenRequest {
    std::filesystem::path solution;
    std::string platform;
    core::Environment env;
};

struct GenOutcome {
    std::filesystem::path manifest;
    std::vector<std::string> images; ///< tags the manifest refers to
};

struct DeployRequest {
    DeployTarget target = DeployTarget::none;
    std::filesystem::path manifest;
    std::string device;
    std::string deployment_id;
    std::string target_condition;
    int priority = 0;
};

struct DeployOutcome {
    bool applied = false;        ///< false in a plan or when an identical deployment already exists
    bool already_present = false;
    std::vector<Operation> operations;
};

struct RolloutOutcome {
    std::string outcome;          ///< "succeeded" (anything else is returned as an error)
    nlohmann::ordered_json summary;
};

/// The work each step delegates. Every member must be set (make_default_actions fills them); a step
/// whose action is empty fails naming it, so a half-wired pipeline cannot pass silently.
struct ShipActions {
    /// Converts `input` to ONNX written atomically at `output`.
    std::function<Result<ConvertOutcome>(const std::filesystem::path& input, const std::filesystem::path& output)>
        convert;
    /// True when `path` is already an ONNX model (convert is then skipped).
    std::function<bool(const std::filesystem::path& path)> is_onnx;
    /// ONNX checker and shape inference; findings fail with exit 3.
    std::function<Result<void>(const std::filesystem::path& onnx)> check;
    /// init or module add; returns the files written.
    std::function<Result<std::vector<std::string>>(const ScaffoldRequest&)> scaffold;
    /// After a model replacement: brings the module's generated signature (app/signature.json) in step
    /// with the new model; true when it changed. Optional: unset, the signature is left alone.
    std::function<Result<bool>(const std::filesystem::path& module_dir, const std::filesystem::path& onnx)>
        refresh_signature;
    /// The image reference of the module for `platform` (module.json, .env, env), as gen names it.
    std::function<Result<std::string>(const std::filesystem::path& solution, const std::string& module,
                                      const std::string& platform, const core::Environment& env)>
        image_reference;
    /// The manifest digest the target holds for `reference`, or nullopt when absent (read-only).
    std::function<Result<std::optional<std::string>>(const std::string& reference)> pushed_digest;
    /// What else an image of `platform` is built from, beyond the module folder and the --base text: the
    /// base image's current digest, the runtime templates, SOURCE_DATE_EPOCH. Part of the up-to-date
    /// fingerprint, so a moved base tag or a changed template rebuilds. Optional (unset: not compared).
    std::function<Result<std::string>(const std::filesystem::path& solution, const std::string& module,
                                      const std::string& platform, const core::Environment& env)>
        build_inputs;
    /// Builds the requested platforms' images, in request order (one ShipImage per platform).
    std::function<Result<std::vector<ShipImage>>(const BuildRequest&)> build;
    std::function<Result<PushOutcome>(const ShipImage&)> push;
    std::function<Result<GenOutcome>(const GenRequest&)> gen;
    /// Validates a written manifest; errors fail with exit 3.
    std::function<Result<void>(const std::filesystem::path& manifest)> validate;
    /// Applies (Mode::run) or describes (Mode::plan) the deployment.
    std::function<Result<DeployOutcome>(const DeployRequest&, Mode)> deploy;
    std::function<Result<RolloutOutcome>(const DeployRequest&)> wait;
};

/// What the run produced so far (shared by the steps, read by the report).
struct ShipState {
    std::string model_digest;           ///< sha256 of the input model file
    std::filesystem::path onnx;         ///< the ONNX the module serves (converted, or the input)
    std::string onnx_sha256;
    std::filesystem::path work_dir;     ///< <solution>/.edgeship (or its staging sibling before init)
    bool converted = false;
    std::vector<ShipImage> images;
    std::vector<ShipIndex> indexes; ///< pushed by this run (several platforms built together)
    std::vector<std::filesystem::path> manifests;
    std::string deployment_kind;        ///< "device" / "deployment" / ""
    std::string deployment_id;
    bool deploy_applied = false;
    std::optional<RolloutOutcome> rollout;
};

/// The stamp kept in <work>/ship.json (read leniently: a missing or unreadable stamp means "redo").
struct ShipStamp {
    std::string source_sha256;
    std::string convert_fingerprint;
    std::string onnx_sha256;
    struct Image {
        std::string platform;
        std::string reference;
        std::string digest;
        std::string fingerprint;
    };
    std::vector<Image> images;
};
ShipStamp read_stamp(const std::filesystem::path& work_dir);
Result<void> write_stamp(const std::filesystem::path& work_dir, const ShipStamp& stamp);

/// The ship work directory for `solution`: <solution>/.edgeship once the solution exists; before init,
/// the sibling <parent>/.<name>.edgeship (moved into the solution when init succeeds).
std::filesystem::path work_dir_for(const std::filesystem::path& solution);

/// sha256 over a directory tree (sorted relative paths and file contents), skipping `.edgeship`.
Result<std::string> tree_sha256(const std::filesystem::path& dir);

/// The nine steps, in order: convert, check, solution, build, push, gen, validate, deploy, wait. They
/// share `state`, which must outlive them. Options are checked first (usage errors, exit 2).
Result<std::vector<Step>> make_ship_steps(const ShipOptions& options, const ShipActions& actions,
                                          std::shared_ptr<ShipState> state);

/// The --json run report: model digest, ONNX sha256, images (references, digests, bytes uploaded vs
/// skipped), manifest paths, deployment, rollout, time per step, and the failure if any.
nlohmann::ordered_json ship_report_json(const ShipOptions& options, const ShipState& state, const RunReport& run,
                                        Mode mode);

} // namespace edgeship::pipeline
