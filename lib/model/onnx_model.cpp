#include "model/onnx_model.hpp"

#include "core/fs.hpp"
#include "core/sha256.hpp"
#include "model/external_data.hpp"

#include <onnx/checker.h>
#include <onnx/common/version.h>
#include <onnx/shape_inference/implementation.h>

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <functional>

namespace edgeship::model {
namespace fs = std::filesystem;

namespace {

std::string first_line(const std::string& s) {
    auto nl = s.find('\n');
    std::string out = s.substr(0, nl);
    while (!out.empty() && (out.back() == ' ' || out.back() == '\r')) {
        out.pop_back();
    }
    return out;
}

void for_each_graph(const onnx::GraphProto& g, const std::function<void(const onnx::GraphProto&)>& fn) {
    fn(g);
    for (const auto& node : g.node()) {
        for (const auto& attr : node.attribute()) {
            if (attr.has_g()) {
                for_each_graph(attr.g(), fn);
            }
            for (const auto& sub : attr.graphs()) {
                for_each_graph(sub, fn);
            }
        }
    }
}

} // namespace

Result<LoadedModel> load_model(const fs::path& path) {
    LoadedModel out;
    out.path = path;
    EDGESHIP_TRY_ASSIGN(std::string bytes, core::read_file(path));
    if (bytes.empty()) {
        return fail(path.string() + ": empty file, not an ONNX model");
    }
    if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
        return fail(path.string() + ": larger than protobuf's 2 GiB limit; store weights as external data");
    }
    google::protobuf::io::CodedInputStream stream(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                                  static_cast<int>(bytes.size()));
    stream.SetRecursionLimit(1024);
    if (!out.proto.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage()) {
        return fail(path.string() + ": not an ONNX model (the protobuf does not parse: truncated or corrupt file)");
    }
    if (!out.proto.has_ir_version() || out.proto.ir_version() <= 0) {
        return fail(path.string() + ": not an ONNX model (no ir_version)");
    }
    if (!out.proto.has_graph()) {
        return fail(path.string() + ": not an ONNX model (no graph)");
    }
    out.file_size = bytes.size();
    out.sha256 = core::sha256_hex(bytes);
    return out;
}

Result<void> save_model(const onnx::ModelProto& model, const fs::path& path) {
    std::string bytes;
    if (model.ByteSizeLong() > static_cast<std::size_t>(INT_MAX) || !model.SerializeToString(&bytes)) {
        return fail(path.string() + ": cannot serialize the model (over protobuf's 2 GiB limit?)");
    }
    return core::write_file_atomic(path, bytes);
}

Result<void> require_valid(std::string_view what, const std::vector<Finding>& findings) {
    if (findings.empty()) {
        return {};
    }
    const auto& f = findings.front();
    std::string more;
    if (findings.size() > 1) {
        more = " (and " + std::to_string(findings.size() - 1) + " more finding" + (findings.size() == 2 ? "" : "s") + ")";
    }
    return fail((what.empty() ? std::string() : std::string(what) + ": ") + "invalid model: " + f.stage + ": " +
                    f.message + more,
                ExitCode::validation);
}

std::vector<Finding> check_model(const LoadedModel& model, StrictShapes strict, onnx::ModelProto* inferred) {
    std::vector<Finding> findings;
    // The checker refuses newer IR with a terse message; say which versions this build understands.
    if (model.proto.ir_version() > onnx::Version::IR_VERSION) {
        findings.push_back({"ir_version", "IR version " + std::to_string(model.proto.ir_version()) +
                                              " is newer than this build supports (ONNX 1.12: IR " +
                                              std::to_string(onnx::Version::IR_VERSION) + " at most)"});
        return findings;
    }
    for (const auto& ref : external_data_refs(model.proto)) {
        fs::path p = model.path.parent_path() / ref.location;
        std::error_code ec;
        // The same rule load_external_data applies (docs/design/onnx.md §10.6).
        if (auto problem = external_location_problem(ref.location, model.path.parent_path()); !problem.empty()) {
            findings.push_back({"external_data", "tensor '" + ref.tensor + "': " + problem});
            continue;
        }
        auto size = fs::file_size(p, ec);
        if (ec || !fs::is_regular_file(p, ec)) {
            findings.push_back({"external_data", "tensor '" + ref.tensor + "': external data file " + p.string() +
                                                     " is missing or unreadable"});
        } else if (ref.offset > size || static_cast<std::uint64_t>(ref.length < 0 ? 0 : ref.length) > size - ref.offset) {
            findings.push_back({"external_data", "tensor '" + ref.tensor + "': external data " + p.string() +
                                                     " is shorter (" + std::to_string(size) +
                                                     " bytes) than offset+length: truncated?"});
        }
    }
    if (!findings.empty()) {
        return findings;
    }
    try {
        // Path overload: resolves external data next to the model (docs/design/onnx.md §10.3).
        onnx::checker::check_model(model.path.string());
    } catch (const std::exception& e) {
        findings.push_back({"checker", first_line(e.what())});
    }
    onnx::ModelProto copy = model.proto;
    try {
        // Lenient by default: no type checks, errors swallowed per node. Strict type checking rejects
        // 3 of the official test models (docs/design/onnx.md §10.2, §12), so it is opt-in.
        bool strict_mode = strict == StrictShapes::yes;
        onnx::ShapeInferenceOptions opts{strict_mode, strict_mode ? 1 : 0, false};
        onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(), opts);
    } catch (const std::exception& e) {
        findings.push_back({"shape_inference", first_line(e.what())});
    }
    if (inferred != nullptr) {
        *inferred = std::move(copy);
    }
    return findings;
}

std::vector<ExternalDataRef> external_data_refs(const onnx::ModelProto& model) {
    std::vector<ExternalDataRef> refs;
    for_each_graph(model.graph(), [&](const onnx::GraphProto& g) {
        for (const auto& t : g.initializer()) {
            if (t.data_location() != onnx::TensorProto::EXTERNAL) {
                continue;
            }
            ExternalDataRef r;
            r.tensor = t.name();
            for (const auto& kv : t.external_data()) {
                if (kv.key() == "location") {
                    r.location = kv.value();
                } else if (kv.key() == "offset") {
                    r.offset = std::strtoull(kv.value().c_str(), nullptr, 10);
                } else if (kv.key() == "length") {
                    r.length = std::strtoll(kv.value().c_str(), nullptr, 10);
                }
            }
            refs.push_back(std::move(r));
        }
    });
    return refs;
}

void set_model_header(onnx::ModelProto& model, std::int64_t opset, const std::string& producer_version,
                      const std::string& doc_string,
                      const std::vector<std::pair<std::string, std::string>>& metadata, bool uses_ml) {
    model.set_ir_version(ir_version_for_opset(opset));
    model.set_producer_name("edgeship");
    model.set_producer_version(producer_version);
    if (!doc_string.empty()) {
        model.set_doc_string(doc_string);
    }
    auto* op = model.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    if (uses_ml) {
        auto* op_ml = model.add_opset_import();
        op_ml->set_domain("ai.onnx.ml");
        op_ml->set_version(3);
    }
    for (const auto& [key, value] : metadata) {
        auto* kv = model.add_metadata_props();
        kv->set_key(key);
        kv->set_value(value);
    }
}

std::int64_t ir_version_for_opset(std::int64_t opset) {
    // onnx docs/Versioning.md: the IR version each ONNX release introduced with its opset.
    if (opset <= 8) {
        return 3;
    }
    if (opset == 9) {
        return 4;
    }
    if (opset == 10) {
        return 5;
    }
    if (opset == 11) {
        return 6;
    }
    if (opset <= 14) {
        return 7;
    }
    if (opset <= 18) {
        return 8;
    }
    if (opset <= 20) {
        return 9;
    }
    if (opset <= 22) {
        return 10; // ONNX 1.16 (opset 21) and 1.17 (opset 22)
    }
    if (opset == 23) {
        return 11;
    }
    if (opset == 24) {
        return 12;
    }
    return 13;
}

void set_metadata(onnx::ModelProto& model, const std::string& key, const std::string& value) {
    for (auto& kv : *model.mutable_metadata_props()) {
        if (kv.key() == key) {
            kv.set_value(value);
            return;
        }
    }
    auto* kv = model.add_metadata_props();
    kv->set_key(key);
    kv->set_value(value);
}

std::string element_type_name(int elem_type) {
    using T = onnx::TensorProto;
    switch (elem_type) {
    case T::FLOAT: return "float";
    case T::UINT8: return "uint8";
    case T::INT8: return "int8";
    case T::UINT16: return "uint16";
    case T::INT16: return "int16";
    case T::INT32: return "int32";
    case T::INT64: return "int64";
    case T::STRING: return "string";
    case T::BOOL: return "bool";
    case T::FLOAT16: return "float16";
    case T::DOUBLE: return "double";
    case T::UINT32: return "uint32";
    case T::UINT64: return "uint64";
    case T::COMPLEX64: return "complex64";
    case T::COMPLEX128: return "complex128";
    case T::BFLOAT16: return "bfloat16";
    default: return "undefined";
    }
}

std::size_t element_size(int elem_type) {
    using T = onnx::TensorProto;
    switch (elem_type) {
    case T::BOOL:
    case T::UINT8:
    case T::INT8: return 1;
    case T::UINT16:
    case T::INT16:
    case T::FLOAT16:
    case T::BFLOAT16: return 2;
    case T::FLOAT:
    case T::INT32:
    case T::UINT32: return 4;
    case T::DOUBLE:
    case T::INT64:
    case T::UINT64:
    case T::COMPLEX64: return 8;
    case T::COMPLEX128: return 16;
    default: return 0;
    }
}

} // namespace edgeship::model
