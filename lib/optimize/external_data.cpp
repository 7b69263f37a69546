#include "optimize/external_data.hpp"

#include "core/fs.hpp"
#include "model/onnx_model.hpp"
#include "optimize/detail/tensor_data.hpp"

#include <fstream>
#include <functional>
#include <set>

namespace edgeship::optimize {
namespace fs = std::filesystem;
using TP = onnx::TensorProto;

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

bool safe_location(const std::string& loc) {
    if (loc.empty() || fs::path(loc).is_absolute()) {
        return false;
    }
    for (const auto& part : fs::path(loc)) {
        if (part == "..") {
            return false;
        }
    }
    return true;
}

} // namespace

Result<std::uint64_t> load_external_data(onnx::ModelProto& model, const fs::path& base_dir) {
    std::uint64_t loaded = 0;
    Result<void> status;
    for_each_initializer(*model.mutable_graph(), [&](TP& t) {
        if (!status || t.data_location() != TP::EXTERNAL) {
            return;
        }
        Ref r = ref_of(t);
        if (!safe_location(r.location)) {
            status = fail("tensor '" + t.name() + "': external data location '" + r.location +
                          "' must be a relative path inside the model's directory");
            return;
        }
        fs::path file = base_dir / r.location;
        std::error_code ec;
        auto size = fs::file_size(file, ec);
        if (ec) {
            status = fail("tensor '" + t.name() + "': external data file " + file.string() + " is missing or unreadable");
            return;
        }
        std::uint64_t length = r.length >= 0 ? static_cast<std::uint64_t>(r.length) : size - std::min(size, r.offset);
        if (r.offset + length > size) {
            status = fail("tensor '" + t.name() + "': external data file " + file.string() + " is shorter (" +
                          std::to_string(size) + " bytes) than offset+length (" + std::to_string(r.offset + length) + ")");
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
        std::size_t esize = model::element_size(t.data_type());
        if (esize != 0 && length != detail::element_count(t) * esize) {
            status = fail("tensor '" + t.name() + "': external data holds " + std::to_string(length) +
                          " bytes, its dims need " + std::to_string(detail::element_count(t) * esize));
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

std::uint64_t external_data_bytes(const onnx::ModelProto& model, const fs::path& base_dir) {
    // Disk usage: each referenced file once (writers may pad between tensors).
    std::uint64_t total = 0;
    std::set<std::string> files;
    for (const auto& ref : model::external_data_refs(model)) {
        if (files.insert(ref.location).second) {
            std::error_code ec;
            auto size = fs::file_size(base_dir / ref.location, ec);
            total += ec ? 0 : size;
        }
    }
    return total;
}

Result<ExternalDataInfo> save_with_external_data(onnx::ModelProto& model, const fs::path& path, std::uint64_t threshold) {
    ExternalDataInfo info;
    info.location = path.filename().string() + ".data";
    fs::path data_path = path.parent_path() / info.location;
    EDGESHIP_TRY_ASSIGN(auto data_file, core::AtomicFile::create(data_path));
    Result<void> status;
    static const std::string k_padding(64, '\0');
    for_each_initializer(*model.mutable_graph(), [&](TP& t) {
        if (!status || t.data_location() == TP::EXTERNAL || t.data_type() == TP::STRING) {
            return;
        }
        std::uint64_t size = detail::element_count(t) * model::element_size(t.data_type());
        if (size < threshold || size == 0) {
            return;
        }
        auto bytes = detail::raw_bytes(t);
        if (!bytes) {
            status = unexpected(std::move(bytes).error());
            return;
        }
        if (std::uint64_t pad = (64 - info.bytes % 64) % 64; pad != 0) {
            status = data_file.write(std::string_view(k_padding).substr(0, pad));
            info.bytes += pad;
        }
        std::uint64_t offset = info.bytes;
        if (status) {
            status = data_file.write(*bytes);
        }
        info.bytes += bytes->size();
        detail::clear_data(t);
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
        return unexpected(std::move(status).error().context("writing " + data_path.string()));
    }
    EDGESHIP_TRY(data_file.commit());
    if (auto saved = model::save_model(model, path); !saved) {
        std::error_code ec;
        fs::remove(data_path, ec); // no half-written output: the model that names it was not written
        return unexpected(std::move(saved).error());
    }
    return info;
}

} // namespace edgeship::optimize
