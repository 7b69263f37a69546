#pragma once

#include "core/result.hpp"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace edgeship::model {

/// A model read from disk, with the facts about the file itself.
struct LoadedModel {
    onnx::ModelProto proto;
    std::filesystem::path path;
    std::uint64_t file_size = 0;
    std::string sha256; ///< of the .onnx file only (external data files are not included)
};

/// Reads and parses an .onnx file. Errors (exit 1) name the path and say what is wrong: missing, a
/// directory, empty, not a protobuf (random bytes, truncated), or a protobuf that is not an ONNX model
/// (no ir_version or no graph). External data is not loaded; see external_data_refs() and
/// load_model_with_data() (model/external_data.hpp).
Result<LoadedModel> load_model(const std::filesystem::path& path);

/// Serializes `model` and writes it atomically. Fails for models over protobuf's 2 GiB limit.
Result<void> save_model(const onnx::ModelProto& model, const std::filesystem::path& path);

/// A problem found by the ONNX checker, shape inference or our own checks.
struct Finding {
    std::string stage;   ///< "checker", "shape_inference", "ir_version", "external_data"
    std::string message; ///< one line
};

enum class StrictShapes { no, yes };

/// Runs the ONNX checker and shape inference and returns what they found (empty = valid).
/// Uses the path-based checker so external data is resolved against the model's directory
/// (docs/design/onnx.md §10.3). Shape inference is lenient unless `strict` (§10.2: strict mode rejects
/// 3 of the official test models). `inferred` receives the model after shape inference when given.
std::vector<Finding> check_model(const LoadedModel& model, StrictShapes strict = StrictShapes::no,
                                 onnx::ModelProto* inferred = nullptr);

/// The one "invalid model" verdict every command gives (exit 3): "<what>: invalid model: <stage>:
/// <message>", with " (and N more findings)" when there are more; nothing when `findings` is empty.
/// `what` names the file ("model.onnx", "net.pt: torch's export"); empty: no prefix.
Result<void> require_valid(std::string_view what, const std::vector<Finding>& findings);

/// A tensor stored outside the .onnx file.
struct ExternalDataRef {
    std::string tensor;
    std::string location;
    std::uint64_t offset = 0;
    std::int64_t length = -1; ///< -1 when absent (to the end of the file)
};

/// Every external-data reference of the model's initializers (main graph and subgraphs).
std::vector<ExternalDataRef> external_data_refs(const onnx::ModelProto& model);

/// The IR version that introduced `opset` of the default domain (onnx docs/Versioning.md, docs/design/onnx.md
/// §10.1): the version converter does not update ir_version, so callers set it from this.
std::int64_t ir_version_for_opset(std::int64_t opset);

/// The header of every model edgeship builds: ir_version for `opset`, producer "edgeship" + version, the
/// doc string (when not empty), opset imports (default domain; ai.onnx.ml 3 when `uses_ml`) and
/// metadata_props in the given order.
void set_model_header(onnx::ModelProto& model, std::int64_t opset, const std::string& producer_version,
                      const std::string& doc_string,
                      const std::vector<std::pair<std::string, std::string>>& metadata, bool uses_ml);

/// Sets metadata_props[key] = value, replacing an existing entry with the same key.
void set_metadata(onnx::ModelProto& model, const std::string& key, const std::string& value);

/// Human name of a TensorProto element type ("float", "int64", "float16"…).
std::string element_type_name(int elem_type);

/// Bytes per element for fixed-size types; 0 for string/undefined.
std::size_t element_size(int elem_type);

} // namespace edgeship::model
