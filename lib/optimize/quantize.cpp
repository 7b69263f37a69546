#include "optimize/quantize.hpp"

#include "optimize/detail/graph_util.hpp"
#include "optimize/detail/tensor_data.hpp"
#include "optimize/evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgeship::optimize {

using detail::attr_float;
using detail::attr_int;
using TP = onnx::TensorProto;

Result<QuantizeMode> parse_quantize_mode(std::string_view text) {
    if (text == "dynamic-int8") {
        return QuantizeMode::dynamic_int8;
    }
    if (text == "static-int8") {
        return QuantizeMode::static_int8;
    }
    if (text == "none") {
        return QuantizeMode::none;
    }
    return fail("unknown quantize mode '" + std::string(text) + "' (supported: dynamic-int8, static-int8)");
}

std::string to_string(QuantizeMode mode) {
    switch (mode) {
    case QuantizeMode::dynamic_int8: return "dynamic-int8";
    case QuantizeMode::static_int8: return "static-int8";
    case QuantizeMode::none: break;
    }
    return "none";
}

namespace {

struct QuantizedWeight {
    std::vector<std::int8_t> q;
    std::vector<float> scale; ///< 1 (per tensor) or one per channel
};

// Symmetric int8 (zero point 0, range ±127) per tensor or per slice along `axis` of a tensor of `dims`.
QuantizedWeight quantize_weight(const std::vector<float>& w, const std::vector<std::int64_t>& dims, int axis,
                                PerChannel per_channel) {
    QuantizedWeight out;
    std::int64_t channels = per_channel == PerChannel::yes ? dims[static_cast<std::size_t>(axis)] : 1;
    std::int64_t inner = 1;
    for (std::size_t k = static_cast<std::size_t>(axis) + 1; k < dims.size(); ++k) {
        inner *= dims[k];
    }
    auto channel_of = [&](std::size_t e) -> std::size_t {
        return channels == 1 ? 0 : static_cast<std::size_t>((static_cast<std::int64_t>(e) / inner) % channels);
    };
    std::vector<float> amax(static_cast<std::size_t>(channels), 0.0f);
    for (std::size_t e = 0; e < w.size(); ++e) {
        auto& a = amax[channel_of(e)];
        a = std::max(a, std::fabs(w[e]));
    }
    out.scale.resize(amax.size());
    for (std::size_t c = 0; c < amax.size(); ++c) {
        out.scale[c] = amax[c] > 0.0f ? amax[c] / 127.0f : 1.0f;
    }
    out.q.resize(w.size());
    for (std::size_t e = 0; e < w.size(); ++e) {
        float v = std::nearbyint(w[e] / out.scale[channel_of(e)]);
        out.q[e] = static_cast<std::int8_t>(std::clamp(v, -127.0f, 127.0f));
    }
    return out;
}

std::vector<float> transpose2d(const std::vector<float>& w, std::int64_t rows, std::int64_t cols) {
    std::vector<float> t(w.size());
    for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t c = 0; c < cols; ++c) {
            t[static_cast<std::size_t>(c * rows + r)] = w[static_cast<std::size_t>(r * cols + c)];
        }
    }
    return t;
}

onnx::NodeProto make_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                          std::vector<std::string> outputs) {
    onnx::NodeProto n;
    n.set_op_type(op);
    n.set_name(name);
    for (auto& i : inputs) {
        n.add_input(std::move(i));
    }
    for (auto& o : outputs) {
        n.add_output(std::move(o));
    }
    return n;
}

void set_int_attr(onnx::NodeProto& n, const std::string& name, std::int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
}

struct Graph {
    onnx::GraphProto& g;
    std::unordered_map<std::string, int> init_index;
    std::unordered_map<std::string, int> types;

    Graph(onnx::ModelProto& m) : g(*m.mutable_graph()), types(detail::value_types(m)) {
        for (int k = 0; k < g.initializer_size(); ++k) {
            init_index[g.initializer(k).name()] = k;
        }
    }
    const TP* init(const std::string& name) const {
        auto it = init_index.find(name);
        return it == init_index.end() ? nullptr : &g.initializer(it->second);
    }
    bool is_float_value(const std::string& name) const {
        auto it = types.find(name);
        return it != types.end() && it->second == TP::FLOAT;
    }
    // A constant float weight of the given rank (rank 0 = any rank >= 3).
    const TP* float_weight(const onnx::NodeProto& n, int slot, int rank) const {
        if (slot >= n.input_size()) {
            return nullptr;
        }
        const TP* t = init(n.input(slot));
        if (t == nullptr || t->data_type() != TP::FLOAT) {
            return nullptr;
        }
        if (rank > 0 ? t->dims_size() != rank : t->dims_size() < 3) {
            return nullptr;
        }
        return t;
    }
    // Drops float initializers that no node reads any more (the weights just replaced by int8 copies).
    void drop_unused(const std::set<std::string>& candidates) {
        std::set<std::string> used;
        for (const auto& n : g.node()) {
            used.insert(n.input().begin(), n.input().end());
        }
        for (const auto& s : detail::names_used_by_subgraphs(g)) {
            used.insert(s);
        }
        for (const auto& o : g.output()) {
            used.insert(o.name());
        }
        google::protobuf::RepeatedPtrField<TP> kept;
        for (auto& t : *g.mutable_initializer()) {
            if (!candidates.contains(t.name()) || used.contains(t.name())) {
                *kept.Add() = std::move(t);
            }
        }
        g.mutable_initializer()->Swap(&kept);
    }
};

Result<void> need_opset(const onnx::ModelProto& m, std::int64_t min, const std::string& what) {
    std::int64_t have = detail::default_opset(m);
    if (have < min) {
        return unexpected(Error(what + " needs ai.onnx opset " + std::to_string(min) + " or newer; the model has " +
                                std::to_string(have))
                              .hint("add --opset 13 to convert the model first"));
    }
    return {};
}

} // namespace

Result<QuantizeStats> quantize_dynamic(onnx::ModelProto& model, PerChannel per_channel, const core::Logger& log) {
    EDGESHIP_TRY(need_opset(model, 11, "dynamic-int8 (DynamicQuantizeLinear)"));
    QuantizeStats stats;
    stats.mode = QuantizeMode::dynamic_int8;
    stats.per_channel = per_channel;
    Graph G(model);
    detail::NameScope names(G.g);
    struct ActQ {
        std::string q, scale, zp;
    };
    struct WQ {
        std::string q, scale, zp;
    };
    std::map<std::string, ActQ> act;
    std::map<std::pair<std::string, bool>, WQ> weights; // (initializer, transposed)
    std::set<std::string> replaced;
    std::vector<TP> new_inits;
    google::protobuf::RepeatedPtrField<onnx::NodeProto> rebuilt;

    for (int k = 0; k < G.g.node_size(); ++k) {
        onnx::NodeProto& n = *G.g.mutable_node(k);
        bool is_matmul = n.op_type() == "MatMul" && detail::is_default_domain(n.domain());
        bool is_gemm = n.op_type() == "Gemm" && detail::is_default_domain(n.domain()) && attr_int(n, "transA", 0) == 0;
        const TP* w = (is_matmul || is_gemm) ? G.float_weight(n, 1, 2) : nullptr;
        if (w == nullptr || n.input_size() < 2 || !G.is_float_value(n.input(0))) {
            *rebuilt.Add() = std::move(n);
            continue;
        }
        bool trans = is_gemm && attr_int(n, "transB", 0) != 0;
        float alpha = is_gemm ? attr_float(n, "alpha", 1.0f) : 1.0f;
        float beta = is_gemm ? attr_float(n, "beta", 1.0f) : 1.0f;
        const std::string a = n.input(0);
        const std::string wname = n.input(1);
        const std::string y = n.output(0);
        const std::string base = n.name().empty() ? y : n.name();

        if (!act.contains(a)) {
            ActQ q{names.make(a + "_quantized"), names.make(a + "_scale"), names.make(a + "_zero_point")};
            *rebuilt.Add() = make_node("DynamicQuantizeLinear", names.make(a + "_DynamicQuantizeLinear"), {a},
                                       {q.q, q.scale, q.zp});
            act[a] = q;
        }
        auto key = std::make_pair(wname, trans);
        if (!weights.contains(key)) {
            EDGESHIP_TRY_ASSIGN(auto values, detail::float_values(*w));
            std::int64_t r = w->dims(0), c = w->dims(1);
            std::vector<std::int64_t> dims = {r, c};
            if (trans) {
                values = transpose2d(values, r, c); // MatMulInteger wants B as [K, N]
                dims = {c, r};
            }
            auto qw = quantize_weight(values, dims, 1, per_channel);
            WQ wq{names.make(wname + "_quantized"), names.make(wname + "_scale"), names.make(wname + "_zero_point")};
            new_inits.push_back(detail::make_int8_tensor(wq.q, dims, qw.q));
            std::vector<std::int64_t> sdims;
            if (per_channel == PerChannel::yes) {
                sdims.push_back(dims[1]);
            }
            new_inits.push_back(detail::make_float_tensor(wq.scale, sdims, qw.scale));
            std::vector<std::int8_t> zeros(qw.scale.size(), 0);
            new_inits.push_back(detail::make_int8_tensor(wq.zp, sdims, zeros));
            weights[key] = wq;
            replaced.insert(wname);
            ++stats.weights_quantized;
        }
        const auto& wq = weights[key];
        const auto& aq = act[a];
        std::string mm = names.make(y + "_MatMulInteger");
        *rebuilt.Add() = make_node("MatMulInteger", names.make(base + "_MatMulInteger"), {aq.q, wq.q, aq.zp, wq.zp}, {mm});
        std::string mmf = names.make(y + "_float");
        auto cast = make_node("Cast", names.make(base + "_Cast"), {mm}, {mmf});
        set_int_attr(cast, "to", TP::FLOAT);
        *rebuilt.Add() = std::move(cast);
        std::string scale_in = wq.scale;
        if (alpha != 1.0f) {
            // Gemm's alpha folds into the weight scale (a per-node copy, since the weight may be shared).
            const TP* s = nullptr;
            for (const auto& t : new_inits) {
                if (t.name() == wq.scale) {
                    s = &t;
                }
            }
            EDGESHIP_TRY_ASSIGN(auto sv, detail::float_values(*s));
            for (auto& v : sv) {
                v *= alpha;
            }
            scale_in = names.make(wq.scale + "_alpha");
            new_inits.push_back(detail::make_float_tensor(scale_in, {s->dims().begin(), s->dims().end()}, sv));
        }
        std::string combined = names.make(y + "_scale");
        *rebuilt.Add() = make_node("Mul", names.make(base + "_scale_Mul"), {aq.scale, scale_in}, {combined});
        bool has_bias = is_gemm && n.input_size() >= 3 && !n.input(2).empty();
        std::string scaled = has_bias ? names.make(y + "_unbiased") : y;
        *rebuilt.Add() = make_node("Mul", names.make(base + "_Mul"), {mmf, combined}, {scaled});
        if (has_bias) {
            std::string c = n.input(2);
            if (beta != 1.0f) {
                const TP* ct = G.init(c);
                std::string cb = names.make(c + "_beta");
                if (ct != nullptr && ct->data_type() == TP::FLOAT) {
                    EDGESHIP_TRY_ASSIGN(auto cv, detail::float_values(*ct));
                    for (auto& v : cv) {
                        v *= beta;
                    }
                    new_inits.push_back(detail::make_float_tensor(cb, {ct->dims().begin(), ct->dims().end()}, cv));
                } else {
                    std::string bname = names.make(c + "_beta_value");
                    new_inits.push_back(detail::make_float_tensor(bname, {}, std::vector<float>{beta}));
                    *rebuilt.Add() = make_node("Mul", names.make(base + "_beta_Mul"), {c, bname}, {cb});
                }
                c = cb;
            }
            *rebuilt.Add() = make_node("Add", names.make(base + "_bias_Add"), {scaled, c}, {y});
        }
        ++stats.nodes_quantized;
        ++stats.quantized_ops[n.op_type()];
    }
    if (stats.nodes_quantized == 0) {
        return unexpected(Error("dynamic-int8: the model has no MatMul or Gemm with a constant float weight to quantize")
                              .hint("dynamic int8 quantizes MatMul/Gemm weights; Conv networks need static-int8"));
    }
    G.g.mutable_node()->Swap(&rebuilt);
    for (auto& t : new_inits) {
        *G.g.add_initializer() = std::move(t);
    }
    G.drop_unused(replaced);
    log.debug("dynamic-int8: " + std::to_string(stats.nodes_quantized) + " nodes, " +
              std::to_string(stats.weights_quantized) + " weights");
    return stats;
}

namespace {

struct ActParams {
    float scale = 1.0f;
    bool is_unsigned = false;
};

// docs/design/onnx.md §10.5: the range comes from the calibration data; non-negative ranges use uint8
// with zero point 0 (full resolution after Relu), ranges with negatives int8 symmetric.
ActParams activation_params(float lo, float hi) {
    ActParams p;
    if (lo >= 0.0f) {
        p.is_unsigned = true;
        p.scale = hi > 0.0f ? hi / 255.0f : 1.0f;
    } else {
        float amax = std::max(std::fabs(lo), std::fabs(hi));
        p.scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    }
    return p;
}

Tensor slice_rows(const Tensor& t, std::size_t from, std::size_t count) {
    Tensor out;
    out.dims = t.dims;
    out.dims[0] = static_cast<std::int64_t>(count);
    std::size_t per = t.f.size() / static_cast<std::size_t>(t.dims[0]);
    out.f.assign(t.f.begin() + static_cast<std::ptrdiff_t>(from * per),
                 t.f.begin() + static_cast<std::ptrdiff_t>((from + count) * per));
    return out;
}

} // namespace

Result<QuantizeStats> quantize_static(onnx::ModelProto& model, const CalibrationData& data, PerChannel per_channel,
                                      const core::Logger& log) {
    EDGESHIP_TRY(need_opset(model, per_channel == PerChannel::yes ? 13 : 10,
                            per_channel == PerChannel::yes ? "static-int8 --per-channel (per-axis DequantizeLinear)"
                                                           : "static-int8 (QuantizeLinear)"));
    QuantizeStats stats;
    stats.mode = QuantizeMode::static_int8;
    stats.per_channel = per_channel;
    stats.calibration_rows = data.rows;
    Graph G(model);

    struct Target {
        int node;
        int axis; ///< per-channel axis of the weight
    };
    std::vector<Target> targets;
    std::vector<std::string> activations;
    for (int k = 0; k < G.g.node_size(); ++k) {
        const auto& n = G.g.node(k);
        if (!detail::is_default_domain(n.domain()) || n.input_size() < 2 || !G.is_float_value(n.input(0))) {
            continue;
        }
        int axis = -1;
        if (n.op_type() == "MatMul" && G.float_weight(n, 1, 2) != nullptr) {
            axis = 1;
        } else if (n.op_type() == "Gemm" && G.float_weight(n, 1, 2) != nullptr) {
            axis = attr_int(n, "transB", 0) != 0 ? 0 : 1;
        } else if (n.op_type() == "Conv" && G.float_weight(n, 1, 0) != nullptr) {
            axis = 0;
        }
        if (axis < 0) {
            continue;
        }
        targets.push_back({k, axis});
        if (std::find(activations.begin(), activations.end(), n.input(0)) == activations.end()) {
            activations.push_back(n.input(0));
        }
    }
    if (targets.empty()) {
        return fail("static-int8: the model has no MatMul, Gemm or Conv with a constant float weight to quantize");
    }

    // MinMax calibration over the user's rows with the reference evaluator.
    auto created = Evaluator::create(model, activations);
    if (!created) {
        return unexpected(std::move(created).error().context("static-int8"));
    }
    const Evaluator& evaluator = *created;
    std::size_t chunk = 64;
    for (const auto& v : G.g.input()) {
        if (data.inputs.contains(v.name()) && v.type().tensor_type().shape().dim_size() > 0) {
            const auto& d0 = v.type().tensor_type().shape().dim(0);
            if (d0.has_dim_value() && d0.dim_value() > 0) {
                chunk = static_cast<std::size_t>(d0.dim_value());
                if (data.rows % chunk != 0) {
                    return fail(data.path.string() + ": " + std::to_string(data.rows) + " rows do not fill batches of " +
                                std::to_string(chunk) + " (input '" + v.name() + "' has a fixed batch size)");
                }
            }
        }
    }
    std::map<std::string, std::pair<float, float>> range;
    for (const auto& a : activations) {
        range[a] = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
    }
    for (std::size_t from = 0; from < data.rows; from += chunk) {
        std::size_t count = std::min(chunk, data.rows - from);
        std::map<std::string, Tensor> feed;
        for (const auto& [name, t] : data.inputs) {
            feed[name] = slice_rows(t, from, count);
        }
        auto out = evaluator.run(feed);
        if (!out) {
            return unexpected(std::move(out).error().context("static-int8 calibration on " + data.path.string() +
                                                             " rows " + std::to_string(from) + ".." +
                                                             std::to_string(from + count - 1)));
        }
        for (const auto& [name, t] : *out) {
            auto& [lo, hi] = range[name];
            for (float v : t.f) {
                if (std::isfinite(v)) {
                    lo = std::min(lo, v);
                    hi = std::max(hi, v);
                }
            }
        }
    }

    detail::NameScope names(G.g);
    std::map<std::string, std::string> act_dq;    // activation -> its dequantized name
    std::map<std::string, std::string> weight_dq; // weight -> its dequantized name
    std::set<std::string> replaced;
    std::vector<TP> new_inits;
    google::protobuf::RepeatedPtrField<onnx::NodeProto> rebuilt;
    std::size_t t_at = 0;
    for (int k = 0; k < G.g.node_size(); ++k) {
        onnx::NodeProto& n = *G.g.mutable_node(k);
        if (t_at >= targets.size() || targets[t_at].node != k) {
            *rebuilt.Add() = std::move(n);
            continue;
        }
        const Target& target = targets[t_at++];
        const std::string a = n.input(0);
        if (!act_dq.contains(a)) {
            auto [lo, hi] = range[a];
            if (!std::isfinite(lo) || !std::isfinite(hi)) {
                lo = hi = 0.0f; // no finite value seen: a degenerate but valid range
            }
            ActParams p = activation_params(lo, hi);
            std::string s = names.make(a + "_scale");
            std::string zp = names.make(a + "_zero_point");
            new_inits.push_back(detail::make_float_tensor(s, {}, std::vector<float>{p.scale}));
            if (p.is_unsigned) {
                new_inits.push_back(detail::make_uint8_tensor(zp, {}, std::vector<std::uint8_t>{0}));
            } else {
                new_inits.push_back(detail::make_int8_tensor(zp, {}, std::vector<std::int8_t>{0}));
            }
            std::string q = names.make(a + "_quantized");
            std::string dq = names.make(a + "_dequantized");
            *rebuilt.Add() = make_node("QuantizeLinear", names.make(a + "_QuantizeLinear"), {a, s, zp}, {q});
            *rebuilt.Add() = make_node("DequantizeLinear", names.make(a + "_DequantizeLinear"), {q, s, zp}, {dq});
            act_dq[a] = dq;
            ++stats.activations_calibrated;
            log.debug("static-int8: " + a + " range [" + std::to_string(lo) + ", " + std::to_string(hi) + "] scale " +
                      std::to_string(p.scale) + (p.is_unsigned ? " uint8" : " int8"));
        }
        const std::string wname = n.input(1);
        if (!weight_dq.contains(wname)) {
            const TP* w = G.init(wname);
            EDGESHIP_TRY_ASSIGN(auto values, detail::float_values(*w));
            std::vector<std::int64_t> dims(w->dims().begin(), w->dims().end());
            auto qw = quantize_weight(values, dims, target.axis, per_channel);
            std::string q = names.make(wname + "_quantized");
            std::string s = names.make(wname + "_scale");
            std::string zp = names.make(wname + "_zero_point");
            std::vector<std::int64_t> sdims;
            if (per_channel == PerChannel::yes) {
                sdims.push_back(dims[static_cast<std::size_t>(target.axis)]);
            }
            new_inits.push_back(detail::make_int8_tensor(q, dims, qw.q));
            new_inits.push_back(detail::make_float_tensor(s, sdims, qw.scale));
            std::vector<std::int8_t> zeros(qw.scale.size(), 0);
            new_inits.push_back(detail::make_int8_tensor(zp, sdims, zeros));
            std::string dq = names.make(wname + "_dequantized");
            auto node = make_node("DequantizeLinear", names.make(wname + "_DequantizeLinear"), {q, s, zp}, {dq});
            if (per_channel == PerChannel::yes) {
                set_int_attr(node, "axis", target.axis);
            }
            *rebuilt.Add() = std::move(node);
            weight_dq[wname] = dq;
            replaced.insert(wname);
            ++stats.weights_quantized;
        }
        n.set_input(0, act_dq[a]);
        n.set_input(1, weight_dq[wname]);
        ++stats.nodes_quantized;
        ++stats.quantized_ops[n.op_type()];
        *rebuilt.Add() = std::move(n);
    }
    G.g.mutable_node()->Swap(&rebuilt);
    for (auto& t : new_inits) {
        *G.g.add_initializer() = std::move(t);
    }
    G.drop_unused(replaced);
    log.debug("static-int8: " + std::to_string(stats.nodes_quantized) + " nodes over " + std::to_string(data.rows) +
              " calibration rows");
    return stats;
}

} // namespace edgeship::optimize
