#include "optimize/evaluator.hpp"

#include "optimize/detail/graph_util.hpp"
#include "optimize/detail/tensor_data.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

namespace edgeship::optimize {

using detail::attr_float;
using detail::attr_int;
using detail::attr_ints;
using TP = onnx::TensorProto;

std::size_t Tensor::size() const { return is_int ? i.size() : f.size(); }

const std::set<std::string>& evaluator_ops() {
    static const std::set<std::string> ops = {
        "Abs", "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "Conv", "Div",
        "Dropout", "Exp", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Identity",
        "LeakyRelu", "LogSoftmax", "MatMul", "MaxPool", "Mul", "Neg", "Relu", "Reshape", "Shape", "Sigmoid",
        "Softmax", "Sqrt", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    };
    return ops;
}

namespace {

using Ptr = std::shared_ptr<const Tensor>;
using Env = std::unordered_map<std::string, Ptr>;

std::int64_t numel(const std::vector<std::int64_t>& dims) {
    return std::accumulate(dims.begin(), dims.end(), std::int64_t{1}, std::multiplies<>());
}

std::string dims_text(const std::vector<std::int64_t>& d) {
    std::string s = "[";
    for (std::size_t k = 0; k < d.size(); ++k) {
        s += (k ? "," : "") + std::to_string(d[k]);
    }
    return s + "]";
}

Result<Tensor> from_proto(const onnx::TensorProto& t) {
    Tensor out;
    out.dims.assign(t.dims().begin(), t.dims().end());
    if (t.data_type() == TP::INT64 || t.data_type() == TP::INT32) {
        out.is_int = true;
        EDGESHIP_TRY_ASSIGN(out.i, detail::int64_values(t));
    } else {
        EDGESHIP_TRY_ASSIGN(out.f, detail::float_values(t));
    }
    return out;
}

std::int64_t norm_axis(std::int64_t axis, std::size_t rank) {
    return axis < 0 ? axis + static_cast<std::int64_t>(rank) : axis;
}

std::vector<std::int64_t> strides_of(const std::vector<std::int64_t>& dims) {
    std::vector<std::int64_t> s(dims.size(), 1);
    for (std::size_t k = dims.size(); k-- > 1;) {
        s[k - 1] = s[k] * dims[k];
    }
    return s;
}

Result<std::vector<std::int64_t>> broadcast_dims(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
    std::size_t r = std::max(a.size(), b.size());
    std::vector<std::int64_t> out(r);
    for (std::size_t k = 0; k < r; ++k) {
        std::int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
        std::int64_t db = k < r - b.size() ? 1 : b[k - (r - b.size())];
        if (da != db && da != 1 && db != 1) {
            return fail("shapes " + dims_text(a) + " and " + dims_text(b) + " do not broadcast");
        }
        out[k] = da == 1 ? db : da;
    }
    return out;
}

// Offsets into a tensor of shape `src` for every element of the broadcast shape `out`.
std::vector<std::int64_t> broadcast_index(const std::vector<std::int64_t>& src, const std::vector<std::int64_t>& out) {
    std::size_t r = out.size();
    std::vector<std::int64_t> s(r, 0);
    auto st = strides_of(src);
    for (std::size_t k = 0; k < src.size(); ++k) {
        std::size_t ko = k + (r - src.size());
        s[ko] = src[k] == 1 ? 0 : st[k];
    }
    std::int64_t n = numel(out);
    std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
    std::vector<std::int64_t> pos(r, 0);
    std::int64_t off = 0;
    for (std::int64_t e = 0; e < n; ++e) {
        idx[static_cast<std::size_t>(e)] = off;
        for (std::size_t k = r; k-- > 0;) {
            ++pos[k];
            off += s[k];
            if (pos[k] < out[k]) {
                break;
            }
            off -= s[k] * pos[k];
            pos[k] = 0;
        }
    }
    return idx;
}

Result<Tensor> binary(const Tensor& a, const Tensor& b, const std::function<float(float, float)>& op) {
    if (a.is_int || b.is_int) {
        if (!(a.is_int && b.is_int)) {
            return fail("mixed int64 and float operands");
        }
    }
    EDGESHIP_TRY_ASSIGN(auto dims, broadcast_dims(a.dims, b.dims));
    Tensor out;
    out.dims = dims;
    auto ia = broadcast_index(a.dims, dims);
    auto ib = broadcast_index(b.dims, dims);
    if (a.is_int) {
        out.is_int = true;
        out.i.resize(ia.size());
        for (std::size_t e = 0; e < ia.size(); ++e) {
            out.i[e] = static_cast<std::int64_t>(op(static_cast<float>(a.i[static_cast<std::size_t>(ia[e])]),
                                                    static_cast<float>(b.i[static_cast<std::size_t>(ib[e])])));
        }
        return out;
    }
    out.f.resize(ia.size());
    for (std::size_t e = 0; e < ia.size(); ++e) {
        out.f[e] = op(a.f[static_cast<std::size_t>(ia[e])], b.f[static_cast<std::size_t>(ib[e])]);
    }
    return out;
}

Tensor unary(const Tensor& a, const std::function<float(float)>& op) {
    Tensor out;
    out.dims = a.dims;
    out.f.resize(a.f.size());
    std::transform(a.f.begin(), a.f.end(), out.f.begin(), op);
    return out;
}

Result<Tensor> matmul(const Tensor& a0, const Tensor& b0) {
    Tensor a = a0, b = b0;
    bool squeeze_m = false, squeeze_n = false;
    if (a.dims.size() == 1) {
        a.dims.insert(a.dims.begin(), 1);
        squeeze_m = true;
    }
    if (b.dims.size() == 1) {
        b.dims.push_back(1);
        squeeze_n = true;
    }
    std::int64_t m = a.dims[a.dims.size() - 2], k = a.dims.back();
    std::int64_t kb = b.dims[b.dims.size() - 2], n = b.dims.back();
    if (k != kb) {
        return fail("MatMul inner dimensions differ: " + dims_text(a0.dims) + " x " + dims_text(b0.dims));
    }
    std::vector<std::int64_t> ba(a.dims.begin(), a.dims.end() - 2), bb(b.dims.begin(), b.dims.end() - 2);
    EDGESHIP_TRY_ASSIGN(auto batch, broadcast_dims(ba, bb));
    auto ia = broadcast_index(ba, batch);
    auto ib = broadcast_index(bb, batch);
    Tensor out;
    out.dims = batch;
    out.dims.push_back(m);
    out.dims.push_back(n);
    out.f.assign(static_cast<std::size_t>(numel(out.dims)), 0.0f);
    for (std::size_t q = 0; q < ia.size(); ++q) {
        const float* pa = a.f.data() + ia[q] * m * k;
        const float* pb = b.f.data() + ib[q] * k * n;
        float* po = out.f.data() + static_cast<std::int64_t>(q) * m * n;
        for (std::int64_t r = 0; r < m; ++r) {
            for (std::int64_t t = 0; t < k; ++t) {
                float av = pa[r * k + t];
                const float* brow = pb + t * n;
                float* orow = po + r * n;
                for (std::int64_t c = 0; c < n; ++c) {
                    orow[c] += av * brow[c];
                }
            }
        }
    }
    if (squeeze_n) {
        out.dims.pop_back();
    }
    if (squeeze_m) {
        out.dims.erase(out.dims.end() - (squeeze_n ? 1 : 2));
    }
    return out;
}

Tensor transpose2d(const Tensor& a) {
    Tensor t;
    std::int64_t r = a.dims[0], c = a.dims[1];
    t.dims = {c, r};
    t.f.resize(a.f.size());
    for (std::int64_t x = 0; x < r; ++x) {
        for (std::int64_t y = 0; y < c; ++y) {
            t.f[static_cast<std::size_t>(y * r + x)] = a.f[static_cast<std::size_t>(x * c + y)];
        }
    }
    return t;
}

Result<Tensor> gemm(const onnx::NodeProto& n, const Tensor& a0, const Tensor& b0, const Tensor* c) {
    if (a0.dims.size() != 2 || b0.dims.size() != 2) {
        return fail("Gemm operands must be 2-D, got " + dims_text(a0.dims) + " and " + dims_text(b0.dims));
    }
    Tensor a = attr_int(n, "transA", 0) ? transpose2d(a0) : a0;
    Tensor b = attr_int(n, "transB", 0) ? transpose2d(b0) : b0;
    EDGESHIP_TRY_ASSIGN(Tensor y, matmul(a, b));
    float alpha = attr_float(n, "alpha", 1.0f), beta = attr_float(n, "beta", 1.0f);
    for (auto& v : y.f) {
        v *= alpha;
    }
    if (c != nullptr) {
        EDGESHIP_TRY_ASSIGN(y, binary(y, *c, [beta](float p, float q) { return p + beta * q; }));
    }
    return y;
}

struct Window {
    std::vector<std::int64_t> kernel, strides, pads, dilations, out; // pads: begin..., end...
};

Result<Window> window(const onnx::NodeProto& n, const std::vector<std::int64_t>& in_spatial,
                      std::vector<std::int64_t> kernel, bool ceil_mode) {
    std::size_t r = in_spatial.size();
    Window w;
    w.kernel = std::move(kernel);
    w.strides = attr_ints(n, "strides");
    w.dilations = attr_ints(n, "dilations");
    w.pads = attr_ints(n, "pads");
    if (w.strides.empty()) {
        w.strides.assign(r, 1);
    }
    if (w.dilations.empty()) {
        w.dilations.assign(r, 1);
    }
    if (w.pads.empty()) {
        w.pads.assign(2 * r, 0);
    }
    if (w.kernel.size() != r || w.strides.size() != r || w.dilations.size() != r || w.pads.size() != 2 * r) {
        return fail("kernel/strides/pads/dilations do not match the input's rank");
    }
    std::string auto_pad = detail::attr_string(n, "auto_pad", "NOTSET");
    for (std::size_t k = 0; k < r; ++k) {
        std::int64_t ek = (w.kernel[k] - 1) * w.dilations[k] + 1;
        if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
            std::int64_t o = (in_spatial[k] + w.strides[k] - 1) / w.strides[k];
            std::int64_t total = std::max<std::int64_t>(0, (o - 1) * w.strides[k] + ek - in_spatial[k]);
            w.pads[k] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
            w.pads[k + r] = total - w.pads[k];
        } else if (auto_pad == "VALID") {
            w.pads[k] = w.pads[k + r] = 0;
        }
        std::int64_t span = in_spatial[k] + w.pads[k] + w.pads[k + r] - ek;
        std::int64_t o = ceil_mode ? (span + w.strides[k] - 1) / w.strides[k] + 1 : span / w.strides[k] + 1;
        if (o <= 0) {
            return fail("the window is larger than the input");
        }
        w.out.push_back(o);
    }
    return w;
}

Result<Tensor> conv(const onnx::NodeProto& n, const Tensor& x, const Tensor& wt, const Tensor* bias) {
    if (x.dims.size() != 4 || wt.dims.size() != 4) {
        return fail("only 2-D convolutions are supported (input " + dims_text(x.dims) + ")");
    }
    std::int64_t group = attr_int(n, "group", 1);
    std::int64_t N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
    std::int64_t M = wt.dims[0], CG = wt.dims[1], KH = wt.dims[2], KW = wt.dims[3];
    if (C != CG * group || M % group != 0) {
        return fail("Conv channels do not match: input " + dims_text(x.dims) + ", weights " + dims_text(wt.dims));
    }
    EDGESHIP_TRY_ASSIGN(auto w, window(n, {H, W}, {KH, KW}, false));
    std::int64_t OH = w.out[0], OW = w.out[1];
    Tensor y;
    y.dims = {N, M, OH, OW};
    y.f.assign(static_cast<std::size_t>(N * M * OH * OW), 0.0f);
    std::int64_t mg = M / group;
    for (std::int64_t b = 0; b < N; ++b) {
        for (std::int64_t m = 0; m < M; ++m) {
            std::int64_t g = m / mg;
            float bv = bias != nullptr ? bias->f[static_cast<std::size_t>(m)] : 0.0f;
            for (std::int64_t oh = 0; oh < OH; ++oh) {
                for (std::int64_t ow = 0; ow < OW; ++ow) {
                    float acc = bv;
                    for (std::int64_t c = 0; c < CG; ++c) {
                        const float* xp = x.f.data() + ((b * C + g * CG + c) * H) * W;
                        const float* wp = wt.f.data() + ((m * CG + c) * KH) * KW;
                        for (std::int64_t kh = 0; kh < KH; ++kh) {
                            std::int64_t ih = oh * w.strides[0] - w.pads[0] + kh * w.dilations[0];
                            if (ih < 0 || ih >= H) {
                                continue;
                            }
                            for (std::int64_t kw = 0; kw < KW; ++kw) {
                                std::int64_t iw = ow * w.strides[1] - w.pads[1] + kw * w.dilations[1];
                                if (iw >= 0 && iw < W) {
                                    acc += xp[ih * W + iw] * wp[kh * KW + kw];
                                }
                            }
                        }
                    }
                    y.f[static_cast<std::size_t>(((b * M + m) * OH + oh) * OW + ow)] = acc;
                }
            }
        }
    }
    return y;
}

Result<Tensor> pool(const onnx::NodeProto& n, const Tensor& x, bool is_max) {
    if (x.dims.size() != 4) {
        return fail("only 2-D pooling is supported (input " + dims_text(x.dims) + ")");
    }
    std::int64_t N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
    EDGESHIP_TRY_ASSIGN(auto w, window(n, {H, W}, attr_ints(n, "kernel_shape"), attr_int(n, "ceil_mode", 0) != 0));
    bool include_pad = attr_int(n, "count_include_pad", 0) != 0;
    Tensor y;
    y.dims = {N, C, w.out[0], w.out[1]};
    y.f.resize(static_cast<std::size_t>(numel(y.dims)));
    std::size_t at = 0;
    for (std::int64_t p = 0; p < N * C; ++p) {
        const float* xp = x.f.data() + p * H * W;
        for (std::int64_t oh = 0; oh < w.out[0]; ++oh) {
            for (std::int64_t ow = 0; ow < w.out[1]; ++ow) {
                float acc = is_max ? -std::numeric_limits<float>::infinity() : 0.0f;
                std::int64_t count = 0;
                for (std::int64_t kh = 0; kh < w.kernel[0]; ++kh) {
                    std::int64_t ih = oh * w.strides[0] - w.pads[0] + kh * w.dilations[0];
                    for (std::int64_t kw = 0; kw < w.kernel[1]; ++kw) {
                        std::int64_t iw = ow * w.strides[1] - w.pads[1] + kw * w.dilations[1];
                        bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                        bool in_padded = ih < H + w.pads[2] && iw < W + w.pads[3];
                        if (inside) {
                            float v = xp[ih * W + iw];
                            acc = is_max ? std::max(acc, v) : acc + v;
                            ++count;
                        } else if (include_pad && in_padded) {
                            ++count;
                        }
                    }
                }
                y.f[at++] = is_max ? acc : (count > 0 ? acc / static_cast<float>(count) : 0.0f);
            }
        }
    }
    return y;
}

Result<Tensor> global_pool(const Tensor& x, bool is_max) {
    if (x.dims.size() < 3) {
        return fail("global pooling needs a rank >= 3 input");
    }
    std::int64_t nc = x.dims[0] * x.dims[1];
    std::int64_t s = numel(x.dims) / std::max<std::int64_t>(nc, 1);
    Tensor y;
    y.dims = {x.dims[0], x.dims[1]};
    y.dims.resize(x.dims.size(), 1);
    y.f.resize(static_cast<std::size_t>(nc));
    for (std::int64_t p = 0; p < nc; ++p) {
        const float* xp = x.f.data() + p * s;
        float acc = is_max ? -std::numeric_limits<float>::infinity() : 0.0f;
        for (std::int64_t e = 0; e < s; ++e) {
            acc = is_max ? std::max(acc, xp[e]) : acc + xp[e];
        }
        y.f[static_cast<std::size_t>(p)] = is_max ? acc : acc / static_cast<float>(s);
    }
    return y;
}

// Softmax over `inner` contiguous elements, repeated outer times with stride `inner_stride`.
Tensor softmax(const Tensor& x, std::int64_t axis, bool coerce_2d, bool log) {
    Tensor y = x;
    std::size_t r = x.dims.size();
    axis = norm_axis(axis, r);
    std::int64_t outer = 1, len = 1, inner = 1;
    for (std::size_t k = 0; k < r; ++k) {
        auto d = x.dims[k];
        if (static_cast<std::int64_t>(k) < axis) {
            outer *= d;
        } else if (static_cast<std::int64_t>(k) == axis || coerce_2d) {
            len *= d;
        } else {
            inner *= d;
        }
    }
    for (std::int64_t o = 0; o < outer; ++o) {
        for (std::int64_t in = 0; in < inner; ++in) {
            auto at = [&](std::int64_t e) -> float& {
                return y.f[static_cast<std::size_t>((o * len + e) * inner + in)];
            };
            float mx = -std::numeric_limits<float>::infinity();
            for (std::int64_t e = 0; e < len; ++e) {
                mx = std::max(mx, at(e));
            }
            double sum = 0;
            for (std::int64_t e = 0; e < len; ++e) {
                sum += std::exp(static_cast<double>(at(e) - mx));
            }
            for (std::int64_t e = 0; e < len; ++e) {
                double v = static_cast<double>(at(e) - mx);
                at(e) = static_cast<float>(log ? v - std::log(sum) : std::exp(v) / sum);
            }
        }
    }
    return y;
}

Result<Tensor> transpose(const Tensor& x, std::vector<std::int64_t> perm) {
    std::size_t r = x.dims.size();
    if (perm.empty()) {
        for (std::size_t k = 0; k < r; ++k) {
            perm.push_back(static_cast<std::int64_t>(r - 1 - k));
        }
    }
    if (perm.size() != r) {
        return fail("Transpose perm does not match the rank");
    }
    Tensor y;
    y.is_int = x.is_int;
    for (auto p : perm) {
        y.dims.push_back(x.dims[static_cast<std::size_t>(p)]);
    }
    auto in_strides = strides_of(x.dims);
    std::vector<std::int64_t> s(r);
    for (std::size_t k = 0; k < r; ++k) {
        s[k] = in_strides[static_cast<std::size_t>(perm[k])];
    }
    // Gather through a zero-size "source" broadcast trick: compute offsets by walking the output.
    std::int64_t n = numel(y.dims);
    std::vector<std::int64_t> pos(r, 0);
    std::int64_t off = 0;
    if (x.is_int) {
        y.i.resize(static_cast<std::size_t>(n));
    } else {
        y.f.resize(static_cast<std::size_t>(n));
    }
    for (std::int64_t e = 0; e < n; ++e) {
        if (x.is_int) {
            y.i[static_cast<std::size_t>(e)] = x.i[static_cast<std::size_t>(off)];
        } else {
            y.f[static_cast<std::size_t>(e)] = x.f[static_cast<std::size_t>(off)];
        }
        for (std::size_t k = r; k-- > 0;) {
            ++pos[k];
            off += s[k];
            if (pos[k] < y.dims[k]) {
                break;
            }
            off -= s[k] * pos[k];
            pos[k] = 0;
        }
    }
    return y;
}

Result<Tensor> concat(const std::vector<const Tensor*>& xs, std::int64_t axis) {
    const Tensor& first = *xs.front();
    std::size_t r = first.dims.size();
    axis = norm_axis(axis, r);
    Tensor y;
    y.is_int = first.is_int;
    y.dims = first.dims;
    y.dims[static_cast<std::size_t>(axis)] = 0;
    for (const auto* t : xs) {
        if (t->dims.size() != r || t->is_int != first.is_int) {
            return fail("Concat inputs differ in rank or type");
        }
        y.dims[static_cast<std::size_t>(axis)] += t->dims[static_cast<std::size_t>(axis)];
    }
    std::int64_t outer = 1;
    for (std::int64_t k = 0; k < axis; ++k) {
        outer *= first.dims[static_cast<std::size_t>(k)];
    }
    for (std::int64_t o = 0; o < outer; ++o) {
        for (const auto* t : xs) {
            std::int64_t chunk = numel(t->dims) / std::max<std::int64_t>(outer, 1);
            if (t->is_int) {
                y.i.insert(y.i.end(), t->i.begin() + o * chunk, t->i.begin() + (o + 1) * chunk);
            } else {
                y.f.insert(y.f.end(), t->f.begin() + o * chunk, t->f.begin() + (o + 1) * chunk);
            }
        }
    }
    return y;
}

Result<std::vector<std::int64_t>> axes_of(const onnx::NodeProto& n, const Env& env, std::int64_t opset) {
    if (opset >= 13 && n.input_size() >= 2 && !n.input(1).empty()) {
        return env.at(n.input(1))->i;
    }
    return attr_ints(n, "axes");
}

Result<void> run_node(const onnx::NodeProto& n, std::int64_t opset, Env& env) {
    auto in = [&](int k) -> const Tensor* {
        if (k >= n.input_size() || n.input(k).empty()) {
            return nullptr;
        }
        return env.at(n.input(k)).get();
    };
    const std::string& op = n.op_type();
    Tensor y;
    const Tensor* x = in(0);
    if (op != "Constant" && x == nullptr) {
        return fail("missing input");
    }
    if (op != "Constant" && op != "Shape" && op != "Reshape" && op != "Concat" && op != "Gather" && op != "Cast" &&
        op != "Unsqueeze" && op != "Squeeze" && op != "Identity" && op != "Transpose" && op != "Add" &&
        op != "Sub" && op != "Mul" && op != "Div" && x->is_int) {
        return fail("int64 input is not supported for " + op);
    }
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
        std::function<float(float, float)> f;
        if (op == "Add") {
            f = [](float p, float q) { return p + q; };
        } else if (op == "Sub") {
            f = [](float p, float q) { return p - q; };
        } else if (op == "Mul") {
            f = [](float p, float q) { return p * q; };
        } else {
            f = [](float p, float q) { return p / q; };
        }
        EDGESHIP_TRY_ASSIGN(y, binary(*x, *in(1), f));
    } else if (op == "Relu") {
        y = unary(*x, [](float v) { return v > 0.0f ? v : 0.0f; });
    } else if (op == "LeakyRelu") {
        float a = attr_float(n, "alpha", 0.01f);
        y = unary(*x, [a](float v) { return v >= 0.0f ? v : a * v; });
    } else if (op == "Sigmoid") {
        y = unary(*x, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
    } else if (op == "Tanh") {
        y = unary(*x, [](float v) { return std::tanh(v); });
    } else if (op == "Exp") {
        y = unary(*x, [](float v) { return std::exp(v); });
    } else if (op == "Sqrt") {
        y = unary(*x, [](float v) { return std::sqrt(v); });
    } else if (op == "Neg") {
        y = unary(*x, [](float v) { return -v; });
    } else if (op == "Abs") {
        y = unary(*x, [](float v) { return std::fabs(v); });
    } else if (op == "Clip") {
        float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
        if (opset < 11) {
            lo = attr_float(n, "min", lo);
            hi = attr_float(n, "max", hi);
        } else {
            if (const auto* t = in(1)) {
                lo = t->f.at(0);
            }
            if (const auto* t = in(2)) {
                hi = t->f.at(0);
            }
        }
        y = unary(*x, [lo, hi](float v) { return std::min(std::max(v, lo), hi); });
    } else if (op == "Identity" || op == "Dropout") {
        y = *x;
    } else if (op == "MatMul") {
        EDGESHIP_TRY_ASSIGN(y, matmul(*x, *in(1)));
    } else if (op == "Gemm") {
        EDGESHIP_TRY_ASSIGN(y, gemm(n, *x, *in(1), in(2)));
    } else if (op == "Conv") {
        EDGESHIP_TRY_ASSIGN(y, conv(n, *x, *in(1), in(2)));
    } else if (op == "MaxPool" || op == "AveragePool") {
        if (n.output_size() > 1 && !n.output(1).empty()) {
            return fail("MaxPool's Indices output is not supported");
        }
        EDGESHIP_TRY_ASSIGN(y, pool(n, *x, op == "MaxPool"));
    } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
        EDGESHIP_TRY_ASSIGN(y, global_pool(*x, op == "GlobalMaxPool"));
    } else if (op == "BatchNormalization") {
        const Tensor *scale = in(1), *bias = in(2), *mean = in(3), *var = in(4);
        float eps = attr_float(n, "epsilon", 1e-5f);
        y = *x;
        std::int64_t C = x->dims.at(1);
        std::int64_t inner = numel(x->dims) / (x->dims[0] * C);
        for (std::int64_t b = 0; b < x->dims[0]; ++b) {
            for (std::int64_t c = 0; c < C; ++c) {
                auto cc = static_cast<std::size_t>(c);
                float s = scale->f[cc] / std::sqrt(var->f[cc] + eps);
                float t = bias->f[cc] - mean->f[cc] * s;
                float* p = y.f.data() + (b * C + c) * inner;
                for (std::int64_t e = 0; e < inner; ++e) {
                    p[e] = p[e] * s + t;
                }
            }
        }
    } else if (op == "Softmax" || op == "LogSoftmax") {
        std::int64_t axis = attr_int(n, "axis", opset >= 13 ? -1 : 1);
        y = softmax(*x, axis, opset < 13, op == "LogSoftmax");
    } else if (op == "Flatten") {
        std::int64_t axis = norm_axis(attr_int(n, "axis", 1), x->dims.size());
        y = *x;
        std::int64_t a = 1;
        for (std::int64_t k = 0; k < axis; ++k) {
            a *= x->dims[static_cast<std::size_t>(k)];
        }
        y.dims = {a, numel(x->dims) / std::max<std::int64_t>(a, 1)};
    } else if (op == "Reshape") {
        const Tensor* shape = in(1);
        if (shape == nullptr || !shape->is_int) {
            return fail("Reshape needs an int64 shape");
        }
        bool allowzero = attr_int(n, "allowzero", 0) != 0;
        std::vector<std::int64_t> dims = shape->i;
        std::int64_t known = 1, infer = -1;
        for (std::size_t k = 0; k < dims.size(); ++k) {
            if (dims[k] == 0 && !allowzero) {
                dims[k] = x->dims.at(k);
            }
            if (dims[k] == -1) {
                infer = static_cast<std::int64_t>(k);
            } else {
                known *= dims[k];
            }
        }
        if (infer >= 0) {
            dims[static_cast<std::size_t>(infer)] = known == 0 ? 0 : numel(x->dims) / known;
        }
        if (numel(dims) != numel(x->dims)) {
            return fail("cannot reshape " + dims_text(x->dims) + " to " + dims_text(dims));
        }
        y = *x;
        y.dims = dims;
    } else if (op == "Transpose") {
        EDGESHIP_TRY_ASSIGN(y, transpose(*x, attr_ints(n, "perm")));
    } else if (op == "Concat") {
        std::vector<const Tensor*> xs;
        for (int k = 0; k < n.input_size(); ++k) {
            xs.push_back(in(k));
        }
        EDGESHIP_TRY_ASSIGN(y, concat(xs, attr_int(n, "axis", 0)));
    } else if (op == "Shape") {
        y.is_int = true;
        y.i = x->dims;
        y.dims = {static_cast<std::int64_t>(x->dims.size())};
    } else if (op == "Gather") {
        const Tensor* idx = in(1);
        std::int64_t axis = norm_axis(attr_int(n, "axis", 0), x->dims.size());
        if (axis != 0 || x->dims.size() != 1 || !idx->is_int) {
            return fail("only Gather on a 1-D tensor along axis 0 is supported");
        }
        y.is_int = x->is_int;
        y.dims = idx->dims;
        for (auto k : idx->i) {
            k = k < 0 ? k + x->dims[0] : k;
            if (x->is_int) {
                y.i.push_back(x->i.at(static_cast<std::size_t>(k)));
            } else {
                y.f.push_back(x->f.at(static_cast<std::size_t>(k)));
            }
        }
    } else if (op == "Unsqueeze" || op == "Squeeze") {
        EDGESHIP_TRY_ASSIGN(auto axes, axes_of(n, env, opset));
        y = *x;
        if (op == "Unsqueeze") {
            std::size_t r = x->dims.size() + axes.size();
            for (auto& a : axes) {
                a = norm_axis(a, r);
            }
            std::sort(axes.begin(), axes.end());
            for (auto a : axes) {
                y.dims.insert(y.dims.begin() + a, 1);
            }
        } else {
            std::vector<std::int64_t> dims;
            for (std::size_t k = 0; k < x->dims.size(); ++k) {
                bool drop = axes.empty() ? x->dims[k] == 1
                                         : std::any_of(axes.begin(), axes.end(), [&](std::int64_t a) {
                                               return norm_axis(a, x->dims.size()) == static_cast<std::int64_t>(k);
                                           });
                if (!drop) {
                    dims.push_back(x->dims[k]);
                }
            }
            y.dims = dims;
        }
    } else if (op == "Cast") {
        std::int64_t to = attr_int(n, "to", 0);
        y.dims = x->dims;
        if (to == TP::FLOAT || to == TP::DOUBLE || to == TP::FLOAT16) {
            y.f = x->is_int ? std::vector<float>(x->i.begin(), x->i.end()) : x->f;
        } else if (to == TP::INT64 || to == TP::INT32) {
            y.is_int = true;
            if (x->is_int) {
                y.i = x->i;
            } else {
                for (float v : x->f) {
                    y.i.push_back(static_cast<std::int64_t>(v));
                }
            }
        } else {
            return fail("Cast to element type " + std::to_string(to) + " is not supported");
        }
    } else if (op == "Constant") {
        const auto* a = detail::find_attr(n, "value");
        if (a == nullptr) {
            return fail("only Constant with a 'value' tensor is supported");
        }
        EDGESHIP_TRY_ASSIGN(y, from_proto(a->t()));
    } else {
        return fail("not supported");
    }
    env[n.output(0)] = std::make_shared<const Tensor>(std::move(y));
    return {};
}

} // namespace

Result<Evaluator> Evaluator::create(const onnx::ModelProto& model, const std::vector<std::string>& wanted) {
    Evaluator ev;
    ev.m_opset = detail::default_opset(model);
    ev.m_wanted = wanted;
    const auto& g = model.graph();
    std::unordered_map<std::string, int> producer;
    for (int k = 0; k < g.node_size(); ++k) {
        for (const auto& o : g.node(k).output()) {
            producer[o] = k;
        }
    }
    std::unordered_map<std::string, const onnx::TensorProto*> inits;
    for (const auto& t : g.initializer()) {
        inits[t.name()] = &t;
    }
    std::set<std::string> graph_inputs;
    for (const auto& v : g.input()) {
        graph_inputs.insert(v.name());
    }
    // Walk back from the wanted values to the nodes they need.
    std::vector<bool> needed(static_cast<std::size_t>(g.node_size()), false);
    std::vector<std::string> stack(wanted.begin(), wanted.end());
    std::set<std::string> seen;
    while (!stack.empty()) {
        std::string v = stack.back();
        stack.pop_back();
        if (v.empty() || !seen.insert(v).second) {
            continue;
        }
        if (inits.contains(v)) {
            if (!ev.m_constants.contains(v)) {
                auto t = from_proto(*inits[v]);
                if (!t) {
                    return unexpected(std::move(t).error());
                }
                ev.m_constants[v] = std::make_shared<const Tensor>(std::move(*t));
            }
            continue;
        }
        if (graph_inputs.contains(v)) {
            continue;
        }
        auto it = producer.find(v);
        if (it == producer.end()) {
            return fail("value '" + v + "' is not produced by any node");
        }
        if (needed[static_cast<std::size_t>(it->second)]) {
            continue;
        }
        needed[static_cast<std::size_t>(it->second)] = true;
        const auto& n = g.node(it->second);
        if (!detail::is_default_domain(n.domain()) || !evaluator_ops().contains(n.op_type())) {
            std::string list;
            for (const auto& op : evaluator_ops()) {
                list += (list.empty() ? "" : ", ") + op;
            }
            return unexpected(Error("calibration needs to run " + detail::describe_node(n, static_cast<std::size_t>(it->second)) +
                                    ", which edgeship's reference evaluator does not support")
                                  .hint("supported ops: " + list));
        }
        for (const auto& i : n.input()) {
            stack.push_back(i);
        }
    }
    for (int k = 0; k < g.node_size(); ++k) {
        if (needed[static_cast<std::size_t>(k)]) {
            ev.m_nodes.push_back(g.node(k));
        }
    }
    return ev;
}

Result<std::map<std::string, Tensor>> Evaluator::run(const std::map<std::string, Tensor>& inputs) const {
    Env env(m_constants.begin(), m_constants.end());
    for (const auto& [name, t] : inputs) {
        env[name] = std::make_shared<const Tensor>(t);
    }
    for (std::size_t k = 0; k < m_nodes.size(); ++k) {
        const auto& n = m_nodes[k];
        for (const auto& i : n.input()) {
            if (!i.empty() && !env.contains(i)) {
                return fail("evaluating " + detail::describe_node(n, k) + ": input '" + i + "' has no value");
            }
        }
        if (auto r = run_node(n, m_opset, env); !r) {
            return fail("evaluating " + detail::describe_node(n, k) + ": " + r.error().message());
        }
    }
    std::map<std::string, Tensor> out;
    for (const auto& w : m_wanted) {
        auto it = env.find(w);
        if (it == env.end()) {
            return fail("value '" + w + "' was not computed");
        }
        out[w] = *it->second;
    }
    return out;
}

} // namespace edgeship::optimize
