#pragma once

// External data (docs/ExternalData.md, docs/design/onnx.md §10.6): tensors whose bytes live in a side
// file next to the .onnx file, the only way to store models over protobuf's 2 GiB message limit.
// libonnx 1.12 has no C++ reader or writer for it, so both are here, in the lowest module that reads
// models: `inspect`, `check`, `convert` (ONNX re-emission, PyTorch exports, --external-data) and
// `optimize` all go through these functions.

#include "core/fs.hpp"
#include "core/result.hpp"
#include "model/onnx_model.hpp"

#include <onnx/onnx_pb.h>

#include <climits>
#include <cstdint>
#include <filesystem>
#include <string>

namespace edgeship::model {

/// Protobuf refuses to serialize or parse one message larger than this (2 GiB - 1 bytes).
inline constexpr std::uint64_t k_protobuf_limit = static_cast<std::uint64_t>(INT_MAX);

/// Initializers smaller than this stay inline when a model is written with external data.
inline constexpr std::uint64_t k_external_threshold = 1024;

enum class ExternalData { no, yes };

/// Why `location` (an external_data "location" value) may not be read relative to `base_dir`, or ""
/// when it may: it must be a non-empty relative path without ".." components that, with symlinks
/// resolved, stays inside base_dir (onnx 1.12's checker does not refuse path traversal; later ONNX
/// releases do, CVE-2022-25882). Pure path logic plus symlink resolution; the file need not exist.
std::string external_location_problem(const std::string& location, const std::filesystem::path& base_dir);

/// Elements of the tensor (product of dims; 1 for a scalar).
std::uint64_t tensor_element_count(const onnx::TensorProto& t);

/// The tensor's data as little-endian bytes: raw_data as is, typed fields (float_data, int32_data…)
/// encoded. Strings and tensors whose data is still external are errors naming the tensor.
Result<std::string> tensor_raw_bytes(const onnx::TensorProto& t);

/// Drops raw_data and every typed data field.
void clear_tensor_data(onnx::TensorProto& t);

/// Reads every externally stored tensor (initializers of the main graph and of subgraphs) into
/// raw_data, resolving each location against `base_dir`, and marks it DEFAULT. Errors (exit 1) name
/// the tensor and file: a location outside base_dir (external_location_problem), a missing or
/// unreadable file, a file shorter than offset+length, a length that does not match the dims.
/// Returns the number of bytes loaded. On error the model is partly loaded.
Result<std::uint64_t> load_external_data(onnx::ModelProto& model, const std::filesystem::path& base_dir);

/// load_model() followed by load_external_data() against the model's directory: the model with all
/// its weights in memory. Errors carry "reading <path>" context. `external_bytes`, when given,
/// receives the bytes on disk of the external data files (each counted once).
Result<LoadedModel> load_model_with_data(const std::filesystem::path& path, std::uint64_t* external_bytes = nullptr);

/// Bytes on disk of the files holding the model's external data (each file counted once; missing
/// files count 0).
std::uint64_t external_data_bytes(const onnx::ModelProto& model, const std::filesystem::path& base_dir);

/// The side file written beside `model_path`: "<file name>.data".
std::string external_data_location(const std::filesystem::path& model_path);

/// What a write with external data produced.
struct ExternalDataInfo {
    std::string location;    ///< data file name, relative to the model's directory
    std::uint64_t bytes = 0; ///< size of the data file
    std::size_t tensors = 0; ///< initializers moved into it
};

/// Moves every non-string initializer (main graph and subgraphs) of at least `threshold` bytes out of
/// `model` into `data_file` (an uncommitted atomic file that will be named `location`): raw bytes at
/// 64-byte aligned offsets, each tensor marked data_location = EXTERNAL with location/offset/length.
/// The caller commits data_file together with the model. Tensors already external are an error.
Result<ExternalDataInfo> move_to_external_data(onnx::ModelProto& model, core::AtomicFile& data_file,
                                               const std::string& location, std::uint64_t threshold = k_external_threshold);

/// Writes `model` to `path` with its large initializers in `<path>.data` beside it
/// (move_to_external_data). `model` is modified (its weights move out). Both files are complete in
/// temporaries before either is renamed into place; on error neither is left behind and existing
/// files are untouched. Fails when the model without its weights is still over `size_limit`.
Result<ExternalDataInfo> save_with_external_data(onnx::ModelProto& model, const std::filesystem::path& path,
                                                 std::uint64_t threshold = k_external_threshold,
                                                 std::uint64_t size_limit = k_protobuf_limit);

} // namespace edgeship::model
