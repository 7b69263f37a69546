#include "optimize/detail/tensor_data.hpp"

#include "model/external_data.hpp"
#include "model/onnx_model.hpp"

#include <bit>
#include <cstring>

namespace edgeship::optimize::detail {

using T = onnx::TensorProto;

std::uint64_t element_count(const onnx::TensorProto& t) { return model::tensor_element_count(t); }

namespace {

template <class V> std::vector<float> from_raw(const std::string& raw, std::uint64_t n) {
    std::vector<float> out(n);
    const char* p = raw.data();
    for (std::uint64_t i = 0; i < n; ++i) {
        V v;
        std::memcpy(&v, p + i * sizeof(V), sizeof(V));
        out[i] = static_cast<float>(v);
    }
    return out;
}

Result<void> check_loaded(const onnx::TensorProto& t) {
    if (t.data_location() == T::EXTERNAL) {
        return fail("tensor '" + t.name() + "': data is in an external file that was not loaded");
    }
    return {};
}

Result<void> check_raw_size(const onnx::TensorProto& t, std::uint64_t n) {
    std::size_t esize = model::element_size(t.data_type());
    if (t.raw_data().size() != n * esize) {
        return fail("tensor '" + t.name() + "': raw_data holds " + std::to_string(t.raw_data().size()) +
                    " bytes, dims say " + std::to_string(n * esize));
    }
    return {};
}

} // namespace

Result<std::vector<float>> float_values(const onnx::TensorProto& t) {
    EDGESHIP_TRY(check_loaded(t));
    std::uint64_t n = element_count(t);
    if (t.has_raw_data()) {
        EDGESHIP_TRY(check_raw_size(t, n));
        switch (t.data_type()) {
        case T::FLOAT: return from_raw<float>(t.raw_data(), n);
        case T::DOUBLE: return from_raw<double>(t.raw_data(), n);
        case T::INT64: return from_raw<std::int64_t>(t.raw_data(), n);
        case T::INT32: return from_raw<std::int32_t>(t.raw_data(), n);
        case T::INT8: return from_raw<std::int8_t>(t.raw_data(), n);
        case T::UINT8: return from_raw<std::uint8_t>(t.raw_data(), n);
        case T::FLOAT16: {
            std::vector<float> out(n);
            for (std::uint64_t i = 0; i < n; ++i) {
                std::uint16_t b;
                std::memcpy(&b, t.raw_data().data() + 2 * i, 2);
                out[i] = half_to_float(b);
            }
            return out;
        }
        default: break;
        }
    } else {
        std::vector<float> out;
        switch (t.data_type()) {
        case T::FLOAT: out.assign(t.float_data().begin(), t.float_data().end()); break;
        case T::DOUBLE: out.assign(t.double_data().begin(), t.double_data().end()); break;
        case T::INT64: out.assign(t.int64_data().begin(), t.int64_data().end()); break;
        case T::INT32:
        case T::INT8:
        case T::UINT8: out.assign(t.int32_data().begin(), t.int32_data().end()); break;
        case T::FLOAT16:
            for (auto v : t.int32_data()) {
                out.push_back(half_to_float(static_cast<std::uint16_t>(v)));
            }
            break;
        default:
            return fail("tensor '" + t.name() + "': element type " + model::element_type_name(t.data_type()) +
                        " is not numeric");
        }
        if (out.size() != n) {
            return fail("tensor '" + t.name() + "': holds " + std::to_string(out.size()) + " values, dims say " +
                        std::to_string(n));
        }
        return out;
    }
    return fail("tensor '" + t.name() + "': element type " + model::element_type_name(t.data_type()) +
                " is not supported here");
}

Result<std::vector<std::int64_t>> int64_values(const onnx::TensorProto& t) {
    EDGESHIP_TRY(check_loaded(t));
    std::uint64_t n = element_count(t);
    std::vector<std::int64_t> out;
    if (t.data_type() == T::INT64) {
        if (t.has_raw_data()) {
            EDGESHIP_TRY(check_raw_size(t, n));
            out.resize(n);
            std::memcpy(out.data(), t.raw_data().data(), n * 8);
        } else {
            out.assign(t.int64_data().begin(), t.int64_data().end());
        }
    } else if (t.data_type() == T::INT32) {
        if (t.has_raw_data()) {
            EDGESHIP_TRY(check_raw_size(t, n));
            for (std::uint64_t i = 0; i < n; ++i) {
                std::int32_t v;
                std::memcpy(&v, t.raw_data().data() + 4 * i, 4);
                out.push_back(v);
            }
        } else {
            out.assign(t.int32_data().begin(), t.int32_data().end());
        }
    } else {
        return fail("tensor '" + t.name() + "': expected int64 values, found " + model::element_type_name(t.data_type()));
    }
    if (out.size() != n) {
        return fail("tensor '" + t.name() + "': holds " + std::to_string(out.size()) + " values, dims say " +
                    std::to_string(n));
    }
    return out;
}

void clear_data(onnx::TensorProto& t) { model::clear_tensor_data(t); }

void set_float_values(onnx::TensorProto& t, std::span<const float> values) {
    clear_data(t);
    t.set_data_type(T::FLOAT);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size_bytes()));
}

Result<std::string> raw_bytes(const onnx::TensorProto& t) {
    EDGESHIP_TRY(check_loaded(t));
    return model::tensor_raw_bytes(t);
}

std::uint16_t float_to_half(float v) {
    auto h = static_cast<_Float16>(v);
    std::uint16_t bits;
    std::memcpy(&bits, &h, sizeof bits);
    return bits;
}

float half_to_float(std::uint16_t bits) {
    _Float16 h;
    std::memcpy(&h, &bits, sizeof bits);
    return static_cast<float>(h);
}

namespace {
template <class V>
onnx::TensorProto make_tensor(const std::string& name, std::vector<std::int64_t> dims, std::span<const V> values, int type) {
    onnx::TensorProto t;
    t.set_name(name);
    t.set_data_type(type);
    for (auto d : dims) {
        t.add_dims(d);
    }
    t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size_bytes()));
    return t;
}
} // namespace

onnx::TensorProto make_float_tensor(const std::string& name, std::vector<std::int64_t> dims, std::span<const float> values) {
    return make_tensor(name, std::move(dims), values, T::FLOAT);
}
onnx::TensorProto make_int8_tensor(const std::string& name, std::vector<std::int64_t> dims,
                                   std::span<const std::int8_t> values) {
    return make_tensor(name, std::move(dims), values, T::INT8);
}
onnx::TensorProto make_uint8_tensor(const std::string& name, std::vector<std::int64_t> dims,
                                    std::span<const std::uint8_t> values) {
    return make_tensor(name, std::move(dims), values, T::UINT8);
}

} // namespace edgeship::optimize::detail
