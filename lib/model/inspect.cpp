#include "model/inspect.hpp"

#include <functional>
#include <set>

namespace edgeship::model {

namespace {

std::string dim_text(const onnx::TensorShapeProto::Dimension& d) {
    if (d.has_dim_value()) {
        return std::to_string(d.dim_value());
    }
    if (d.has_dim_param() && !d.dim_param().empty()) {
        return d.dim_param();
    }
    return "?";
}

TensorSignature signature_of(const onnx::ValueInfoProto& vi) {
    TensorSignature sig;
    sig.name = vi.name();
    const auto& t = vi.type();
    auto fill_tensor = [&](int elem, const onnx::TensorShapeProto* shape) {
        sig.elem_type = element_type_name(elem);
        if (shape != nullptr) {
            sig.has_shape = true;
            for (const auto& d : shape->dim()) {
                sig.dims.push_back(dim_text(d));
            }
        }
    };
    switch (t.value_case()) {
    case onnx::TypeProto::kTensorType:
        sig.kind = "tensor";
        fill_tensor(t.tensor_type().elem_type(), t.tensor_type().has_shape() ? &t.tensor_type().shape() : nullptr);
        break;
    case onnx::TypeProto::kSparseTensorType:
        sig.kind = "sparse_tensor";
        fill_tensor(t.sparse_tensor_type().elem_type(),
                    t.sparse_tensor_type().has_shape() ? &t.sparse_tensor_type().shape() : nullptr);
        break;
    case onnx::TypeProto::kSequenceType: {
        sig.kind = "sequence";
        const auto& e = t.sequence_type().elem_type();
        if (e.has_tensor_type()) {
            sig.elem_type = element_type_name(e.tensor_type().elem_type());
        }
        break;
    }
    case onnx::TypeProto::kMapType:
        sig.kind = "map";
        sig.elem_type = element_type_name(t.map_type().key_type());
        break;
    case onnx::TypeProto::kOptionalType: {
        sig.kind = "optional";
        const auto& e = t.optional_type().elem_type();
        if (e.has_tensor_type()) {
            sig.elem_type = element_type_name(e.tensor_type().elem_type());
        }
        break;
    }
    default: sig.kind = "unknown"; break;
    }
    return sig;
}

std::uint64_t element_count(const onnx::TensorProto& t) {
    std::uint64_t n = 1;
    for (auto d : t.dims()) {
        n *= static_cast<std::uint64_t>(d < 0 ? 0 : d);
    }
    return n;
}

void count_graph(const onnx::GraphProto& g, ModelReport& r) {
    for (const auto& t : g.initializer()) {
        ++r.initializer_count;
        auto n = element_count(t);
        r.parameter_count += n;
        if (t.data_type() == onnx::TensorProto::STRING) {
            for (const auto& s : t.string_data()) {
                r.parameter_bytes += s.size();
            }
        } else {
            r.parameter_bytes += n * element_size(t.data_type());
        }
    }
    for (const auto& st : g.sparse_initializer()) {
        ++r.initializer_count;
        auto n = element_count(st.values());
        r.parameter_count += n;
        r.parameter_bytes += n * element_size(st.values().data_type());
    }
    for (const auto& node : g.node()) {
        ++r.node_count;
        std::string domain = node.domain();
        std::string key = (domain.empty() || domain == "ai.onnx") ? node.op_type() : domain + "." + node.op_type();
        ++r.op_histogram[key];
        for (const auto& attr : node.attribute()) {
            if (attr.has_g()) {
                count_graph(attr.g(), r);
            }
            for (const auto& sub : attr.graphs()) {
                count_graph(sub, r);
            }
        }
    }
}

nlohmann::json signature_json(const TensorSignature& s) {
    nlohmann::json j = {{"name", s.name}, {"kind", s.kind}, {"elem_type", s.elem_type}};
    if (s.has_shape) {
        nlohmann::json dims = nlohmann::json::array();
        for (const auto& d : s.dims) {
            // Numbers stay numbers; symbolic and unknown dims are strings.
            bool numeric = !d.empty() && d.find_first_not_of("0123456789") == std::string::npos;
            if (numeric) {
                dims.push_back(std::stoll(d));
            } else {
                dims.push_back(d);
            }
        }
        j["shape"] = dims;
    } else {
        j["shape"] = nullptr;
    }
    return j;
}

} // namespace

ModelReport describe_model(const LoadedModel& model) {
    const auto& m = model.proto;
    ModelReport r;
    r.path = model.path.string();
    r.file_size = model.file_size;
    r.sha256 = model.sha256;
    r.ir_version = m.ir_version();
    for (const auto& op : m.opset_import()) {
        r.opset_imports[op.domain() == "ai.onnx" ? "" : op.domain()] = op.version();
    }
    r.producer_name = m.producer_name();
    r.producer_version = m.producer_version();
    r.domain = m.domain();
    r.model_version = m.model_version();
    r.doc_string = m.doc_string();
    r.graph_name = m.graph().name();
    std::set<std::string> init_names;
    for (const auto& t : m.graph().initializer()) {
        init_names.insert(t.name());
    }
    for (const auto& in : m.graph().input()) {
        // IR < 4 lists initializers among the inputs; they are weights, not inputs a caller feeds.
        if (!init_names.contains(in.name())) {
            r.inputs.push_back(signature_of(in));
        }
    }
    for (const auto& out : m.graph().output()) {
        r.outputs.push_back(signature_of(out));
    }
    count_graph(m.graph(), r);
    for (const auto& kv : m.metadata_props()) {
        r.metadata[kv.key()] = kv.value();
    }
    r.external_data = external_data_refs(m);
    return r;
}

Result<ModelReport> inspect_model(const std::filesystem::path& path, const InspectOptions& options) {
    EDGESHIP_TRY_ASSIGN(auto loaded, load_model(path));
    ModelReport r = describe_model(loaded);
    r.findings = check_model(loaded, options.strict_shapes);
    return r;
}

std::string format_signature(const TensorSignature& s) {
    std::string out = s.kind == "tensor" ? s.elem_type : s.kind + "<" + s.elem_type + ">";
    if (s.has_shape) {
        out += "[";
        for (std::size_t i = 0; i < s.dims.size(); ++i) {
            out += (i != 0 ? "," : "") + s.dims[i];
        }
        out += "]";
    }
    return out;
}

nlohmann::json report_to_json(const ModelReport& r) {
    nlohmann::json j;
    j["path"] = r.path;
    j["file_size"] = r.file_size;
    j["sha256"] = r.sha256;
    j["ir_version"] = r.ir_version;
    nlohmann::json opsets = nlohmann::json::array();
    for (const auto& [domain, version] : r.opset_imports) {
        opsets.push_back({{"domain", domain.empty() ? "ai.onnx" : domain}, {"version", version}});
    }
    j["opset_imports"] = opsets;
    j["producer"] = {{"name", r.producer_name}, {"version", r.producer_version}};
    j["domain"] = r.domain;
    j["model_version"] = r.model_version;
    j["doc_string"] = r.doc_string;
    j["graph_name"] = r.graph_name;
    j["inputs"] = nlohmann::json::array();
    for (const auto& s : r.inputs) {
        j["inputs"].push_back(signature_json(s));
    }
    j["outputs"] = nlohmann::json::array();
    for (const auto& s : r.outputs) {
        j["outputs"].push_back(signature_json(s));
    }
    j["initializer_count"] = r.initializer_count;
    j["parameter_count"] = r.parameter_count;
    j["parameter_bytes"] = r.parameter_bytes;
    j["node_count"] = r.node_count;
    j["op_histogram"] = r.op_histogram;
    j["metadata_props"] = r.metadata;
    j["external_data"] = nlohmann::json::array();
    for (const auto& e : r.external_data) {
        nlohmann::json ej = {{"tensor", e.tensor}, {"location", e.location}, {"offset", e.offset}};
        ej["length"] = e.length < 0 ? nlohmann::json(nullptr) : nlohmann::json(e.length);
        j["external_data"].push_back(ej);
    }
    j["valid"] = r.valid();
    j["findings"] = nlohmann::json::array();
    for (const auto& f : r.findings) {
        j["findings"].push_back({{"stage", f.stage}, {"message", f.message}});
    }
    return j;
}

} // namespace edgeship::model
