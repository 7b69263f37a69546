#pragma once

// Reading and writing the numbers inside TensorProto, whichever field holds them (raw_data in
// little-endian order, or the typed repeated fields), and the float32 <-> float16 conversion.

#include "core/result.hpp"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace edgeship::optimize::detail {

/// Elements of the tensor (product of dims; 1 for a scalar).
std::uint64_t element_count(const onnx::TensorProto& t);

/// The tensor's values as float. FLOAT, FLOAT16, DOUBLE and the integer types are accepted; a tensor
/// whose data lives in an external file (not loaded) or has the wrong byte count is an error naming it.
Result<std::vector<float>> float_values(const onnx::TensorProto& t);

/// INT64 / INT32 values (shape operands of Reshape and friends).
Result<std::vector<std::int64_t>> int64_values(const onnx::TensorProto& t);

/// Replaces the data with `values` as FLOAT raw_data; dims are left alone.
void set_float_values(onnx::TensorProto& t, std::span<const float> values);

/// The data as little-endian bytes (raw_data as is, typed fields encoded). Strings are not supported.
Result<std::string> raw_bytes(const onnx::TensorProto& t);

/// Drops every typed data field and raw_data.
void clear_data(onnx::TensorProto& t);

/// IEEE binary16 bits for `v`, round to nearest even (the compiler's _Float16 conversion).
std::uint16_t float_to_half(float v);
float half_to_float(std::uint16_t bits);

/// A 0-d tensor or 1-d tensor built from values.
onnx::TensorProto make_float_tensor(const std::string& name, std::vector<std::int64_t> dims, std::span<const float> values);
onnx::TensorProto make_int8_tensor(const std::string& name, std::vector<std::int64_t> dims,
                                   std::span<const std::int8_t> values);
onnx::TensorProto make_uint8_tensor(const std::string& name, std::vector<std::int64_t> dims,
                                    std::span<const std::uint8_t> values);

} // namespace edgeship::optimize::detail
