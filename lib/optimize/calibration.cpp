#include "optimize/calibration.hpp"

#include "core/fs.hpp"
#include "core/sha256.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <regex>
#include <set>

namespace edgeship::optimize {

namespace {

struct ModelInput {
    std::string name;
    int elem_type = 0;
    std::vector<std::int64_t> dims; ///< -1 for symbolic/unknown
};

std::vector<ModelInput> model_inputs(const onnx::ModelProto& m) {
    std::set<std::string> inits;
    for (const auto& t : m.graph().initializer()) {
        inits.insert(t.name());
    }
    std::vector<ModelInput> out;
    for (const auto& v : m.graph().input()) {
        if (inits.contains(v.name())) {
            continue;
        }
        ModelInput mi;
        mi.name = v.name();
        mi.elem_type = v.type().tensor_type().elem_type();
        for (const auto& d : v.type().tensor_type().shape().dim()) {
            mi.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
        }
        out.push_back(std::move(mi));
    }
    return out;
}

std::string shape_text(const std::vector<std::int64_t>& d, std::size_t from = 0) {
    std::string s = "[";
    for (std::size_t k = from; k < d.size(); ++k) {
        s += (k > from ? "," : "") + (d[k] < 0 ? std::string("?") : std::to_string(d[k]));
    }
    return s + "]";
}

Result<void> check_row_shape(const std::string& file, const std::string& where, const ModelInput& in,
                             const std::vector<std::int64_t>& row) {
    bool ok = in.dims.empty() || row.size() + 1 == in.dims.size();
    for (std::size_t k = 0; ok && k < row.size(); ++k) {
        if (in.dims[k + 1] >= 0 && in.dims[k + 1] != row[k]) {
            ok = false;
        }
    }
    if (!ok) {
        return fail(file + ": " + where + " has shape " + shape_text(row) + " but input '" + in.name + "' expects " +
                    shape_text(in.dims, 1) + " per row (model input shape " + shape_text(in.dims) + ")");
    }
    return {};
}

Result<CalibrationData> load_npy(const std::filesystem::path& path, const std::string& bytes,
                                 const std::vector<ModelInput>& inputs) {
    const std::string file = path.string();
    if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) {
        return fail(file + ": not a NumPy .npy file (bad magic)");
    }
    auto major = static_cast<unsigned char>(bytes[6]);
    std::size_t header_len = 0, start = 0;
    if (major == 1) {
        header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
        start = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12) {
            return fail(file + ": truncated .npy header");
        }
        for (int k = 0; k < 4; ++k) {
            header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + static_cast<std::size_t>(k)])) << (8 * k);
        }
        start = 12;
    } else {
        return fail(file + ": unsupported .npy version " + std::to_string(major));
    }
    if (start + header_len > bytes.size()) {
        return fail(file + ": truncated .npy header");
    }
    std::string header = bytes.substr(start, header_len);
    std::smatch m;
    if (!std::regex_search(header, m, std::regex(R"('descr':\s*'([^']*)')"))) {
        return fail(file + ": .npy header has no dtype");
    }
    std::string descr = m[1];
    if (descr != "<f4" && descr != "<f8") {
        return fail(file + ": .npy dtype '" + descr + "' is not supported (use float32 '<f4' or float64 '<f8')");
    }
    if (std::regex_search(header, std::regex(R"('fortran_order':\s*True)"))) {
        return fail(file + ": Fortran-ordered .npy arrays are not supported (save with np.ascontiguousarray)");
    }
    if (!std::regex_search(header, m, std::regex(R"('shape':\s*\(([^)]*)\))"))) {
        return fail(file + ": .npy header has no shape");
    }
    std::vector<std::int64_t> shape;
    std::string dims = m[1];
    std::regex num(R"(\d+)");
    for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it) {
        shape.push_back(std::stoll(it->str()));
    }
    if (shape.empty()) {
        return fail(file + ": a .npy scalar holds no rows; the first dimension must count the rows");
    }
    if (inputs.size() != 1) {
        return fail(file + ": a .npy file calibrates single-input models only; this model has " +
                    std::to_string(inputs.size()) + " inputs (use JSON rows of {input: values})");
    }
    std::size_t esize = descr == "<f4" ? 4 : 8;
    std::size_t n = 1;
    for (auto d : shape) {
        n *= static_cast<std::size_t>(d);
    }
    std::size_t data_at = start + header_len;
    if (bytes.size() - data_at != n * esize) {
        return fail(file + ": .npy data holds " + std::to_string(bytes.size() - data_at) + " bytes, shape " +
                    shape_text(shape) + " needs " + std::to_string(n * esize));
    }
    const auto& in = inputs.front();
    EDGESHIP_TRY(check_row_shape(file, "each row", in, std::vector<std::int64_t>(shape.begin() + 1, shape.end())));
    CalibrationData out;
    out.rows = static_cast<std::size_t>(shape[0]);
    Tensor t;
    t.dims = shape;
    t.f.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
        if (esize == 4) {
            std::memcpy(&t.f[k], bytes.data() + data_at + 4 * k, 4);
        } else {
            double v;
            std::memcpy(&v, bytes.data() + data_at + 8 * k, 8);
            t.f[k] = static_cast<float>(v);
        }
    }
    out.inputs[in.name] = std::move(t);
    return out;
}

// Flattens a nested JSON array of numbers, recording its (rectangular) shape.
Result<void> flatten(const nlohmann::json& j, std::size_t depth, std::vector<std::int64_t>& shape, std::vector<float>& out,
                     const std::string& where) {
    if (j.is_number()) {
        if (depth != shape.size()) {
            return fail(where + " is not rectangular");
        }
        out.push_back(j.get<float>());
        return {};
    }
    if (j.is_null()) {
        out.push_back(std::numeric_limits<float>::quiet_NaN());
        return {};
    }
    if (!j.is_array()) {
        return fail(where + " holds a " + std::string(j.type_name()) + " where a number or array belongs");
    }
    if (depth == shape.size()) {
        shape.push_back(static_cast<std::int64_t>(j.size()));
    } else if (depth > shape.size() || shape[depth] != static_cast<std::int64_t>(j.size())) {
        return fail(where + " is not rectangular");
    }
    for (const auto& e : j) {
        EDGESHIP_TRY(flatten(e, depth + 1, shape, out, where));
    }
    return {};
}

Result<CalibrationData> load_json(const std::filesystem::path& path, const std::string& bytes,
                                  const std::vector<ModelInput>& inputs) {
    const std::string file = path.string();
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(bytes);
    } catch (const nlohmann::json::exception& e) {
        return fail(file + ": not JSON (" + std::string(e.what()) + ")");
    }
    if (!doc.is_array() || doc.empty()) {
        return fail(file + ": expected a non-empty JSON array of rows");
    }
    CalibrationData out;
    out.rows = doc.size();
    std::map<std::string, std::vector<std::int64_t>> row_shape;
    for (std::size_t r = 0; r < doc.size(); ++r) {
        const auto& row = doc[r];
        std::string where = "row " + std::to_string(r);
        for (const auto& in : inputs) {
            const nlohmann::json* value = &row;
            if (row.is_object()) {
                if (!row.contains(in.name)) {
                    return fail(file + ": " + where + " has no value for input '" + in.name + "'");
                }
                value = &row[in.name];
            } else if (inputs.size() != 1) {
                return fail(file + ": " + where + " must be an object {input name: values}: the model has " +
                            std::to_string(inputs.size()) + " inputs");
            }
            std::vector<std::int64_t> shape;
            auto& t = out.inputs[in.name];
            EDGESHIP_TRY(flatten(*value, 0, shape, t.f, file + ": " + where));
            if (value->is_number()) {
                shape.clear(); // a scalar row
            }
            EDGESHIP_TRY(check_row_shape(file, where, in, shape));
            auto [it, fresh] = row_shape.emplace(in.name, shape);
            if (!fresh && it->second != shape) {
                return fail(file + ": " + where + " has shape " + shape_text(shape) + ", earlier rows " +
                            shape_text(it->second));
            }
        }
    }
    for (auto& [name, t] : out.inputs) {
        t.dims = row_shape[name];
        t.dims.insert(t.dims.begin(), static_cast<std::int64_t>(out.rows));
    }
    return out;
}

} // namespace

Result<CalibrationData> load_calibration(const std::filesystem::path& path, const onnx::ModelProto& model) {
    EDGESHIP_TRY_ASSIGN(std::string bytes, core::read_file(path));
    auto inputs = model_inputs(model);
    for (const auto& in : inputs) {
        if (in.elem_type != onnx::TensorProto::FLOAT) {
            return fail(path.string() + ": input '" + in.name + "' is not float; only float inputs can be calibrated");
        }
    }
    bool npy = bytes.size() >= 6 && std::memcmp(bytes.data(), "\x93NUMPY", 6) == 0;
    Result<CalibrationData> r = npy ? load_npy(path, bytes, inputs) : load_json(path, bytes, inputs);
    if (!r) {
        return r;
    }
    r->path = path;
    r->sha256 = core::sha256_hex(bytes);
    if (r->rows == 0) {
        return fail(path.string() + ": no calibration rows");
    }
    return r;
}

} // namespace edgeship::optimize
