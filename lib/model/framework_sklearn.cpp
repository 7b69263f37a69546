#include "model/framework_sklearn.hpp"

#include "model/tree_ensemble.hpp"
#include "model/tree_validator.hpp"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

namespace edgeship::model {

namespace {

using json = nlohmann::json;

// Description problems are thrown inside this file and turned into an Error at its one entry point
// (build_sklearn_model), the way JSON adapters contain nlohmann's exceptions (STYLE.md §4).
struct DescriptionError : std::runtime_error {
    DescriptionError(const std::string& msg, ExitCode c, std::string h)
        : std::runtime_error(msg), code(c), hint(std::move(h)) {}
    ExitCode code;
    std::string hint;
};

[[noreturn]] void bad(const std::string& msg, ExitCode code = ExitCode::failure, std::string hint = "") {
    throw DescriptionError(msg, code, std::move(hint));
}

std::string supported_list() {
    std::string s;
    for (const auto& e : supported_sklearn_estimators()) {
        s += (s.empty() ? "" : ", ") + e;
    }
    return s;
}

const json& field(const json& obj, const char* name, const std::string& where) {
    if (!obj.is_object() || !obj.contains(name)) {
        bad(where + ": missing field '" + name + "'");
    }
    return obj.at(name);
}

// A number, or the strings the bridge writes for the values JSON lacks.
double number(const json& v, const std::string& where) {
    if (v.is_number()) {
        return v.get<double>();
    }
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        if (s == "nan") {
            return std::numeric_limits<double>::quiet_NaN();
        }
        if (s == "inf") {
            return std::numeric_limits<double>::infinity();
        }
        if (s == "-inf") {
            return -std::numeric_limits<double>::infinity();
        }
    }
    bad(where + ": expected a number, got " + v.dump().substr(0, 40));
}

std::vector<double> numbers(const json& v, const std::string& where) {
    if (!v.is_array()) {
        bad(where + ": expected an array of numbers");
    }
    std::vector<double> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        out.push_back(number(v[i], where + "[" + std::to_string(i) + "]"));
    }
    return out;
}

std::vector<double> finite_numbers(const json& v, const std::string& where) {
    auto out = numbers(v, where);
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (!std::isfinite(out[i])) {
            bad(where + "[" + std::to_string(i) + "]: not a finite number");
        }
    }
    return out;
}

std::vector<std::int64_t> integers(const json& v, const std::string& where) {
    if (!v.is_array()) {
        bad(where + ": expected an array of integers");
    }
    std::vector<std::int64_t> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_number_integer()) {
            bad(where + "[" + std::to_string(i) + "]: expected an integer");
        }
        out.push_back(v[i].get<std::int64_t>());
    }
    return out;
}

std::vector<std::vector<double>> matrix(const json& v, const std::string& where) {
    if (!v.is_array() || v.empty()) {
        bad(where + ": expected a non-empty array of rows");
    }
    std::vector<std::vector<double>> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        out.push_back(finite_numbers(v[i], where + "[" + std::to_string(i) + "]"));
        if (out.back().size() != out.front().size()) {
            bad(where + ": rows of different lengths");
        }
    }
    return out;
}

struct Labels {
    std::vector<std::int64_t> ints;
    std::vector<std::string> strings;
    std::size_t size() const { return strings.empty() ? ints.size() : strings.size(); }
    bool identity() const {
        if (!strings.empty()) {
            return false;
        }
        for (std::size_t i = 0; i < ints.size(); ++i) {
            if (ints[i] != static_cast<std::int64_t>(i)) {
                return false;
            }
        }
        return true;
    }
};

Labels labels(const json& est, const std::string& where) {
    const json& v = field(est, "classes", where);
    if (!v.is_array() || v.size() < 2) {
        bad(where + ": classes: a classifier needs at least 2 classes");
    }
    Labels l;
    for (const auto& c : v) {
        if (c.is_string()) {
            l.strings.push_back(c.get<std::string>());
        } else if (c.is_number_integer()) {
            l.ints.push_back(c.get<std::int64_t>());
        } else if (c.is_boolean()) {
            l.ints.push_back(c.get<bool>() ? 1 : 0);
        } else {
            bad(where + ": classes: labels must be integers or strings, got " + c.dump());
        }
    }
    if (!l.strings.empty() && !l.ints.empty()) {
        bad(where + ": classes: labels mix strings and numbers");
    }
    return l;
}

std::string class_of(const json& est, const std::string& where) {
    const json& c = field(est, "class", where);
    if (!c.is_string()) {
        bad(where + ": 'class' is not a string");
    }
    return c.get<std::string>();
}

// ---------------------------------------------------------------- ONNX graph building

using Attr = onnx::AttributeProto;

class GraphBuilder {
  public:
    GraphBuilder(onnx::GraphProto* g, std::string prefix) : m_g(g), m_prefix(std::move(prefix)) {}

    std::string fresh(const std::string& base) {
        std::string n = m_prefix + base;
        int& count = m_used[n];
        ++count;
        return count == 1 ? n : n + "_" + std::to_string(count);
    }

    std::string floats(const std::string& base, std::vector<std::int64_t> dims,
                       const std::vector<double>& values) {
        std::string n = fresh(base);
        auto* t = m_g->add_initializer();
        t->set_name(n);
        t->set_data_type(onnx::TensorProto::FLOAT);
        for (auto d : dims) {
            t->add_dims(d);
        }
        for (double v : values) {
            t->add_float_data(static_cast<float>(v));
        }
        return n;
    }

    std::string int64s(const std::string& base, std::vector<std::int64_t> dims,
                       const std::vector<std::int64_t>& values) {
        std::string n = fresh(base);
        auto* t = m_g->add_initializer();
        t->set_name(n);
        t->set_data_type(onnx::TensorProto::INT64);
        for (auto d : dims) {
            t->add_dims(d);
        }
        for (auto v : values) {
            t->add_int64_data(v);
        }
        return n;
    }

    std::string strings(const std::string& base, const std::vector<std::string>& values) {
        std::string n = fresh(base);
        auto* t = m_g->add_initializer();
        t->set_name(n);
        t->set_data_type(onnx::TensorProto::STRING);
        t->add_dims(static_cast<std::int64_t>(values.size()));
        for (const auto& v : values) {
            t->add_string_data(v);
        }
        return n;
    }

    /// Adds `op` and returns its output, named `out` exactly when given, else fresh from `base`.
    onnx::NodeProto* node(const std::string& op, std::initializer_list<std::string> inputs,
                          const std::string& output) {
        onnx::NodeProto* n = m_g->add_node();
        n->set_op_type(op);
        n->set_name(m_prefix + op + "_" + std::to_string(m_g->node_size()));
        for (const auto& i : inputs) {
            n->add_input(i);
        }
        n->add_output(output);
        return n;
    }

    std::string op(const std::string& op, std::initializer_list<std::string> inputs, const std::string& base,
                   const std::string& exact_output = "") {
        std::string out = exact_output.empty() ? fresh(base) : exact_output;
        node(op, inputs, out);
        return out;
    }

    static void set_int(onnx::NodeProto* n, const char* name, std::int64_t v) {
        Attr* a = n->add_attribute();
        a->set_name(name);
        a->set_type(Attr::INT);
        a->set_i(v);
    }

  private:
    onnx::GraphProto* m_g;
    std::string m_prefix;
    std::map<std::string, int> m_used;
};

void set_value_info(onnx::ValueInfoProto* vi, const std::string& name, int elem_type, std::int64_t width) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem_type);
    auto* shape = tt->mutable_shape();
    shape->add_dim()->set_dim_param("batch");
    if (width > 0) {
        shape->add_dim()->set_dim_value(width);
    }
}

std::vector<double> flatten(const std::vector<std::vector<double>>& m) {
    std::vector<double> out;
    for (const auto& row : m) {
        out.insert(out.end(), row.begin(), row.end());
    }
    return out;
}

// ---------------------------------------------------------------- transformers

struct Flow {
    std::string tensor;
    std::int64_t width = 0;
};

void expect_width(const json& est, const Flow& in, const std::string& where) {
    if (est.contains("n_features_in") && est["n_features_in"].is_number_integer()) {
        auto n = est["n_features_in"].get<std::int64_t>();
        if (n > 0 && n != in.width) {
            bad(where + " expects " + std::to_string(n) + " features but receives " +
                std::to_string(in.width));
        }
    }
}

void check_length(const std::vector<double>& v, std::int64_t width, const std::string& where) {
    if (static_cast<std::int64_t>(v.size()) != width) {
        bad(where + ": " + std::to_string(v.size()) + " values for " + std::to_string(width) + " features");
    }
}

Flow standard_scaler(GraphBuilder& b, const json& est, Flow in, const std::string& where) {
    // sklearn: X -= mean_; X /= scale_ (scale_ already has zeros replaced by 1).
    if (est.contains("mean") && !est["mean"].is_null()) {
        auto mean = finite_numbers(est["mean"], where + ": mean");
        check_length(mean, in.width, where + ": mean");
        in.tensor = b.op("Sub", {in.tensor, b.floats("mean", {in.width}, mean)}, "centered");
    }
    if (est.contains("scale") && !est["scale"].is_null()) {
        auto scale = finite_numbers(est["scale"], where + ": scale");
        check_length(scale, in.width, where + ": scale");
        in.tensor = b.op("Div", {in.tensor, b.floats("scale", {in.width}, scale)}, "scaled");
    }
    return in;
}

Flow min_max_scaler(GraphBuilder& b, const json& est, Flow in, const std::string& where) {
    // sklearn: X *= scale_; X += min_; then optionally clip to feature_range.
    auto scale = finite_numbers(field(est, "scale", where), where + ": scale");
    auto mins = finite_numbers(field(est, "min", where), where + ": min");
    check_length(scale, in.width, where + ": scale");
    check_length(mins, in.width, where + ": min");
    in.tensor = b.op("Mul", {in.tensor, b.floats("mm_scale", {in.width}, scale)}, "mm_scaled");
    in.tensor = b.op("Add", {in.tensor, b.floats("mm_min", {in.width}, mins)}, "mm_shifted");
    if (est.value("clip", false)) {
        auto range = finite_numbers(field(est, "feature_range", where), where + ": feature_range");
        if (range.size() != 2) {
            bad(where + ": feature_range must have 2 values");
        }
        in.tensor = b.op(
            "Clip", {in.tensor, b.floats("clip_lo", {}, {range[0]}), b.floats("clip_hi", {}, {range[1]})},
            "clipped");
    }
    return in;
}

Flow simple_imputer(GraphBuilder& b, const json& est, Flow in, const std::string& where) {
    if (est.value("add_indicator", false)) {
        bad(where + ": SimpleImputer(add_indicator=True) is not supported", ExitCode::failure,
            "refit with add_indicator=False");
    }
    auto stats = numbers(field(est, "statistics", where), where + ": statistics");
    check_length(stats, in.width, where + ": statistics");
    const double missing = number(field(est, "missing_values", where), where + ": missing_values");
    // Features whose statistic is NaN (all values missing at fit time) are dropped by transform()
    // unless keep_empty_features (scikit-learn SimpleImputer.transform).
    std::vector<std::int64_t> kept;
    std::vector<double> fill;
    const bool keep_empty = est.value("keep_empty_features", false);
    for (std::size_t i = 0; i < stats.size(); ++i) {
        if (std::isnan(stats[i]) && !keep_empty) {
            continue;
        }
        kept.push_back(static_cast<std::int64_t>(i));
        fill.push_back(std::isnan(stats[i]) ? 0.0 : stats[i]);
    }
    if (kept.empty()) {
        bad(where + ": every feature was empty at fit time; the imputer outputs nothing");
    }
    std::vector<double> full(stats.size());
    for (std::size_t k = 0; k < kept.size(); ++k) {
        full[static_cast<std::size_t>(kept[k])] = fill[k];
    }
    std::string mask;
    if (std::isnan(missing)) {
        mask = b.op("IsNaN", {in.tensor}, "missing");
    } else {
        mask = b.op("Equal", {in.tensor, b.floats("missing_value", {}, {missing})}, "missing");
    }
    in.tensor = b.op("Where", {mask, b.floats("fill", {in.width}, full), in.tensor}, "imputed");
    if (static_cast<std::int64_t>(kept.size()) != in.width) {
        auto* g =
            b.node("Gather", {in.tensor, b.int64s("kept", {static_cast<std::int64_t>(kept.size())}, kept)},
                   b.fresh("kept_features"));
        GraphBuilder::set_int(g, "axis", 1);
        in.tensor = g->output(0);
        in.width = static_cast<std::int64_t>(kept.size());
    }
    return in;
}

bool is_transformer(const std::string& cls) {
    return cls == "StandardScaler" || cls == "MinMaxScaler" || cls == "SimpleImputer";
}

Flow transform(GraphBuilder& b, const json& est, const Flow& in, const std::string& where) {
    const std::string cls = class_of(est, where);
    expect_width(est, in, where);
    if (cls == "StandardScaler") {
        return standard_scaler(b, est, in, where);
    }
    if (cls == "MinMaxScaler") {
        return min_max_scaler(b, est, in, where);
    }
    if (cls == "SimpleImputer") {
        return simple_imputer(b, est, in, where);
    }
    bad(where + " (" + cls + ") is not a transformer and must be the last step of the Pipeline");
}

// ---------------------------------------------------------------- linear models

bool is_linear_regressor(const std::string& cls) {
    return cls == "LinearRegression" || cls == "Ridge" || cls == "Lasso" || cls == "ElasticNet" ||
           cls == "LinearSVR";
}

bool is_linear_classifier(const std::string& cls) {
    return cls == "LogisticRegression" || cls == "LinearSVC";
}

struct Outputs {
    std::vector<std::pair<std::string, std::pair<int, std::int64_t>>> list; // name, (elem type, width)
};

// decision = X · coefᵀ + intercept, [batch, rows]
std::string decision_scores(GraphBuilder& b, const json& est, const Flow& in, const std::string& where,
                            std::int64_t* rows_out, const std::string& exact_name = "") {
    auto coef = matrix(field(est, "coef", where), where + ": coef");
    auto intercept = finite_numbers(field(est, "intercept", where), where + ": intercept");
    const auto rows = static_cast<std::int64_t>(coef.size());
    if (static_cast<std::int64_t>(coef.front().size()) != in.width) {
        bad(where + ": coef has " + std::to_string(coef.front().size()) + " columns for " +
            std::to_string(in.width) + " features");
    }
    if (static_cast<std::int64_t>(intercept.size()) != rows) {
        bad(where + ": " + std::to_string(intercept.size()) + " intercepts for " + std::to_string(rows) +
            " rows of coef");
    }
    std::string w = b.floats("coef", {rows, in.width}, flatten(coef));
    std::string c = b.floats("intercept", {rows}, intercept);
    std::string out = exact_name.empty() ? b.fresh("decision") : exact_name;
    auto* gemm = b.node("Gemm", {in.tensor, w, c}, out);
    GraphBuilder::set_int(gemm, "transB", 1);
    *rows_out = rows;
    return out;
}

// label = labels[index]: the index itself when labels are 0..K-1.
void label_output(GraphBuilder& b, const Labels& l, const std::string& index_base, Outputs& outs,
                  const std::function<void(const std::string&)>& make_index) {
    if (l.identity()) {
        make_index("label");
    } else {
        std::string idx = b.fresh(index_base);
        make_index(idx);
        std::string table = l.strings.empty()
                                ? b.int64s("class_labels", {static_cast<std::int64_t>(l.ints.size())}, l.ints)
                                : b.strings("class_labels", l.strings);
        auto* g = b.node("Gather", {table, idx}, "label");
        GraphBuilder::set_int(g, "axis", 0);
    }
    outs.list.push_back(
        {"label", {l.strings.empty() ? onnx::TensorProto::INT64 : onnx::TensorProto::STRING, 0}});
}

void linear_classifier(GraphBuilder& b, const json& est, const std::string& cls, const Flow& in,
                       const std::string& where, Outputs& outs, SklearnSummary& summary) {
    const Labels l = labels(est, where);
    const auto k = static_cast<std::int64_t>(l.size());
    std::int64_t rows = 0;
    const bool svc = cls == "LinearSVC";
    std::string d = decision_scores(b, est, in, where, &rows, svc ? "decision" : "");
    const bool binary = k == 2;
    if ((binary && rows != 1) || (!binary && rows != k)) {
        bad(where + ": coef has " + std::to_string(rows) + " rows for " + std::to_string(k) + " classes");
    }
    // Binary decisions become [-d, d] so that ArgMax picks classes[1] exactly when d > 0, as
    // predict() does ((scores > 0).astype(int)); ties and d = 0 give classes[0] in both.
    std::string two_col = d;
    if (binary) {
        std::string neg = b.op("Neg", {d}, "neg_decision");
        auto* cat = b.node("Concat", {neg, d}, b.fresh("decision_2"));
        GraphBuilder::set_int(cat, "axis", 1);
        two_col = cat->output(0);
    }
    label_output(b, l, "label_index", outs, [&](const std::string& out) {
        auto* am = b.node("ArgMax", {two_col}, out);
        GraphBuilder::set_int(am, "axis", 1);
        GraphBuilder::set_int(am, "keepdims", 0);
    });
    summary.classes = k;
    if (svc) {
        outs.list.push_back({"decision", {onnx::TensorProto::FLOAT, rows}});
        return;
    }
    // LogisticRegression.predict_proba (scikit-learn 1.2 _logistic.py): one-vs-rest when multi_class
    // is "ovr", or "auto" with 2 classes or the liblinear solver; else multinomial softmax.
    const std::string multi = est.value("multi_class", "auto");
    const std::string solver = est.value("solver", "lbfgs");
    const bool ovr =
        multi == "ovr" || multi == "warn" || (multi == "auto" && (k <= 2 || solver == "liblinear"));
    if (ovr && binary) { // [1 - σ(d), σ(d)]
        std::string p = b.op("Sigmoid", {d}, "p1");
        std::string q = b.op("Sub", {b.floats("one", {}, {1.0}), p}, "p0");
        auto* cat = b.node("Concat", {q, p}, "probabilities");
        GraphBuilder::set_int(cat, "axis", 1);
    } else if (ovr) { // σ(d) normalised to sum 1
        std::string s = b.op("Sigmoid", {d}, "ovr_scores");
        auto* sum = b.node("ReduceSum", {s, b.int64s("sum_axes", {1}, {1})}, b.fresh("ovr_sum"));
        GraphBuilder::set_int(sum, "keepdims", 1);
        b.op("Div", {s, sum->output(0)}, "", "probabilities");
    } else { // softmax over d, or over [-d, d] for 2 classes
        auto* sm = b.node("Softmax", {two_col}, "probabilities");
        GraphBuilder::set_int(sm, "axis", 1);
    }
    outs.list.push_back({"probabilities", {onnx::TensorProto::FLOAT, k}});
}

// ---------------------------------------------------------------- trees

struct SkTree {
    std::vector<std::int64_t> left, right, feature;
    std::vector<double> threshold;
    std::vector<std::vector<double>> value;
    std::vector<std::int64_t> is_leaf;            // HistGradientBoosting: explicit
    std::vector<std::int64_t> missing_go_to_left; // HistGradientBoosting; scikit-learn >= 1.3 trees
};

SkTree read_tree(const json& t, const std::string& where) {
    SkTree s;
    s.left = integers(field(t, "left", where), where + ": left");
    s.right = integers(field(t, "right", where), where + ": right");
    s.feature = integers(field(t, "feature", where), where + ": feature");
    s.threshold = numbers(field(t, "threshold", where), where + ": threshold");
    const json& v = field(t, "value", where);
    if (!v.is_array()) {
        bad(where + ": value: expected an array");
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        s.value.push_back(finite_numbers(v[i], where + ": value[" + std::to_string(i) + "]"));
    }
    if (t.contains("is_leaf")) {
        s.is_leaf = integers(t["is_leaf"], where + ": is_leaf");
    }
    if (t.contains("missing_go_to_left")) {
        s.missing_go_to_left = integers(t["missing_go_to_left"], where + ": missing_go_to_left");
    }
    const std::size_t n = s.left.size();
    if (n == 0) {
        bad(where + ": a tree without nodes");
    }
    if (s.right.size() != n || s.feature.size() != n || s.threshold.size() != n || s.value.size() != n ||
        (!s.is_leaf.empty() && s.is_leaf.size() != n) ||
        (!s.missing_go_to_left.empty() && s.missing_go_to_left.size() != n)) {
        bad(where + ": node arrays of different lengths");
    }
    return s;
}

// What a leaf contributes: (target, weight) pairs from its value row.
using VoteFn = std::function<std::vector<std::pair<std::int32_t, double>>(const std::vector<double>&)>;

void add_tree(TreeEnsemble& e, const SkTree& s, const VoteFn& votes, const std::string& where) {
    Tree tree;
    const auto n = static_cast<std::int64_t>(s.left.size());
    tree.nodes.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        const auto u = static_cast<std::size_t>(i);
        const bool leaf = s.is_leaf.empty() ? s.left[u] < 0 : s.is_leaf[u] != 0;
        if (leaf) {
            tree.nodes[u].mode = NodeMode::leaf;
            auto v = votes(s.value[u]);
            if (v.empty()) {
                bad(where + ": leaf " + std::to_string(i) + " has no value");
            }
            for (const auto& [target, weight] : v) {
                tree.votes.push_back({static_cast<std::int32_t>(i), target, weight});
            }
            continue;
        }
        const std::string node = where + ": node " + std::to_string(i);
        if (s.left[u] <= 0 || s.left[u] >= n || s.right[u] <= 0 || s.right[u] >= n) {
            bad(node + ": child out of range");
        }
        if (s.feature[u] < 0 || s.feature[u] >= e.n_features) {
            bad(node + ": feature " + std::to_string(s.feature[u]) + " out of range (" +
                std::to_string(e.n_features) + " features)");
        }
        const double thr = s.threshold[u];
        if (std::isnan(thr)) {
            bad(node + ": NaN threshold");
        }
        TreeNode& nd = tree.nodes[u];
        nd.feature = static_cast<std::int32_t>(s.feature[u]);
        nd.true_child = static_cast<std::int32_t>(s.left[u]); // x <= thr goes left in scikit-learn
        nd.false_child = static_cast<std::int32_t>(s.right[u]);
        nd.missing_tracks_true = !s.missing_go_to_left.empty() && s.missing_go_to_left[u] != 0;
        if (thr == std::numeric_limits<double>::infinity()) {
            // HistGradientBoosting "split on NaN" nodes use +inf: every number goes left, including
            // +inf, which no single float comparison admits. x <= FLT_MAX, else x > FLT_MAX (= +inf).
            nd.mode = NodeMode::branch_leq;
            nd.threshold = std::numeric_limits<float>::max();
            TreeNode extra;
            extra.mode = NodeMode::branch_gt;
            extra.feature = nd.feature;
            extra.threshold = std::numeric_limits<float>::max();
            extra.true_child = nd.true_child;
            extra.false_child = nd.false_child;
            extra.missing_tracks_true = false;
            nd.false_child = static_cast<std::int32_t>(tree.nodes.size());
            tree.nodes.push_back(extra);
            continue;
        }
        // scikit-learn compares (double)(float)x <= thr (double); the largest float ≤ thr gives the
        // same answer for every float input (docs/design/onnx.md §6).
        FloatTest ft = float_leq_threshold(thr);
        nd.mode = ft.mode;
        nd.threshold = ft.threshold;
    }
    e.trees.push_back(std::move(tree));
}

std::vector<const json*> tree_list(const json& arr, const std::string& where) {
    if (!arr.is_array() || arr.empty()) {
        bad(where + ": expected a non-empty array of trees");
    }
    std::vector<const json*> out;
    for (const auto& t : arr) {
        out.push_back(&t);
    }
    return out;
}

void set_head_labels(Head& h, const Labels& l) {
    h.int_labels = l.ints;
    h.string_labels = l.strings;
}

// DecisionTree*, RandomForest*, ExtraTrees*: averaged (normalised, for classifiers) leaf values.
void forest(TreeEnsemble& e, const json& est, const std::string& cls, const std::string& where,
            SklearnSummary& summary) {
    const bool classifier = cls.find("Classifier") != std::string::npos;
    auto trees = tree_list(field(est, "trees", where), where + ": trees");
    const double share = 1.0 / static_cast<double>(trees.size());
    if (classifier) {
        const Labels l = labels(est, where);
        const auto k = static_cast<std::int32_t>(l.size());
        e.n_targets = k;
        e.head.kind = HeadKind::classifier;
        e.head.transform = Transform::none;
        set_head_labels(e.head, l);
        summary.classes = k;
        // predict_proba: each tree's leaf counts normalised to sum 1 (a zero sum stays 0), averaged
        // over the trees. Every class gets a vote at every leaf (ORT's binary special case depends on
        // the set of voted classes, docs/design/onnx.md §9.1).
        VoteFn vote = [k, share, &where](const std::vector<double>& v) {
            if (static_cast<std::int32_t>(v.size()) != k) {
                bad(where + ": leaf values do not match the " + std::to_string(k) + " classes");
            }
            double sum = 0;
            for (double x : v) {
                sum += x;
            }
            if (sum == 0) {
                sum = 1;
            }
            std::vector<std::pair<std::int32_t, double>> out;
            for (std::int32_t c = 0; c < k; ++c) {
                out.push_back({c, v[static_cast<std::size_t>(c)] / sum * share});
            }
            return out;
        };
        for (std::size_t t = 0; t < trees.size(); ++t) {
            add_tree(e, read_tree(*trees[t], where + ": tree " + std::to_string(t)), vote,
                     where + ": tree " + std::to_string(t));
        }
        return;
    }
    const auto outputs = static_cast<std::int32_t>(est.value("n_outputs", 1));
    e.n_targets = outputs;
    summary.targets = outputs;
    VoteFn vote = [outputs, share, &where](const std::vector<double>& v) {
        if (static_cast<std::int32_t>(v.size()) != outputs) {
            bad(where + ": leaf values do not match the " + std::to_string(outputs) + " outputs");
        }
        std::vector<std::pair<std::int32_t, double>> out;
        for (std::int32_t o = 0; o < outputs; ++o) {
            out.push_back({o, v[static_cast<std::size_t>(o)] * share});
        }
        return out;
    };
    for (std::size_t t = 0; t < trees.size(); ++t) {
        add_tree(e, read_tree(*trees[t], where + ": tree " + std::to_string(t)), vote,
                 where + ": tree " + std::to_string(t));
    }
}

// Boosted ensembles: K trees per iteration, tree k votes into score k; base = the raw initial
// prediction. `scale` multiplies leaf values (GradientBoosting's learning_rate; HistGradientBoosting
// leaves already include it).
void boosted(TreeEnsemble& e, const json& iterations, double scale, const std::string& where) {
    if (!iterations.is_array() || iterations.empty()) {
        bad(where + ": expected a non-empty array of iterations");
    }
    const auto k = static_cast<std::int32_t>(iterations.front().size());
    if (k < 1) {
        bad(where + ": an iteration without trees");
    }
    e.n_targets = k;
    for (std::size_t it = 0; it < iterations.size(); ++it) {
        const json& trees = iterations[it];
        if (!trees.is_array() || static_cast<std::int32_t>(trees.size()) != k) {
            bad(where + ": iteration " + std::to_string(it) + " does not have " + std::to_string(k) +
                " trees");
        }
        for (std::int32_t c = 0; c < k; ++c) {
            std::string w = where + ": iteration " + std::to_string(it) + " tree " + std::to_string(c);
            VoteFn vote = [c, scale, &w](const std::vector<double>& v) {
                if (v.size() != 1) {
                    bad(w + ": a boosting leaf has one value");
                }
                return std::vector<std::pair<std::int32_t, double>>{{c, v[0] * scale}};
            };
            add_tree(e, read_tree(trees[static_cast<std::size_t>(c)], w), vote, w);
        }
    }
}

void boosted_head(TreeEnsemble& e, const json& est, bool classifier, const std::string& where,
                  SklearnSummary& summary) {
    if (!classifier) {
        summary.targets = e.n_targets;
        return;
    }
    const Labels l = labels(est, where);
    const auto k = static_cast<std::int32_t>(l.size());
    if ((k == 2 && e.n_targets != 1) || (k > 2 && e.n_targets != k)) {
        bad(where + ": " + std::to_string(e.n_targets) + " trees per iteration for " + std::to_string(k) +
            " classes");
    }
    e.head.kind = HeadKind::classifier;
    e.head.transform = k == 2 ? Transform::sigmoid : Transform::softmax;
    set_head_labels(e.head, l);
    summary.classes = k;
}

void gradient_boosting(TreeEnsemble& e, const json& est, const std::string& cls, const std::string& where,
                       SklearnSummary& summary) {
    const bool classifier = cls == "GradientBoostingClassifier";
    const double lr = number(field(est, "learning_rate", where), where + ": learning_rate");
    boosted(e, field(est, "stages", where), lr, where);
    auto init = finite_numbers(field(est, "init_raw", where), where + ": init_raw");
    if (static_cast<std::int32_t>(init.size()) != e.n_targets) {
        bad(where + ": init_raw has " + std::to_string(init.size()) + " values for " +
            std::to_string(e.n_targets) + " scores");
    }
    e.base_values = init;
    boosted_head(e, est, classifier, where, summary);
    const std::string loss = est.value("loss", "");
    if (classifier) {
        // scikit-learn 1.2 _gb_losses: BinomialDeviance → expit(raw); ExponentialLoss → expit(2·raw);
        // MultinomialDeviance → softmax.
        if (loss == "exponential") {
            if (e.head.class_count() != 2) {
                bad(where + ": exponential loss with more than 2 classes");
            }
            e.head.scale = 2.0;
        } else if (loss != "log_loss" && loss != "deviance") {
            bad(where + ": GradientBoostingClassifier loss '" + loss + "' is not supported");
        }
    } else if (loss != "squared_error" && loss != "absolute_error" && loss != "huber" && loss != "quantile" &&
               loss != "ls" && loss != "lad") {
        bad(where + ": GradientBoostingRegressor loss '" + loss + "' is not supported");
    }
}

void hist_gradient_boosting(TreeEnsemble& e, const json& est, const std::string& cls,
                            const std::string& where, SklearnSummary& summary) {
    const bool classifier = cls == "HistGradientBoostingClassifier";
    boosted(e, field(est, "predictors", where), 1.0, where);
    auto baseline = finite_numbers(field(est, "baseline", where), where + ": baseline");
    if (static_cast<std::int32_t>(baseline.size()) != e.n_targets) {
        bad(where + ": baseline has " + std::to_string(baseline.size()) + " values for " +
            std::to_string(e.n_targets) + " scores");
    }
    e.base_values = baseline;
    boosted_head(e, est, classifier, where, summary);
    // The loss's inverse link turns raw predictions into outputs (sklearn/_loss/link.py).
    const std::string link = est.value("link", "IdentityLink");
    if (classifier) {
        if (link != "LogitLink" && link != "MultinomialLogit") {
            bad(where + ": HistGradientBoostingClassifier with link " + link + " is not supported");
        }
    } else if (link == "LogLink") {
        e.head.transform = Transform::exp;
    } else if (link != "IdentityLink") {
        bad(where + ": HistGradientBoostingRegressor with link " + link + " is not supported");
    }
}

bool is_tree_model(const std::string& cls) {
    static const std::set<std::string> trees = {
        "DecisionTreeClassifier",       "DecisionTreeRegressor",     "RandomForestClassifier",
        "RandomForestRegressor",        "ExtraTreesClassifier",      "ExtraTreesRegressor",
        "GradientBoostingClassifier",   "GradientBoostingRegressor", "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor"};
    return trees.count(cls) != 0;
}

TreeEnsemble tree_model(const json& est, const std::string& cls, std::int64_t width, const std::string& where,
                        SklearnSummary& summary) {
    TreeEnsemble e;
    e.n_features = width;
    if (cls.starts_with("HistGradientBoosting")) {
        hist_gradient_boosting(e, est, cls, where, summary);
    } else if (cls.starts_with("GradientBoosting")) {
        gradient_boosting(e, est, cls, where, summary);
    } else {
        forest(e, est, cls, where, summary);
    }
    summary.trees = e.trees.size();
    summary.nodes = e.node_count();
    return e;
}

// ---------------------------------------------------------------- assembly

std::string first_line(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

Result<void> check_built(onnx::ModelProto& m) {
    if (auto findings = validate_tree_ensembles(m); !findings.empty()) {
        return fail("structural validation failed: " + findings.front().message, ExitCode::validation);
    }
    try {
        onnx::checker::check_model(m);
    } catch (const std::exception& ex) {
        return fail("the ONNX checker rejected the built model: " + first_line(ex.what()),
                    ExitCode::validation);
    }
    try {
        onnx::ShapeInferenceOptions si{true, 1, false};
        onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(), si);
    } catch (const std::exception& ex) {
        return fail("shape inference rejected the built model: " + first_line(ex.what()),
                    ExitCode::validation);
    }
    return {};
}

// Moves the last `count` nodes of `g` to the front, keeping their order (pointer swaps only).
void rotate_to_front(onnx::GraphProto* g, int count) {
    const int n = g->node_size();
    for (int i = 0; i < count; ++i) {
        for (int j = n - count + i; j > i; --j) {
            g->mutable_node()->SwapElements(j, j - 1);
        }
    }
}

struct Plan {
    std::vector<std::pair<std::string, const json*>> transformers; // where, estimator
    const json* final = nullptr;                                   // nullptr: the pipeline only transforms
    std::string final_where;
    std::string final_class;
    std::string chain;
    std::vector<std::string> feature_names;
    std::int64_t features = 0;
};

Plan plan_of(const json& top) {
    Plan p;
    std::vector<std::pair<std::string, const json*>> steps;
    std::vector<std::string> names;
    const std::string top_class = class_of(top, "the model");
    if (top_class == "Pipeline") {
        const json& s = field(top, "steps", "the Pipeline");
        if (!s.is_array() || s.empty()) {
            bad("the Pipeline has no steps");
        }
        for (const auto& step : s) {
            std::string where = "Pipeline step '" + step.value("name", std::string("?")) + "'";
            const json& est = field(step, "estimator", where);
            if (class_of(est, where) == "Pipeline") {
                bad(where + ": nested Pipelines are not supported", ExitCode::failure,
                    "flatten the Pipeline");
            }
            steps.push_back({where, &est});
        }
    } else {
        steps.push_back({top_class, &top});
    }
    const auto& supported = supported_sklearn_estimators();
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto& [where, est] = steps[i];
        const std::string cls = class_of(*est, where);
        if (std::find(supported.begin(), supported.end(), cls) == supported.end() || cls == "Pipeline") {
            bad(where + " is " + cls + ", which edgeship cannot convert", ExitCode::failure,
                "supported: " + supported_list());
        }
        names.push_back(cls);
        const bool last = i + 1 == steps.size();
        if (is_transformer(cls)) {
            p.transformers.push_back({where, est});
        } else if (!last) {
            bad(where + " (" + cls + ") is not a transformer and must be the last step of the Pipeline");
        } else {
            p.final = est;
            p.final_where = where;
            p.final_class = cls;
        }
    }
    p.chain = top_class == "Pipeline" ? "Pipeline(" : "";
    for (std::size_t i = 0; i < names.size(); ++i) {
        p.chain += (i ? ", " : "") + names[i];
    }
    if (top_class == "Pipeline") {
        p.chain += ")";
    }
    const json& first = *steps.front().second;
    p.features = first.value("n_features_in", std::int64_t{0});
    if (p.features <= 0) {
        bad(steps.front().first + ": n_features_in is missing");
    }
    if (first.contains("feature_names") && first["feature_names"].is_array()) {
        for (const auto& n : first["feature_names"]) {
            if (n.is_string()) {
                p.feature_names.push_back(n.get<std::string>());
            }
        }
    }
    return p;
}

Result<SklearnBuild> build(const json& description, const SklearnBuildOptions& options) {
    if (options.opset < 13 || options.opset > 17) {
        return fail("--opset " + std::to_string(options.opset) +
                        ": scikit-learn models are written for ai.onnx opsets 13 to 17 (Debian's ONNX 1.12 "
                        "checks up to 17)",
                    ExitCode::usage);
    }
    if (!description.is_object() || description.value("schema", "") != k_sklearn_schema) {
        bad(std::string("not an edgeship scikit-learn description (schema ") + k_sklearn_schema +
            " expected)");
    }
    SklearnSummary summary;
    summary.sklearn_version = description.value("sklearn_version", "");
    if (description.contains("warnings") && description["warnings"].is_array()) {
        for (const auto& w : description["warnings"]) {
            if (w.is_string()) {
                summary.warnings.push_back(w.get<std::string>());
            }
        }
    }
    const Plan plan = plan_of(field(description, "estimator", "the description"));
    summary.estimator = plan.chain;
    summary.features = plan.features;
    summary.feature_names = plan.feature_names;

    const bool tree = plan.final != nullptr && is_tree_model(plan.final_class);
    if (tree) {
        // Preprocessing first (to learn the width the trees see), in a scratch graph spliced in front.
        onnx::GraphProto pre;
        GraphBuilder b(&pre, "pre_");
        Flow flow{options.input_name, plan.features};
        for (const auto& [where, est] : plan.transformers) {
            flow = transform(b, *est, flow, where);
        }
        expect_width(*plan.final, flow, plan.final_where);
        TreeEnsemble e = tree_model(*plan.final, plan.final_class, flow.width, plan.final_where, summary);
        if (e.head.kind == HeadKind::scores && !options.output_name.empty()) {
            e.head.output_name = options.output_name;
        }
        if (e.head.kind == HeadKind::scores) {
            summary.task = "regressor";
        } else {
            summary.task = "classifier";
            if (!options.output_name.empty()) {
                bad("--output-name renames a regression or transform output; classifiers output 'label' and "
                    "'probabilities' (LinearSVC: 'decision')",
                    ExitCode::usage);
            }
        }
        EmitOptions eo;
        eo.graph_name = options.graph_name;
        eo.input_name = plan.transformers.empty() ? options.input_name : std::string("pre_tree_input");
        eo.opset = options.opset;
        eo.producer_version = options.producer_version;
        eo.doc_string = options.doc_string;
        eo.metadata = options.metadata;
        EDGESHIP_TRY_ASSIGN(OnnxModel model, emit_tree_ensemble(std::move(e), eo));
        if (!plan.transformers.empty()) {
            b.node("Identity", {flow.tensor}, "pre_tree_input");
            onnx::GraphProto* g = model.proto().mutable_graph();
            for (const auto& n : pre.node()) {
                g->add_node()->CopyFrom(n);
            }
            rotate_to_front(g, pre.node_size());
            for (const auto& t : pre.initializer()) {
                g->add_initializer()->CopyFrom(t);
            }
            onnx::ValueInfoProto* in = g->mutable_input(0);
            in->Clear();
            set_value_info(in, options.input_name, onnx::TensorProto::FLOAT, plan.features);
            EDGESHIP_TRY(check_built(model.proto()));
        }
        return SklearnBuild{std::move(model), std::move(summary)};
    }

    onnx::ModelProto m;
    set_model_header(m, options.opset, options.producer_version, options.doc_string, options.metadata, false);
    onnx::GraphProto* g = m.mutable_graph();
    g->set_name(options.graph_name);
    set_value_info(g->add_input(), options.input_name, onnx::TensorProto::FLOAT, plan.features);
    GraphBuilder b(g, "");
    Flow flow{options.input_name, plan.features};
    for (const auto& [where, est] : plan.transformers) {
        flow = transform(b, *est, flow, where);
    }
    Outputs outs;
    if (plan.final == nullptr) {
        const std::string name = options.output_name.empty() ? "transformed" : options.output_name;
        b.op("Identity", {flow.tensor}, "", name);
        outs.list.push_back({name, {onnx::TensorProto::FLOAT, flow.width}});
        summary.task = "transformer";
        summary.targets = flow.width;
    } else {
        expect_width(*plan.final, flow, plan.final_where);
        if (is_linear_regressor(plan.final_class)) {
            const std::string name = options.output_name.empty() ? "prediction" : options.output_name;
            std::int64_t rows = 0;
            decision_scores(b, *plan.final, flow, plan.final_where, &rows, name);
            outs.list.push_back({name, {onnx::TensorProto::FLOAT, rows}});
            summary.task = "regressor";
            summary.targets = rows;
        } else if (is_linear_classifier(plan.final_class)) {
            linear_classifier(b, *plan.final, plan.final_class, flow, plan.final_where, outs, summary);
            summary.task = "classifier";
            if (!options.output_name.empty()) {
                bad("--output-name renames a regression or transform output; classifiers output 'label' and "
                    "'probabilities' (LinearSVC: 'decision')",
                    ExitCode::usage);
            }
        } else {
            bad(plan.final_where + " (" + plan.final_class + ") cannot be converted", ExitCode::failure,
                "supported: " + supported_list());
        }
    }
    for (const auto& [name, tw] : outs.list) {
        set_value_info(g->add_output(), name, tw.first, tw.second);
    }
    EDGESHIP_TRY(check_built(m));
    return SklearnBuild{OnnxModel::from(std::move(m)), std::move(summary)};
}

} // namespace

const std::vector<std::string>& supported_sklearn_estimators() {
    static const std::vector<std::string> list = {"DecisionTreeClassifier",
                                                  "DecisionTreeRegressor",
                                                  "ElasticNet",
                                                  "ExtraTreesClassifier",
                                                  "ExtraTreesRegressor",
                                                  "GradientBoostingClassifier",
                                                  "GradientBoostingRegressor",
                                                  "HistGradientBoostingClassifier",
                                                  "HistGradientBoostingRegressor",
                                                  "Lasso",
                                                  "LinearRegression",
                                                  "LinearSVC",
                                                  "LinearSVR",
                                                  "LogisticRegression",
                                                  "MinMaxScaler",
                                                  "Pipeline",
                                                  "RandomForestClassifier",
                                                  "RandomForestRegressor",
                                                  "Ridge",
                                                  "SimpleImputer",
                                                  "StandardScaler"};
    return list;
}

Result<SklearnBuild> build_sklearn_model(const nlohmann::json& description,
                                         const SklearnBuildOptions& options) {
    try {
        return build(description, options);
    } catch (const DescriptionError& e) {
        Error err(e.what(), e.code);
        if (!e.hint.empty()) {
            err.hint(e.hint);
        }
        return unexpected(std::move(err));
    } catch (const nlohmann::json::exception& e) {
        return fail(std::string("malformed scikit-learn description: ") + e.what());
    }
}

} // namespace edgeship::model
