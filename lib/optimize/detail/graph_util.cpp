#include "optimize/detail/graph_util.hpp"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <functional>

namespace edgeship::optimize::detail {

NameScope::NameScope(const onnx::GraphProto& g) {
    std::function<void(const onnx::GraphProto&)> walk = [&](const onnx::GraphProto& gr) {
        for (const auto& v : gr.input()) {
            m_used.insert(v.name());
        }
        for (const auto& v : gr.output()) {
            m_used.insert(v.name());
        }
        for (const auto& v : gr.value_info()) {
            m_used.insert(v.name());
        }
        for (const auto& t : gr.initializer()) {
            m_used.insert(t.name());
        }
        for (const auto& n : gr.node()) {
            m_used.insert(n.name());
            for (const auto& o : n.output()) {
                m_used.insert(o);
            }
            for (const auto& i : n.input()) {
                m_used.insert(i);
            }
            for (const auto& a : n.attribute()) {
                if (a.has_g()) {
                    walk(a.g());
                }
                for (const auto& sub : a.graphs()) {
                    walk(sub);
                }
            }
        }
    };
    walk(g);
}

std::string NameScope::make(const std::string& base) {
    std::string name = base;
    for (int i = 1; m_used.contains(name); ++i) {
        name = base + "_" + std::to_string(i);
    }
    m_used.insert(name);
    return name;
}

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

std::int64_t default_opset(const onnx::ModelProto& m) {
    for (const auto& op : m.opset_import()) {
        if (is_default_domain(op.domain())) {
            return op.version();
        }
    }
    return 0;
}

onnx::ModelProto skeleton(const onnx::ModelProto& m) {
    onnx::ModelProto out;
    // Copy everything but the main graph's initializers, then add those back: small ones and integer
    // ones whole (shape inference reads Reshape shapes, Slice starts…), large float ones with dims but
    // an empty raw_data. Copying the weights of a 100 MB model just to check it would cost as much as
    // the pass itself.
    auto& mm = const_cast<onnx::ModelProto&>(m);
    google::protobuf::RepeatedPtrField<onnx::TensorProto> inits;
    inits.Swap(mm.mutable_graph()->mutable_initializer());
    out = m;
    inits.Swap(mm.mutable_graph()->mutable_initializer());
    using T = onnx::TensorProto;
    for (const auto& t : m.graph().initializer()) {
        bool bulky_float = (t.data_type() == T::FLOAT || t.data_type() == T::FLOAT16 || t.data_type() == T::DOUBLE ||
                            t.data_type() == T::INT8 || t.data_type() == T::UINT8) &&
                           t.ByteSizeLong() > 4096;
        if (!bulky_float) {
            *out.mutable_graph()->add_initializer() = t;
            continue;
        }
        auto* c = out.mutable_graph()->add_initializer();
        c->set_name(t.name());
        c->set_data_type(t.data_type());
        c->mutable_dims()->CopyFrom(t.dims());
        c->set_raw_data("");
    }
    return out;
}

std::unordered_map<std::string, int> value_types(const onnx::ModelProto& m) {
    std::unordered_map<std::string, int> types;
    auto add_vi = [&](const onnx::ValueInfoProto& v) {
        if (v.type().has_tensor_type() && v.type().tensor_type().elem_type() != 0) {
            types[v.name()] = v.type().tensor_type().elem_type();
        }
    };
    const auto& g = m.graph();
    for (const auto& t : g.initializer()) {
        types[t.name()] = t.data_type();
    }
    for (const auto& v : g.input()) {
        add_vi(v);
    }
    for (const auto& v : g.output()) {
        add_vi(v);
    }
    for (const auto& v : g.value_info()) {
        add_vi(v);
    }
    for (const auto& n : g.node()) {
        if (n.op_type() == "Constant" && is_default_domain(n.domain()) && n.output_size() == 1) {
            for (const auto& a : n.attribute()) {
                if (a.name() == "value") {
                    types[n.output(0)] = a.t().data_type();
                } else if (a.name() == "value_float" || a.name() == "value_floats") {
                    types[n.output(0)] = onnx::TensorProto::FLOAT;
                } else if (a.name() == "value_int" || a.name() == "value_ints") {
                    types[n.output(0)] = onnx::TensorProto::INT64;
                }
            }
        }
    }
    onnx::ModelProto sk = skeleton(m);
    try {
        onnx::ShapeInferenceOptions opts{false, 0, false};
        onnx::shape_inference::InferShapes(sk, onnx::OpSchemaRegistry::Instance(), opts);
        for (const auto& v : sk.graph().value_info()) {
            if (!types.contains(v.name())) {
                add_vi(v);
            }
        }
    } catch (const std::exception&) {
        // Lenient: whatever was inferred before the failure is lost; the declared types remain.
    }
    return types;
}

bool has_subgraph(const onnx::NodeProto& n) {
    for (const auto& a : n.attribute()) {
        if (a.has_g() || a.graphs_size() > 0) {
            return true;
        }
    }
    return false;
}

std::set<std::string> names_used_by_subgraphs(const onnx::GraphProto& g) {
    std::set<std::string> names;
    std::function<void(const onnx::GraphProto&)> walk = [&](const onnx::GraphProto& sub) {
        for (const auto& n : sub.node()) {
            for (const auto& i : n.input()) {
                names.insert(i);
            }
            for (const auto& a : n.attribute()) {
                if (a.has_g()) {
                    walk(a.g());
                }
                for (const auto& s : a.graphs()) {
                    walk(s);
                }
            }
        }
    };
    for (const auto& n : g.node()) {
        for (const auto& a : n.attribute()) {
            if (a.has_g()) {
                walk(a.g());
            }
            for (const auto& s : a.graphs()) {
                walk(s);
            }
        }
    }
    return names;
}

namespace {
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
} // namespace

std::string validation_problem(const onnx::ModelProto& m) {
    onnx::ModelProto sk = skeleton(m);
    try {
        onnx::checker::check_model(sk);
    } catch (const std::exception& e) {
        return "checker: " + first_line(e.what());
    }
    try {
        onnx::ShapeInferenceOptions opts{true, 1, false};
        onnx::shape_inference::InferShapes(sk, onnx::OpSchemaRegistry::Instance(), opts);
    } catch (const std::exception& e) {
        return "shape inference: " + first_line(e.what());
    }
    return "";
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name) {
    for (const auto& a : n.attribute()) {
        if (a.name() == name) {
            return &a;
        }
    }
    return nullptr;
}

std::int64_t attr_int(const onnx::NodeProto& n, const std::string& name, std::int64_t fallback) {
    const auto* a = find_attr(n, name);
    return a != nullptr ? a->i() : fallback;
}

float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback) {
    const auto* a = find_attr(n, name);
    return a != nullptr ? a->f() : fallback;
}

std::vector<std::int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name) {
    const auto* a = find_attr(n, name);
    if (a == nullptr) {
        return {};
    }
    return {a->ints().begin(), a->ints().end()};
}

std::string attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& fallback) {
    const auto* a = find_attr(n, name);
    return a != nullptr ? a->s() : fallback;
}

std::string describe_node(const onnx::NodeProto& n, std::size_t index) {
    std::string op = is_default_domain(n.domain()) ? n.op_type() : n.domain() + "." + n.op_type();
    if (!n.name().empty()) {
        return op + " '" + n.name() + "'";
    }
    return op + " (node " + std::to_string(index) + ")";
}

} // namespace edgeship::optimize::detail
