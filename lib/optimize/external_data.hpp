#pragma once

#include "core/result.hpp"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace edgeship::optimize {

struct ExternalDataInfo {
    std::string location;      ///< data file name, relative to the model's directory
    std::uint64_t bytes = 0;   ///< size of the data file
    std::size_t tensors = 0;   ///< initializers moved into it
};

/// Reads every externally stored initializer (main graph and subgraphs) into raw_data, resolving each
/// `location` against `base_dir` (docs/ExternalData.md, reference/onnx.md §10.6). Locations must be
/// relative paths inside base_dir; a missing file or a short read names the tensor and file (exit 1).
/// Returns the number of bytes loaded.
Result<std::uint64_t> load_external_data(onnx::ModelProto& model, const std::filesystem::path& base_dir);

/// Bytes on disk of the files holding the model's external data (each file counted once).
std::uint64_t external_data_bytes(const onnx::ModelProto& model, const std::filesystem::path& base_dir);

/// Writes `model` to `path` with every initializer of at least `threshold` bytes moved into one side
/// file `<path filename>.data` next to it: raw bytes at 64-byte aligned offsets, each tensor marked
/// data_location = EXTERNAL with location/offset/length (libonnx has no C++ writer, §10.6). This is how
/// models over protobuf's 2 GiB limit are saved. `model` is modified (its weights move out). Both files
/// are written atomically; on error neither is left behind.
Result<ExternalDataInfo> save_with_external_data(onnx::ModelProto& model, const std::filesystem::path& path,
                                                 std::uint64_t threshold = 1024);

} // namespace edgeship::optimize
