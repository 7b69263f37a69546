#include "model/external_data.hpp"

#include <bit>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>

namespace edgeship::model {
namespace fs = std::filesystem;
using TP = onnx::TensorProto;

static_assert(std::endian::native == std::endian::little, "raw_data is little-endian; big-endian hosts need byte swaps");

namespace {

void for_each_initializer(onnx::GraphProto& g, const std::function<void(TP&)>& fn) {
    for (auto& t : *g.mutable_initializer()) {
        fn(t);
    }
    for (auto& n : *g.mutable_node()) {
        for (auto& a : *n.mutable_attribute()) {
            if (a.has_g()) {
                for_each_initializer(*a.mutable_g(), fn);
            }
            for (auto& sub : *a.mutable_graphs()) {
                for_each_initializer(sub, fn);
            }
        }
    }
}

struct Ref {
    std::string location;
    std::uint64_t offset = 0;
    std::int64_t length = -1;
};

Ref ref_of(const TP& t) {
    Ref r;
    for (const auto& kv : t.external_data()) {
        if (kv.key() == "location") {
            r.location = kv.value();
        } else if (kv.key() == "offset") {
            r.offset = std::strtoull(kv.value().c_str(), nullptr, 10);
        } else if (kv.key() == "length") {
            r.length = std::strtoll(kv.value().c_str(), nullptr, 10);
        }
    }
    return r;
}

// True when `inner` (both canonical) is base itself or below it.
bool is_within(const fs::path& base, const fs::path& inner) {
    auto b = base.begin();
    auto i = inner.begin();
    for (; b != base.end(); ++b, ++i) {
        if (i == inner.end() || *i != *b) {
            return false;
        }
    }
    return true;
}

} // namespace

std::string external_location_problem(const std::string& location, const fs::path& base_dir) {
    const std::string refusal = "external data location '" + location + "' must be a relative path inside the model's directory";
    const fs::path loc(location);
    if (location.empty() || loc.is_absolute() || loc.has_root_name() || loc.has_root_directory()) {
        return refusal;
    }
    for (const auto& part : loc) {
        if (part == "..") {
            return refusal;
        }
    }
    // A relative name can still leave the directory through a symlink (to the file or a folder on the
    // way): compare the resolved paths. weakly_canonical resolves what exists and keeps the rest.
    std::error_code ec;
    const fs::path base = fs::weakly_canonical(base_dir.empty() ? fs::path(".") : base_dir, ec);
    if (ec) {
        return "";
    }
    const fs::path target = fs::weakly_canonical(base / loc, ec);
    if (ec) {
        return "";
    }
    if (!is_within(base, target)) {
        return "external data location '" + location + "' resolves to " + target.string() +
               ", outside the model's directory (through a symlink)";
    }
    return "";
}

std::uint64_t tensor_element_count(const TP& t) {
    std::uint64_t n = 1;
    for (auto d : t.dims()) {
        n *= static_cast<std::uint64_t>(d < 0 ? 0 : d);
    }
    return n;
}

void clear_tensor_data(TP& t) {
    t.clear_raw_data();
    t.clear_float_data();
    t.clear_double_data();
    t.clear_int32_data();
    t.clear_int64_data();
    t.clear_uint64_data();
    t.clear_string_data();
}

Result<std::string> tensor_raw_bytes(const TP& t) {
    if (t.data_location() == TP::EXTERNAL) {
        return fail("tensor '" + t.name() + "': data is in an external file that was not loaded");
    }
    if (t.has_raw_data()) {
        return t.raw_data();
    }
    auto pack = [](const auto& field, auto tag) {
        using V = decltype(tag);
        std::string out(static_cast<std::size_t>(field.size()) * sizeof(V), '\0');
        for (int i = 0; i < field.size(); ++i) {
            V v = static_cast<V>(field.Get(i));
            std::memcpy(out.data() + static_cast<std::size_t>(i) * sizeof(V), &v, sizeof(V));
        }
        return out;
    };
    switch (t.data_type()) {
    case TP::FLOAT: return pack(t.float_data(), float{});
    case TP::DOUBLE: return pack(t.double_data(), double{});
    case TP::INT64: return pack(t.int64_data(), std::int64_t{});
    case TP::UINT64: return pack(t.uint64_data(), std::uint64_t{});
    case TP::UINT32: return pack(t.uint64_data(), std::uint32_t{});
    case TP::INT32: return pack(t.int32_data(), std::int32_t{});
    case TP::INT16: return pack(t.int32_data(), std::int16_t{});
    case TP::UINT16:
    case TP::FLOAT16:
    case TP::BFLOAT16: return pack(t.int32_data(), std::uint16_t{});
    case TP::INT8: return pack(t.int32_data(), std::int8_t{});
    case TP::UINT8:
    case TP::BOOL: return pack(t.int32_data(), std::uint8_t{});
    default:
        return fail("tensor '" + t.name() + "': element type " + element_type_name(t.data_type()) +
                    " cannot be stored as raw bytes");
    }
}

Result<std::uint64_t> load_external_data(onnx::ModelProto& model, const fs::path& base_dir) {
    std::uint64_t loaded = 0;
    Result<void> status;
    for_each_initializer(*model.mutable_graph(), [&](TP& t) {
        if (!status || t.data_location() != TP::EXTERNAL) {
            return;
        }
        Ref r = ref_of(t);
        if (auto problem = external_location_problem(r.location, base_dir); !problem.empty()) {
            status = fail("tensor '" + t.name() + "': " + problem);
            return;
        }
        fs::path file = base_dir / r.location;
        std::error_code ec;
        auto size = fs::file_size(file, ec);
        if (ec || !fs::is_regular_file(file, ec)) {
            status = fail("tensor '" + t.name() + "': external data file " + file.string() + " is missing or unreadable");
            return;
        }
        std::uint64_t length = r.length >= 0 ? static_cast<std::uint64_t>(r.length) : size - std::min(size, r.offset);
        if (r.offset > size || length > size - r.offset) {
            status = fail("tensor '" + t.name() + "': external data file " + file.string() + " is shorter (" +
                          std::to_string(size) + " bytes) than offset+length (" + std::to_string(r.offset + length) +
                          "): truncated?");
            return;
        }
        std::size_t esize = element_size(t.data_type());
        if (esize != 0 && length != tensor_element_count(t) * esize) {
            status = fail("tensor '" + t.name() + "': external data holds " + std::to_string(length) +
                          " bytes, its dims need " + std::to_string(tensor_element_count(t) * esize));
            return;
        }
        std::ifstream in(file, std::ios::binary);
        std::string data(length, '\0');
        in.seekg(static_cast<std::streamoff>(r.offset));
        in.read(data.data(), static_cast<std::streamsize>(length));
        if (!in) {
            status = fail("tensor '" + t.name() + "': cannot read " + std::to_string(length) + " bytes from " + file.string());
            return;
        }
        t.clear_external_data();
        t.set_data_location(TP::DEFAULT);
        t.set_raw_data(std::move(data));
        loaded += length;
    });
    if (!status) {
        return unexpected(std::move(status).error());
    }
    return loaded;
}

Result<LoadedModel> load_model_with_data(const fs::path& path, std::uint64_t* external_bytes) {
    EDGESHIP_TRY_ASSIGN(LoadedModel loaded, load_model(path));
    const fs::path base = path.parent_path();
    if (external_bytes != nullptr) {
        *external_bytes = external_data_bytes(loaded.proto, base);
    }
    if (auto r = load_external_data(loaded.proto, base); !r) {
        return unexpected(std::move(r).error().context("reading " + path.string()));
    }
    return loaded;
}

std::uint64_t external_data_bytes(const onnx::ModelProto& model, const fs::path& base_dir) {
    // Disk usage: each referenced file once (writers may pad between tensors).
    std::uint64_t total = 0;
    std::set<std::string> files;
    for (const auto& ref : external_data_refs(model)) {
        if (files.insert(ref.location).second) {
            std::error_code ec;
            auto size = fs::file_size(base_dir / ref.location, ec);
            total += ec ? 0 : size;
        }
    }
    return total;
}

std::string external_data_location(const fs::path& model_path) { return model_path.filename().string() + ".data"; }

Result<ExternalDataInfo> move_to_external_data(onnx::ModelProto& model, core::AtomicFile& data_file,
                                               const std::string& location, std::uint64_t threshold) {
    ExternalDataInfo info;
    info.location = location;
    Result<void> status;
    static const std::string k_padding(64, '\0');
    for_each_initializer(*model.mutable_graph(), [&](TP& t) {
        if (!status || t.data_type() == TP::STRING) {
            return;
        }
        if (t.data_location() == TP::EXTERNAL) {
            status = fail("tensor '" + t.name() + "': its data is still in an external file that was not loaded");
            return;
        }
        std::uint64_t size = tensor_element_count(t) * element_size(t.data_type());
        if (size < threshold || size == 0) {
            return;
        }
        auto bytes = tensor_raw_bytes(t);
        if (!bytes) {
            status = unexpected(std::move(bytes).error());
            return;
        }
        // 64-byte aligned offsets let runtimes map tensors in place.
        if (std::uint64_t pad = (64 - info.bytes % 64) % 64; pad != 0) {
            status = data_file.write(std::string_view(k_padding).substr(0, pad));
            info.bytes += pad;
        }
        std::uint64_t offset = info.bytes;
        if (status) {
            status = data_file.write(*bytes);
        }
        info.bytes += bytes->size();
        clear_tensor_data(t);
        t.set_data_location(TP::EXTERNAL);
        t.clear_external_data();
        auto add = [&](const char* key, std::string value) {
            auto* kv = t.add_external_data();
            kv->set_key(key);
            kv->set_value(std::move(value));
        };
        add("location", info.location);
        add("offset", std::to_string(offset));
        add("length", std::to_string(bytes->size()));
        ++info.tensors;
    });
    if (!status) {
        return unexpected(std::move(status).error());
    }
    return info;
}

Result<ExternalDataInfo> save_with_external_data(onnx::ModelProto& model, const fs::path& path, std::uint64_t threshold,
                                                 std::uint64_t size_limit) {
    const std::string location = external_data_location(path);
    const fs::path data_path = path.parent_path() / location;
    EDGESHIP_TRY_ASSIGN(auto data_file, core::AtomicFile::create(data_path));
    auto info = move_to_external_data(model, data_file, location, threshold);
    if (!info) {
        return unexpected(std::move(info).error().context("writing " + data_path.string()));
    }
    if (model.ByteSizeLong() > size_limit) {
        return fail(path.string() + ": even with its weights in " + location + " the model is " +
                    std::to_string(model.ByteSizeLong()) + " bytes, over protobuf's 2 GiB limit for one file "
                    "(ONNX can store only tensors externally, not attributes)");
    }
    std::string bytes;
    if (!model.SerializeToString(&bytes)) {
        return fail(path.string() + ": cannot serialize the model");
    }
    EDGESHIP_TRY_ASSIGN(auto model_file, core::AtomicFile::create(path));
    EDGESHIP_TRY(model_file.write(bytes));
    // Both files are complete; the data goes first so the model never names a file that is not there.
    EDGESHIP_TRY(data_file.commit());
    if (auto committed = model_file.commit(); !committed) {
        std::error_code ec;
        fs::remove(data_path, ec); // no half-written output: the model that names it was not written
        return unexpected(std::move(committed).error());
    }
    return *info;
}

} // namespace edgeship::model
