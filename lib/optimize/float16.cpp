#include "optimize/float16.hpp"

#include "optimize/detail/graph_util.hpp"
#include "optimize/detail/tensor_data.hpp"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <cmath>
#include <functional>
#include <unordered_set>
#include <cstring>
#include <sstream>

namespace edgeship::optimize {

using detail::is_default_domain;
using T = onnx::TensorProto;

const std::set<std::string>& default_fp16_block_list() {
    // docs/design/onnx.md §10.4. The ai.onnx.ml domain is kept float32 as a whole (other domains too).
    static const std::set<std::string> list = {
        "ReduceMean",                                   // NaN/zeros in float16 (onnxconverter-common#323)
        "NonMaxSuppression", "RoiAlign", "TopK",        // float32-only kernels in ONNX Runtime CPU
        "Range", "CumSum", "Upsample", "Resize", "Min", "Max",
        "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", // dtype attributes
        "EyeLike", "Bernoulli", "Multinomial",
    };
    return list;
}

namespace {

enum class Want { none, dont_care, fp32, fp16 };

struct NodePlan {
    bool blocked = false;
    bool converted = false;
    bool touches_float = false;
    std::vector<Want> in;   // per input slot
    std::vector<bool> out16; // per output slot
};

struct Converter {
    onnx::ModelProto& model;
    const Fp16Options& options;
    Fp16Stats stats;
    std::unordered_map<std::string, int> types;
    std::vector<NodePlan> plans;
    std::set<std::string> pinned;
    std::unordered_map<std::string, bool> native16;  // float values only
    std::unordered_map<std::string, bool> is_float;
    bool nested = false;                              // converting an If/Loop/Scan body
    std::unordered_set<std::string> reserved;         // names of enclosing scopes
    bool converted_here = false;                      // this graph's own nodes (not its bodies) compute in float16

    const onnx::OpSchema* schema_of(const onnx::NodeProto& n, std::int64_t opset) const {
        return onnx::OpSchemaRegistry::Schema(n.op_type(), static_cast<int>(opset), "");
    }

    static bool allows_fp16(const onnx::OpSchema& s, const std::string& type_str) {
        for (const auto& tc : s.typeConstraintParams()) {
            if (tc.type_param_str == type_str) {
                for (const auto& a : tc.allowed_type_strs) {
                    if (a == "tensor(float16)") {
                        return true;
                    }
                }
                return false;
            }
        }
        return false; // a fixed type such as tensor(float): stays as it is
    }

    static const onnx::OpSchema::FormalParameter* formal(const std::vector<onnx::OpSchema::FormalParameter>& params,
                                                           int i) {
        if (i < static_cast<int>(params.size())) {
            return &params[static_cast<std::size_t>(i)];
        }
        if (!params.empty() && params.back().GetOption() == onnx::OpSchema::Variadic) {
            return &params.back();
        }
        return nullptr;
    }

    int type_of(const std::string& name) const {
        auto it = types.find(name);
        return it == types.end() ? 0 : it->second;
    }

    NodePlan plan_node(const onnx::NodeProto& n, std::int64_t opset) {
        NodePlan p;
        p.in.assign(static_cast<std::size_t>(n.input_size()), Want::none);
        p.out16.assign(static_cast<std::size_t>(n.output_size()), false);
        for (int i = 0; i < n.input_size(); ++i) {
            if (!n.input(i).empty() && type_of(n.input(i)) == T::FLOAT) {
                p.in[static_cast<std::size_t>(i)] = Want::fp32;
                p.touches_float = true;
            }
        }
        for (const auto& o : n.output()) {
            if (type_of(o) == T::FLOAT) {
                p.touches_float = true;
            }
        }
        const onnx::OpSchema* schema = nullptr;
        p.blocked = !is_default_domain(n.domain()) || options.block_list.contains(n.op_type()) ||
                    detail::has_subgraph(n) || (schema = schema_of(n, opset)) == nullptr;
        if (p.blocked || n.op_type() == "Constant") {
            return p; // Constant is a source: decided with the initializers
        }
        if (n.op_type() == "Cast") {
            if (n.input_size() >= 1 && !n.input(0).empty()) {
                p.in[0] = Want::dont_care; // Cast takes any type; its input stays as produced
            }
            if (n.output_size() == 1 && detail::attr_int(n, "to", 0) == T::FLOAT) {
                p.out16[0] = true; // Cast(to=FLOAT) becomes Cast(to=FLOAT16) (onnxconverter-common#320)
                p.converted = true;
            }
            return p;
        }
        if (n.op_type() == "ConstantOfShape") {
            const auto* v = detail::find_attr(n, "value");
            if (n.output_size() == 1 && (v == nullptr || v->t().data_type() == T::FLOAT)) {
                p.out16[0] = true;
                p.converted = true;
                p.touches_float = true;
            }
            return p;
        }
        const auto& ins = schema->inputs();
        const auto& outs = schema->outputs();
        // Group the actual inputs by their type constraint: a group holding a float input converts
        // as a whole, since all members must share one type.
        std::map<std::string, std::vector<int>> groups;
        for (int i = 0; i < n.input_size(); ++i) {
            const auto* f = formal(ins, i);
            if (f != nullptr && !n.input(i).empty()) {
                groups[f->GetTypeStr()].push_back(i);
            }
        }
        for (const auto& [type_str, members] : groups) {
            bool has_float = false;
            for (int i : members) {
                has_float = has_float || type_of(n.input(i)) == T::FLOAT;
            }
            if (!has_float || !allows_fp16(*schema, type_str)) {
                continue;
            }
            bool feeds_output = false;
            for (int o = 0; o < n.output_size(); ++o) {
                const auto* f = formal(outs, o);
                if (f != nullptr && f->GetTypeStr() == type_str && !n.output(o).empty()) {
                    int t = type_of(n.output(o));
                    if (t == 0 || t == T::FLOAT) {
                        p.out16[static_cast<std::size_t>(o)] = true;
                        feeds_output = true;
                    }
                }
            }
            if (!feeds_output && members.size() == 1) {
                // Shape, Size…: any float type is fine and nothing downstream depends on it.
                p.in[static_cast<std::size_t>(members[0])] = Want::dont_care;
                continue;
            }
            for (int i : members) {
                p.in[static_cast<std::size_t>(i)] = Want::fp16;
                is_float[n.input(i)] = true;
            }
            p.converted = true;
        }
        return p;
    }

    std::uint16_t to_half(float v) {
        if (std::isfinite(v)) {
            float a = std::fabs(v);
            if (a > options.max_finite) {
                v = std::copysign(options.max_finite, v);
                ++stats.values_clipped;
            } else if (a > 0.0f && a < options.min_positive) {
                v = std::copysign(options.min_positive, v);
                ++stats.values_flushed;
            }
        }
        return detail::float_to_half(v);
    }

    Result<void> to_half_tensor(T& t) {
        std::string half;
        if (t.has_raw_data() && t.data_type() == T::FLOAT) {
            const std::string& raw = t.raw_data();
            std::size_t n = raw.size() / 4;
            if (n != detail::element_count(t) || raw.size() % 4 != 0) {
                return fail("tensor '" + t.name() + "': raw_data size does not match its dims");
            }
            half.resize(n * 2);
            const char* src = raw.data();
            char* dst = half.data();
            for (std::size_t i = 0; i < n; ++i) {
                float v;
                std::memcpy(&v, src + 4 * i, 4);
                std::uint16_t h = to_half(v);
                std::memcpy(dst + 2 * i, &h, 2);
            }
        } else {
            EDGESHIP_TRY_ASSIGN(auto values, detail::float_values(t));
            half.resize(values.size() * 2);
            for (std::size_t i = 0; i < values.size(); ++i) {
                std::uint16_t h = to_half(values[i]);
                std::memcpy(half.data() + 2 * i, &h, 2);
            }
        }
        detail::clear_data(t);
        t.set_data_type(T::FLOAT16);
        t.set_raw_data(std::move(half));
        ++stats.tensors_converted;
        return {};
    }

    // Constant: the value attribute (or value_float/value_floats) becomes a float16 tensor.
    Result<void> convert_constant(onnx::NodeProto& n) {
        for (auto& a : *n.mutable_attribute()) {
            if (a.name() == "value") {
                return to_half_tensor(*a.mutable_t());
            }
            if (a.name() == "value_float" || a.name() == "value_floats") {
                std::vector<float> vals = a.name() == "value_float"
                                              ? std::vector<float>{a.f()}
                                              : std::vector<float>(a.floats().begin(), a.floats().end());
                std::vector<std::int64_t> dims;
                if (a.name() == "value_floats") {
                    dims.push_back(static_cast<std::int64_t>(vals.size()));
                }
                onnx::AttributeProto repl;
                repl.set_name("value");
                repl.set_type(onnx::AttributeProto::TENSOR);
                *repl.mutable_t() = detail::make_float_tensor("", dims, vals);
                a = std::move(repl);
                return to_half_tensor(*a.mutable_t());
            }
        }
        return fail("Constant node '" + n.name() + "' has no float value attribute");
    }

    void merge(const Fp16Stats& s) {
        stats.nodes_fp16 += s.nodes_fp16;
        stats.nodes_fp32 += s.nodes_fp32;
        for (const auto& [op, k] : s.kept_ops) {
            stats.kept_ops[op] += k;
        }
        stats.casts_added += s.casts_added;
        stats.tensors_converted += s.tensors_converted;
        stats.values_clipped += s.values_clipped;
        stats.values_flushed += s.values_flushed;
        stats.subgraphs_fp16 += s.subgraphs_fp16;
        stats.subgraphs_fp32 += s.subgraphs_fp32;
    }

    // One If/Loop/Scan body, converted as a model of its own: the values it reads from enclosing
    // scopes become extra graph inputs (float32, pinned like every graph input and output), so the
    // body's boundary keeps its types and the node that owns it needs no change. The extra inputs
    // are removed afterwards.
    // Type and shape of every value of this graph that lenient shape inference can find (the checker
    // needs shapes on graph inputs, so a body's outer values need them too).
    std::unordered_map<std::string, onnx::TypeProto> scope_types() const {
        std::unordered_map<std::string, onnx::TypeProto> out;
        onnx::ModelProto sk = detail::skeleton(model);
        try {
            onnx::ShapeInferenceOptions opts{false, 0, false};
            onnx::shape_inference::InferShapes(sk, onnx::OpSchemaRegistry::Instance(), opts);
        } catch (const std::exception&) {
            // Lenient: the declared types remain.
        }
        const auto& g = sk.graph();
        for (const auto* list : {&g.input(), &g.output(), &g.value_info()}) {
            for (const auto& v : *list) {
                out.emplace(v.name(), v.type());
            }
        }
        for (const auto& t : g.initializer()) {
            onnx::TypeProto tp;
            tp.mutable_tensor_type()->set_elem_type(t.data_type());
            auto* shape = tp.mutable_tensor_type()->mutable_shape();
            for (auto d : t.dims()) {
                shape->add_dim()->set_dim_value(d);
            }
            out.emplace(t.name(), std::move(tp));
        }
        return out;
    }

    Result<void> convert_body(onnx::GraphProto& body, const std::string& owner,
                              const std::unordered_map<std::string, onnx::TypeProto>& scope, const core::Logger& log) {
        std::set<std::string> defined, used;
        std::function<void(const onnx::GraphProto&)> walk = [&](const onnx::GraphProto& gr) {
            for (const auto& v : gr.input()) {
                defined.insert(v.name());
            }
            for (const auto& t : gr.initializer()) {
                defined.insert(t.name());
            }
            for (const auto& n : gr.node()) {
                for (const auto& o : n.output()) {
                    defined.insert(o);
                }
                for (const auto& i : n.input()) {
                    used.insert(i);
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
            for (const auto& o : gr.output()) {
                used.insert(o.name());
            }
        };
        walk(body);
        auto keep = [&](const std::string& why) {
            ++stats.subgraphs_fp32;
            log.debug("fp16: the body of " + owner + " stays float32: " + why);
        };
        std::vector<std::pair<std::string, const onnx::TypeProto*>> outer;
        for (const auto& name : used) {
            if (name.empty() || defined.contains(name)) {
                continue;
            }
            auto it = scope.find(name);
            if (it == scope.end() || (it->second.has_tensor_type() && !it->second.tensor_type().has_shape())) {
                keep("the type or rank of the outer value '" + name + "' is unknown");
                return {};
            }
            outer.emplace_back(name, &it->second);
        }
        std::unordered_set<std::string> names = reserved;
        const detail::NameScope here(model.graph());
        names.insert(here.used().begin(), here.used().end());

        onnx::ModelProto wrapper;
        wrapper.set_ir_version(model.ir_version());
        *wrapper.mutable_opset_import() = model.opset_import();
        wrapper.mutable_graph()->Swap(&body);
        auto restore = [&]() {
            for (std::size_t k = 0; k < outer.size(); ++k) {
                wrapper.mutable_graph()->mutable_input()->RemoveLast();
            }
            body.Swap(wrapper.mutable_graph());
        };
        for (const auto& [name, type] : outer) {
            auto* in = wrapper.mutable_graph()->add_input();
            in->set_name(name);
            *in->mutable_type() = *type;
        }
        if (std::string problem = detail::validation_problem(wrapper); !problem.empty()) {
            restore();
            keep("as a graph of its own it does not validate (" + problem + ")");
            return {};
        }
        Converter inner{wrapper, options, {}, {}, {}, {}, {}, {}, true, std::move(names), false};
        auto r = inner.run(log);
        restore();
        if (!r) {
            return unexpected(std::move(r).error().context("the body of " + owner));
        }
        merge(*r);
        if (inner.converted_here) {
            ++stats.subgraphs_fp16;
        } else {
            ++stats.subgraphs_fp32;
        }
        return {};
    }

    Result<void> convert_bodies(const core::Logger& log) {
        bool any_body = false;
        for (const auto& n : model.graph().node()) {
            any_body = any_body || detail::has_subgraph(n);
        }
        if (!any_body) {
            return {}; // no extra shape inference for the common case
        }
        const auto scope = scope_types();
        auto& g = *model.mutable_graph();
        for (int k = 0; k < g.node_size(); ++k) {
            auto& n = *g.mutable_node(k);
            if (!detail::has_subgraph(n) || !is_default_domain(n.domain()) || options.block_list.contains(n.op_type())) {
                continue;
            }
            const std::string owner = detail::describe_node(n, static_cast<std::size_t>(k));
            for (auto& a : *n.mutable_attribute()) {
                if (a.has_g()) {
                    EDGESHIP_TRY(convert_body(*a.mutable_g(), owner, scope, log));
                }
                for (auto& sub : *a.mutable_graphs()) {
                    EDGESHIP_TRY(convert_body(sub, owner, scope, log));
                }
            }
        }
        return {};
    }

    Result<Fp16Stats> run(const core::Logger& log) {
        auto& g = *model.mutable_graph();
        for (const auto& t : g.initializer()) {
            if (t.data_location() == T::EXTERNAL) {
                return fail("tensor '" + t.name() + "': external data must be loaded before the float16 pass");
            }
        }
        std::string before = detail::validation_problem(model);
        std::int64_t opset = detail::default_opset(model);
        types = detail::value_types(model);
        for (const auto& [name, t] : types) {
            if (t == T::FLOAT) {
                is_float[name] = true;
                native16[name] = false; // graph inputs and anything not converted below
            }
        }
        for (const auto& o : g.output()) {
            pinned.insert(o.name());
        }
        for (const auto& i : g.input()) {
            pinned.insert(i.name());
        }
        for (const auto& s : detail::names_used_by_subgraphs(g)) {
            pinned.insert(s);
        }
        // Bodies first: they keep their boundary types, so the plan of this graph does not depend on
        // them, and the Casts they add are named before this graph picks its own names.
        EDGESHIP_TRY(convert_bodies(log));

        plans.reserve(static_cast<std::size_t>(g.node_size()));
        for (const auto& n : g.node()) {
            plans.push_back(plan_node(n, opset));
        }
        // Which consumers vote on each value's precision (dont_care and non-float slots abstain).
        std::unordered_map<std::string, std::pair<int, int>> votes; // name -> (fp16 votes, fp32 votes)
        for (std::size_t k = 0; k < plans.size(); ++k) {
            const auto& n = g.node(static_cast<int>(k));
            for (int i = 0; i < n.input_size(); ++i) {
                Want w = plans[k].in[static_cast<std::size_t>(i)];
                if (w == Want::fp16) {
                    ++votes[n.input(i)].first;
                } else if (w == Want::fp32) {
                    ++votes[n.input(i)].second;
                }
            }
        }
        auto source_goes_fp16 = [&](const std::string& name) {
            auto it = votes.find(name);
            return !pinned.contains(name) && it != votes.end() && it->second.first > 0 && it->second.second == 0;
        };
        // Native precision of every float value.
        for (const auto& t : g.initializer()) {
            if (t.data_type() == T::FLOAT) {
                native16[t.name()] = source_goes_fp16(t.name());
            }
        }
        for (std::size_t k = 0; k < plans.size(); ++k) {
            const auto& n = g.node(static_cast<int>(k));
            auto& p = plans[k];
            if (!p.blocked && n.op_type() == "Constant" && n.output_size() == 1 && type_of(n.output(0)) == T::FLOAT) {
                bool go = source_goes_fp16(n.output(0));
                p.out16[0] = go;
                p.converted = go;
                p.touches_float = true;
            }
            for (int o = 0; o < n.output_size(); ++o) {
                if (p.out16[static_cast<std::size_t>(o)]) {
                    native16[n.output(o)] = true;
                    is_float[n.output(o)] = true;
                } else if (is_float.contains(n.output(o))) {
                    native16[n.output(o)] = false;
                }
            }
            if (p.converted) {
                ++stats.nodes_fp16;
            } else if (p.touches_float) {
                ++stats.nodes_fp32;
                std::string op = is_default_domain(n.domain()) ? n.op_type() : n.domain() + "." + n.op_type();
                ++stats.kept_ops[op];
            }
        }
        bool any_fp16 = false;
        for (const auto& p : plans) {
            if (p.converted && p.touches_float) {
                any_fp16 = true;
            }
        }
        converted_here = any_fp16;
        if (!any_fp16 && (nested || stats.subgraphs_fp16 > 0)) {
            return stats; // nothing to do at this level (a body without float16-capable ops is fine)
        }
        if (!any_fp16) {
            std::ostringstream kept;
            bool first = true;
            for (const auto& [op, count] : stats.kept_ops) {
                kept << (first ? "" : ", ") << op << " x" << count;
                first = false;
            }
            return unexpected(Error("no op in this model can compute in float16" +
                                    (stats.kept_ops.empty() ? std::string(" (it has no float tensors)")
                                                            : " (kept in float32: " + kept.str() + ")"))
                                  .hint("float16 suits MatMul/Gemm/Conv networks; ai.onnx.ml tree ops have no "
                                        "float16 form, and --fp16-allow OP lifts a default block"));
        }

        // Rebuild the node list with Casts where a consumer wants the other precision.
        detail::NameScope names(g);
        names.reserve(reserved);
        std::map<std::pair<std::string, bool>, std::string> version; // (value, fp16?) -> name holding it
        auto native_name = [&](const std::string& x) -> std::string {
            auto key = std::make_pair(x, native16[x]);
            if (auto it = version.find(key); it != version.end()) {
                return it->second;
            }
            std::string nm = (native16[x] && pinned.contains(x)) ? names.make(x + "_fp16") : x;
            version[key] = nm;
            if (native16[x] && pinned.contains(x)) {
                version[{x, false}] = x; // the pinned float32 name is restored by a Cast after the producer
            }
            return nm;
        };
        google::protobuf::RepeatedPtrField<onnx::NodeProto> rebuilt;
        rebuilt.Reserve(g.node_size() + 16);
        auto add_cast = [&](const std::string& from, const std::string& to, bool to16) {
            auto* c = rebuilt.Add();
            c->set_op_type("Cast");
            c->set_name(names.make(to + "_cast"));
            c->add_input(from);
            c->add_output(to);
            auto* a = c->add_attribute();
            a->set_name("to");
            a->set_type(onnx::AttributeProto::INT);
            a->set_i(to16 ? T::FLOAT16 : T::FLOAT);
            ++stats.casts_added;
        };
        auto get = [&](const std::string& x, bool want16) -> std::string {
            std::string nat = native_name(x);
            if (native16[x] == want16) {
                return nat;
            }
            auto key = std::make_pair(x, want16);
            if (auto it = version.find(key); it != version.end()) {
                return it->second;
            }
            std::string nm = names.make(x + (want16 ? "_fp16" : "_fp32"));
            add_cast(nat, nm, want16);
            version[key] = nm;
            return nm;
        };

        for (std::size_t k = 0; k < plans.size(); ++k) {
            onnx::NodeProto n = std::move(*g.mutable_node(static_cast<int>(k)));
            const auto& p = plans[k];
            for (int i = 0; i < n.input_size(); ++i) {
                const std::string x = n.input(i);
                if (x.empty() || !is_float[x] || !native16.contains(x)) {
                    continue;
                }
                Want w = p.in[static_cast<std::size_t>(i)];
                if (w == Want::dont_care) {
                    n.set_input(i, native_name(x));
                } else {
                    // fp32 also covers float values this node cannot take in float16 (blocked ops,
                    // fixed tensor(float) inputs such as Resize scales).
                    n.set_input(i, get(x, w == Want::fp16));
                }
            }
            if (p.converted && n.op_type() == "Cast") {
                for (auto& a : *n.mutable_attribute()) {
                    if (a.name() == "to") {
                        a.set_i(T::FLOAT16);
                    }
                }
            } else if (p.converted && n.op_type() == "Constant") {
                EDGESHIP_TRY(convert_constant(n));
            } else if (p.converted && n.op_type() == "ConstantOfShape") {
                auto* v = const_cast<onnx::AttributeProto*>(detail::find_attr(n, "value"));
                if (v == nullptr) {
                    v = n.add_attribute();
                    v->set_name("value");
                    v->set_type(onnx::AttributeProto::TENSOR);
                    float zero = 0.0f;
                    *v->mutable_t() = detail::make_float_tensor("", {1}, std::span<const float>(&zero, 1));
                }
                EDGESHIP_TRY(to_half_tensor(*v->mutable_t()));
            }
            std::vector<std::pair<std::string, std::string>> restore; // (fp16 name, pinned fp32 name)
            for (int o = 0; o < n.output_size(); ++o) {
                const std::string x = n.output(o);
                if (p.out16[static_cast<std::size_t>(o)] && pinned.contains(x)) {
                    std::string nat = native_name(x);
                    n.set_output(o, nat);
                    restore.emplace_back(nat, x);
                }
            }
            *rebuilt.Add() = std::move(n);
            for (const auto& [from, to] : restore) {
                add_cast(from, to, false);
            }
        }
        g.mutable_node()->Swap(&rebuilt);

        for (auto& t : *g.mutable_initializer()) {
            if (t.data_type() == T::FLOAT && native16[t.name()]) {
                EDGESHIP_TRY(to_half_tensor(t));
            }
        }
        for (auto& vi : *g.mutable_value_info()) {
            if (native16.contains(vi.name()) && native16[vi.name()] && vi.type().has_tensor_type()) {
                vi.mutable_type()->mutable_tensor_type()->set_elem_type(T::FLOAT16);
                vi.set_name(native_name(vi.name()));
            }
        }

        std::string after = detail::validation_problem(model);
        if (before.empty() && !after.empty()) {
            return fail("the float16 pass produced an invalid model (" + after + "); this is a bug in edgeship");
        }
        log.debug("fp16: " + std::to_string(stats.nodes_fp16) + " nodes in float16, " +
                  std::to_string(stats.nodes_fp32) + " kept float32, " + std::to_string(stats.casts_added) +
                  " casts added");
        return stats;
    }
};

} // namespace

Result<Fp16Stats> convert_to_float16(onnx::ModelProto& model, const Fp16Options& options, const core::Logger& log) {
    Converter c{model, options, {}, {}, {}, {}, {}, {}, false, {}, false};
    return c.run(log);
}

} // namespace edgeship::optimize
