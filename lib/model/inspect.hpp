#pragma once

#include "core/result.hpp"
#include "model/onnx_model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace edgeship::model {

/// One graph input or output: element type and shape, symbolic dims kept as their names.
struct TensorSignature {
    std::string name;
    std::string kind;      ///< "tensor", "sequence", "map", "optional", "sparse_tensor", "unknown"
    std::string elem_type; ///< "float", "int64"…
    bool has_shape = false;
    std::vector<std::string> dims; ///< "3", "N" (symbolic), "?" (unknown)
};

/// Everything `edgeship inspect` reports about a model. Built by inspect_model(); pure data.
struct ModelReport {
    std::string path;
    std::uint64_t file_size = 0;
    std::string sha256;
    std::int64_t ir_version = 0;
    std::map<std::string, std::int64_t> opset_imports; ///< domain ("" = ai.onnx) -> version
    std::string producer_name;
    std::string producer_version;
    std::string domain;
    std::int64_t model_version = 0;
    std::string doc_string;
    std::string graph_name;
    std::vector<TensorSignature> inputs;  ///< graph inputs that are not initializers
    std::vector<TensorSignature> outputs;
    std::size_t initializer_count = 0;
    std::uint64_t parameter_count = 0; ///< elements over all initializers
    std::uint64_t parameter_bytes = 0; ///< bytes of those elements (strings: their lengths)
    std::size_t node_count = 0;        ///< including nodes of subgraphs
    std::map<std::string, std::size_t> op_histogram; ///< "ai.onnx.ml.TreeEnsembleRegressor" for other domains
    std::map<std::string, std::string> metadata;
    std::vector<ExternalDataRef> external_data;
    std::vector<Finding> findings; ///< checker / shape inference; empty when valid
    bool valid() const { return findings.empty(); }
};

struct InspectOptions {
    StrictShapes strict_shapes = StrictShapes::no;
};

/// Loads, checks and describes the model at `path`. Read errors (missing, empty, not ONNX) fail with
/// exit 1; checker and shape inference problems are not errors here but land in `findings`.
Result<ModelReport> inspect_model(const std::filesystem::path& path, const InspectOptions& options = {});

/// Describes an already loaded model (no I/O). `findings` are filled by the caller.
ModelReport describe_model(const LoadedModel& model);

/// The report as JSON with stable snake_case fields (docs/inspect.md documents them).
nlohmann::json report_to_json(const ModelReport& report);

/// "float[N,3]" for a signature.
std::string format_signature(const TensorSignature& sig);

} // namespace edgeship::model
