#include "model/xgboost_reader.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <cmath>
#include <limits>
#include <map>
#include <variant>

namespace edgeship::model {

namespace {

using json = nlohmann::json;

// One tree exactly as stored (docs/design/onnx.md §4.1); only the arrays the conversion needs are kept.
struct RawTree {
    std::string num_nodes;
    std::string size_leaf_vector;
    std::vector<std::int32_t> left;
    std::vector<std::int32_t> right;
    std::vector<std::int32_t> split_index;
    std::vector<float> cond;
    std::vector<std::uint8_t> default_left;
    std::vector<std::uint8_t> split_type;
    std::vector<std::int64_t> categories;
    std::vector<std::int64_t> categories_nodes;
    std::vector<std::int64_t> categories_segments;
    std::vector<std::int64_t> categories_sizes;
};

struct RawModel {
    bool has_learner = false;
    std::vector<std::int64_t> version;
    std::map<std::string, std::string> model_param; // learner_model_param, every value as text
    std::string objective;
    std::vector<std::string> feature_names;
    std::vector<std::string> feature_types;
    std::map<std::string, std::string> attributes;
    std::string booster;
    std::map<std::string, std::string> gbtree_param;
    std::vector<double> weight_drop;
    bool has_weight_drop = false;
    std::vector<std::int64_t> tree_info;
    std::vector<std::int64_t> iteration_indptr;
    bool has_model = false;
    std::vector<RawTree> trees;
};

enum class Ctx {
    root,
    learner,
    model_param,
    objective,
    attributes,
    booster,
    dart_inner,
    model,
    gbtree_param,
    tree,
    tree_param,
    skip_object,
    // arrays
    version,
    strings,
    doubles,
    int64s,
    int32s,
    floats,
    uint8s,
    trees,
    skip_array,
};

using Target = std::variant<std::monostate, std::vector<std::string>*, std::vector<double>*, std::vector<std::int64_t>*,
                            std::vector<std::int32_t>*, std::vector<float>*, std::vector<std::uint8_t>*>;

struct Frame {
    Ctx ctx;
    Target target;
    const char* name = ""; // array name, for errors
};

std::string number_text(double v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
}

// The SAX handler: a stack of known places in the document; values are appended straight into
// RawModel's vectors. Unknown keys are skipped, so newer XGBoost versions with more fields still load.
class Handler : public json::json_sax_t {
public:
    Handler(RawModel& m, std::size_t input_size) : m_model(m), m_input_size(input_size) {}

    std::string error;
    std::optional<std::size_t> error_position;

    bool null() override { return scalar(Scalar{}); }
    bool boolean(bool v) override {
        Scalar s;
        s.kind = Scalar::number;
        s.d = v ? 1 : 0;
        s.i = v ? 1 : 0;
        s.integral = true;
        return scalar(s);
    }
    bool number_integer(number_integer_t v) override {
        Scalar s;
        s.kind = Scalar::number;
        s.i = v;
        s.d = static_cast<double>(v);
        s.integral = true;
        return scalar(s);
    }
    bool number_unsigned(number_unsigned_t v) override {
        Scalar s;
        s.kind = Scalar::number;
        s.i = v > static_cast<number_unsigned_t>(std::numeric_limits<std::int64_t>::max())
                  ? std::numeric_limits<std::int64_t>::max()
                  : static_cast<std::int64_t>(v);
        s.d = static_cast<double>(v);
        s.integral = true;
        return scalar(s);
    }
    bool number_float(number_float_t v, const string_t&) override {
        Scalar s;
        s.kind = Scalar::number;
        s.d = v;
        s.integral = std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 9.0e18;
        s.i = s.integral ? static_cast<std::int64_t>(v) : 0;
        return scalar(s);
    }
    bool string(string_t& v) override {
        Scalar s;
        s.kind = Scalar::text;
        s.s = &v;
        return scalar(s);
    }
    bool binary(binary_t&) override { return scalar(Scalar{}); }

    bool key(string_t& k) override {
        m_key = k;
        return true;
    }

    bool start_object(std::size_t) override {
        if (m_stack.empty()) {
            m_stack.push_back({Ctx::root, {}});
            return true;
        }
        const Ctx parent = m_stack.back().ctx;
        Ctx next = Ctx::skip_object;
        switch (parent) {
        case Ctx::root:
            if (m_key == "learner") {
                next = Ctx::learner;
                m_model.has_learner = true;
            }
            break;
        case Ctx::learner:
            if (m_key == "learner_model_param") {
                next = Ctx::model_param;
            } else if (m_key == "objective") {
                next = Ctx::objective;
            } else if (m_key == "attributes") {
                next = Ctx::attributes;
            } else if (m_key == "gradient_booster") {
                next = Ctx::booster;
            }
            break;
        case Ctx::booster:
            if (m_key == "model") {
                next = Ctx::model;
                m_model.has_model = true;
            } else if (m_key == "gbtree") { // dart keeps its trees in an inner gbtree
                next = Ctx::dart_inner;
            }
            break;
        case Ctx::dart_inner:
            if (m_key == "model") {
                next = Ctx::model;
                m_model.has_model = true;
            }
            break;
        case Ctx::model:
            if (m_key == "gbtree_model_param") {
                next = Ctx::gbtree_param;
            }
            break;
        case Ctx::trees:
            next = Ctx::tree;
            m_model.trees.emplace_back();
            break;
        case Ctx::tree:
            if (m_key == "tree_param") {
                next = Ctx::tree_param;
            }
            break;
        default: break;
        }
        m_stack.push_back({next, {}});
        return true;
    }

    bool end_object() override {
        if (!m_stack.empty()) {
            m_stack.pop_back();
        }
        return true;
    }

    bool start_array(std::size_t len) override {
        Frame f{Ctx::skip_array, {}};
        if (!m_stack.empty()) {
            const Ctx parent = m_stack.back().ctx;
            if (parent == Ctx::root && m_key == "version") {
                f = {Ctx::version, &m_model.version, "version"};
            } else if (parent == Ctx::learner && m_key == "feature_names") {
                f = {Ctx::strings, &m_model.feature_names, "feature_names"};
            } else if (parent == Ctx::learner && m_key == "feature_types") {
                f = {Ctx::strings, &m_model.feature_types, "feature_types"};
            } else if (parent == Ctx::booster && m_key == "weight_drop") {
                m_model.has_weight_drop = true;
                f = {Ctx::doubles, &m_model.weight_drop, "weight_drop"};
            } else if (parent == Ctx::model && m_key == "tree_info") {
                f = {Ctx::int64s, &m_model.tree_info, "tree_info"};
            } else if (parent == Ctx::model && m_key == "iteration_indptr") {
                f = {Ctx::int64s, &m_model.iteration_indptr, "iteration_indptr"};
            } else if (parent == Ctx::model && m_key == "trees") {
                f = {Ctx::trees, {}, "trees"};
            } else if (parent == Ctx::tree) {
                f = tree_array(m_model.trees.back());
            }
        }
        // UBJ typed arrays announce their length: reserve, but never more than the input could hold.
        if (len != static_cast<std::size_t>(-1) && len <= m_input_size) {
            std::visit(
                [len](auto& v) {
                    if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) {
                        v->reserve(len);
                    }
                },
                f.target);
        }
        m_stack.push_back(f);
        return true;
    }

    bool end_array() override {
        if (m_stack.empty()) {
            return true;
        }
        // XGBoost writes keys sorted, so default_left comes before the other per-node arrays: its length
        // is num_nodes, and reserving the rest exactly avoids doubling their capacity.
        if (m_stack.back().ctx == Ctx::uint8s && std::strcmp(m_stack.back().name, "default_left") == 0 &&
            !m_model.trees.empty()) {
            RawTree& t = m_model.trees.back();
            const std::size_t n = t.default_left.size();
            t.left.reserve(n);
            t.right.reserve(n);
            t.split_index.reserve(n);
            t.cond.reserve(n);
            t.split_type.reserve(n);
        }
        m_stack.pop_back();
        return true;
    }

    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
        std::string what = ex.what();
        // "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error …": keep the tail.
        if (auto p = what.find("] "); p != std::string::npos) {
            what = what.substr(p + 2);
        }
        // "parse error at line 1, column 7: …": the position is reported as a byte offset instead.
        if (what.starts_with("parse error")) {
            if (auto p = what.find(": "); p != std::string::npos) {
                what = what.substr(p + 2);
            }
        }
        error = what;
        error_position = position;
        return false;
    }

private:
    struct Scalar {
        enum Kind { none, number, text } kind = none;
        double d = 0;
        std::int64_t i = 0;
        bool integral = false;
        const std::string* s = nullptr;
        std::string as_text() const { return kind == text ? *s : kind == number ? number_text(d) : std::string(); }
    };

    // A number, or one of the quoted non-finite tokens written by quote_non_finite.
    static std::optional<double> number_of(const Scalar& v) {
        if (v.kind == Scalar::number) {
            return v.d;
        }
        if (v.kind == Scalar::text) {
            if (*v.s == "N") {
                return std::numeric_limits<double>::quiet_NaN();
            }
            if (*v.s == "Inf") {
                return std::numeric_limits<double>::infinity();
            }
            if (*v.s == "-Inf") {
                return -std::numeric_limits<double>::infinity();
            }
        }
        return std::nullopt;
    }

    Frame tree_array(RawTree& t) {
        if (m_key == "left_children") {
            return {Ctx::int32s, &t.left, "left_children"};
        }
        if (m_key == "right_children") {
            return {Ctx::int32s, &t.right, "right_children"};
        }
        if (m_key == "split_indices") {
            return {Ctx::int32s, &t.split_index, "split_indices"};
        }
        if (m_key == "split_conditions") {
            return {Ctx::floats, &t.cond, "split_conditions"};
        }
        if (m_key == "default_left") {
            return {Ctx::uint8s, &t.default_left, "default_left"};
        }
        if (m_key == "split_type") {
            return {Ctx::uint8s, &t.split_type, "split_type"};
        }
        if (m_key == "categories") {
            return {Ctx::int64s, &t.categories, "categories"};
        }
        if (m_key == "categories_nodes") {
            return {Ctx::int64s, &t.categories_nodes, "categories_nodes"};
        }
        if (m_key == "categories_segments") {
            return {Ctx::int64s, &t.categories_segments, "categories_segments"};
        }
        if (m_key == "categories_sizes") {
            return {Ctx::int64s, &t.categories_sizes, "categories_sizes"};
        }
        return {Ctx::skip_array, {}}; // parents, loss_changes, sum_hessian, base_weights
    }

    bool bad_value(const Frame& f, const char* expected) {
        std::string where = f.ctx == Ctx::int32s || f.ctx == Ctx::floats || f.ctx == Ctx::uint8s ||
                                    (f.ctx == Ctx::int64s && std::string_view(f.name).starts_with("categories"))
                                ? "tree " + std::to_string(m_model.trees.size() - 1) + ": "
                                : std::string();
        error = where + std::string(f.name) + " holds a value that is not " + expected;
        return false;
    }

    bool scalar(const Scalar& v) {
        if (m_stack.empty()) {
            error = "not an XGBoost model (the document is not an object)";
            return false;
        }
        Frame& f = m_stack.back();
        switch (f.ctx) {
        case Ctx::version:
        case Ctx::int64s:
            if (v.kind != Scalar::number || !v.integral) {
                return bad_value(f, "an integer");
            }
            std::get<std::vector<std::int64_t>*>(f.target)->push_back(v.i);
            return true;
        case Ctx::int32s:
            if (v.kind != Scalar::number || !v.integral || v.i < std::numeric_limits<std::int32_t>::min() ||
                v.i > std::numeric_limits<std::int32_t>::max()) {
                return bad_value(f, "a 32-bit integer");
            }
            std::get<std::vector<std::int32_t>*>(f.target)->push_back(static_cast<std::int32_t>(v.i));
            return true;
        case Ctx::uint8s:
            if (v.kind != Scalar::number || !v.integral || v.i < 0 || v.i > 255) {
                return bad_value(f, "0 or 1");
            }
            std::get<std::vector<std::uint8_t>*>(f.target)->push_back(static_cast<std::uint8_t>(v.i));
            return true;
        case Ctx::floats: {
            auto d = number_of(v);
            if (!d) {
                return bad_value(f, "a number");
            }
            std::get<std::vector<float>*>(f.target)->push_back(static_cast<float>(*d));
            return true;
        }
        case Ctx::doubles: {
            auto d = number_of(v);
            if (!d) {
                return bad_value(f, "a number");
            }
            std::get<std::vector<double>*>(f.target)->push_back(*d);
            return true;
        }
        case Ctx::strings:
            std::get<std::vector<std::string>*>(f.target)->push_back(v.as_text());
            return true;
        case Ctx::model_param: m_model.model_param[m_key] = v.as_text(); return true;
        case Ctx::objective:
            if (m_key == "name") {
                m_model.objective = v.as_text();
            }
            return true;
        case Ctx::attributes: m_model.attributes[m_key] = v.as_text(); return true;
        case Ctx::booster:
            if (m_key == "name") {
                m_model.booster = v.as_text();
            }
            return true;
        case Ctx::gbtree_param: m_model.gbtree_param[m_key] = v.as_text(); return true;
        case Ctx::tree_param:
            if (m_key == "num_nodes") {
                m_model.trees.back().num_nodes = v.as_text();
            } else if (m_key == "size_leaf_vector") {
                m_model.trees.back().size_leaf_vector = v.as_text();
            }
            return true;
        default: return true; // skipped places and fields we do not need
        }
    }

    RawModel& m_model;
    std::size_t m_input_size;
    std::vector<Frame> m_stack;
    std::string m_key;
};

Result<double> parse_double(std::string_view text, const std::string& what) {
    std::string_view t = text;
    while (!t.empty() && t.front() == ' ') {
        t.remove_prefix(1);
    }
    while (!t.empty() && t.back() == ' ') {
        t.remove_suffix(1);
    }
    if (!t.empty() && t.front() == '+') {
        t.remove_prefix(1);
    }
    double v = 0;
    auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size()) {
        return fail(what + ": '" + std::string(text) + "' is not a number");
    }
    return v;
}

Result<std::int64_t> parse_int(const std::map<std::string, std::string>& m, const std::string& key, std::int64_t fallback,
                               const std::string& where) {
    auto it = m.find(key);
    if (it == m.end() || it->second.empty()) {
        return fallback;
    }
    EDGESHIP_TRY_ASSIGN(double v, parse_double(it->second, where + "." + key));
    if (!std::isfinite(v) || std::floor(v) != v || v < -1e15 || v > 1e15) {
        return fail(where + "." + key + ": '" + it->second + "' is not an integer");
    }
    return static_cast<std::int64_t>(v);
}

enum class Link { identity, logit, log };

struct Objective {
    Link link;
    HeadKind kind;
    Transform transform;
    bool multiclass;
};

// docs/design/onnx.md §4.4; rank:* produce raw scores.
const std::map<std::string, Objective>& objectives() {
    static const std::map<std::string, Objective> table = {
        {"reg:squarederror", {Link::identity, HeadKind::scores, Transform::none, false}},
        {"reg:squaredlogerror", {Link::identity, HeadKind::scores, Transform::none, false}},
        {"reg:pseudohubererror", {Link::identity, HeadKind::scores, Transform::none, false}},
        {"reg:absoluteerror", {Link::identity, HeadKind::scores, Transform::none, false}},
        {"reg:quantileerror", {Link::identity, HeadKind::scores, Transform::none, false}},
        {"reg:logistic", {Link::logit, HeadKind::scores, Transform::sigmoid, false}},
        {"binary:logistic", {Link::logit, HeadKind::classifier, Transform::sigmoid, false}},
        // Measured with XGBoost 1.7.4: binary:logitraw adds base_score to the margin as is (no logit).
        {"binary:logitraw", {Link::identity, HeadKind::scores, Transform::none, false}},
        {"binary:hinge", {Link::identity, HeadKind::hinge, Transform::none, false}},
        {"multi:softprob", {Link::identity, HeadKind::classifier, Transform::softmax, true}},
        {"multi:softmax", {Link::identity, HeadKind::classifier, Transform::softmax, true}},
        {"count:poisson", {Link::log, HeadKind::scores, Transform::exp, false}},
        {"reg:gamma", {Link::log, HeadKind::scores, Transform::exp, false}},
        {"reg:tweedie", {Link::log, HeadKind::scores, Transform::exp, false}},
        {"rank:pairwise", {Link::identity, HeadKind::scores, Transform::none, false}},
        {"rank:ndcg", {Link::identity, HeadKind::scores, Transform::none, false}},
        {"rank:map", {Link::identity, HeadKind::scores, Transform::none, false}},
    };
    return table;
}

std::string supported_objectives() {
    std::string s;
    for (const auto& [name, o] : objectives()) {
        s += (s.empty() ? "" : ", ") + name;
    }
    return s;
}

Result<double> apply_link(Link link, double b, const std::string& objective) {
    switch (link) {
    case Link::identity: return b;
    case Link::logit:
        if (!(b > 0.0 && b < 1.0)) {
            return fail("base_score " + number_text(b) + " must lie in (0, 1) for " + objective, ExitCode::validation);
        }
        // XGBoost's ProbToMargin in float: -log(1/b - 1).
        return static_cast<double>(-std::log(1.0f / static_cast<float>(b) - 1.0f));
    case Link::log:
        if (!(b > 0.0)) {
            return fail("base_score " + number_text(b) + " must be > 0 for " + objective, ExitCode::validation);
        }
        return static_cast<double>(std::log(static_cast<float>(b)));
    }
    return b;
}

std::string tree_node(std::size_t t, std::int64_t node) {
    return "tree " + std::to_string(t) + " node " + std::to_string(node) + ": ";
}

// One XGBoost tree -> neutral nodes. Nodes reachable from the root are renumbered in DFS order;
// a node reached twice means a cycle (XGBoost trees never share children).
Result<Tree> convert_tree(RawTree& r, std::size_t t, std::int32_t group, double weight, std::int64_t n_features) {
    auto bad = [t](const std::string& msg) { return fail("tree " + std::to_string(t) + ": " + msg, ExitCode::validation); };
    std::int64_t n = static_cast<std::int64_t>(r.left.size());
    if (!r.num_nodes.empty()) {
        EDGESHIP_TRY_ASSIGN(double nn, parse_double(r.num_nodes, "tree " + std::to_string(t) + ": tree_param.num_nodes"));
        n = static_cast<std::int64_t>(nn);
    }
    if (!r.size_leaf_vector.empty()) {
        EDGESHIP_TRY_ASSIGN(double slv, parse_double(r.size_leaf_vector, "tree_param.size_leaf_vector"));
        if (slv > 1) {
            return fail("tree " + std::to_string(t) + ": vector leaves (size_leaf_vector=" + r.size_leaf_vector +
                        ", multi_strategy=multi_output_tree) are not supported");
        }
    }
    if (n <= 0) {
        return bad("the tree has no nodes");
    }
    const auto un = static_cast<std::size_t>(n);
    struct Len {
        const char* name;
        std::size_t size;
    };
    for (const auto& l : {Len{"left_children", r.left.size()}, Len{"right_children", r.right.size()},
                          Len{"split_indices", r.split_index.size()}, Len{"split_conditions", r.cond.size()},
                          Len{"default_left", r.default_left.size()}}) {
        if (l.size != un) {
            return bad(std::string(l.name) + " has " + std::to_string(l.size) + " entries but num_nodes is " +
                       std::to_string(n));
        }
    }
    if (!r.split_type.empty() && r.split_type.size() != un) {
        return bad("split_type has " + std::to_string(r.split_type.size()) + " entries but num_nodes is " + std::to_string(n));
    }

    // Reachable nodes, renumbered in DFS preorder.
    std::vector<std::int32_t> new_id(un, -1);
    std::vector<std::int32_t> order;
    std::vector<std::int32_t> stack{0};
    while (!stack.empty()) {
        std::int32_t i = stack.back();
        stack.pop_back();
        auto ui = static_cast<std::size_t>(i);
        if (new_id[ui] >= 0) {
            return fail(tree_node(t, i) + "reached twice from the root (a cycle or a shared child)", ExitCode::validation);
        }
        new_id[ui] = static_cast<std::int32_t>(order.size());
        order.push_back(i);
        std::int32_t l = r.left[ui];
        std::int32_t rt = r.right[ui];
        if (l == -1) {
            if (rt != -1) {
                return fail(tree_node(t, i) + "left child is -1 (a leaf) but right child is " + std::to_string(rt),
                            ExitCode::validation);
            }
            continue;
        }
        for (auto [side, c] : {std::pair<const char*, std::int32_t>{"left", l}, std::pair<const char*, std::int32_t>{"right", rt}}) {
            if (c < 0 || c >= n) {
                return fail(tree_node(t, i) + side + " child " + std::to_string(c) + " is out of range (the tree has " +
                                std::to_string(n) + " nodes)",
                            ExitCode::validation);
            }
        }
        stack.push_back(rt);
        stack.push_back(l);
    }

    // Categorical splits: node -> [begin, end) of `categories` (docs/design/onnx.md §4.1).
    std::map<std::int64_t, std::pair<std::size_t, std::size_t>> cat_ranges;
    if (!r.categories_nodes.empty()) {
        if (r.categories_segments.size() != r.categories_nodes.size() ||
            r.categories_sizes.size() != r.categories_nodes.size()) {
            return bad("categories_nodes, categories_segments and categories_sizes differ in length");
        }
        for (std::size_t k = 0; k < r.categories_nodes.size(); ++k) {
            std::int64_t beg = r.categories_segments[k];
            std::int64_t size = r.categories_sizes[k];
            if (beg < 0 || size < 0 || static_cast<std::size_t>(beg + size) > r.categories.size()) {
                return bad("categories segment " + std::to_string(k) + " lies outside the categories array");
            }
            cat_ranges[r.categories_nodes[k]] = {static_cast<std::size_t>(beg), static_cast<std::size_t>(beg + size)};
        }
    }

    Tree out;
    out.nodes.resize(order.size());
    std::size_t leaves = 0;
    for (std::int32_t i : order) {
        leaves += r.left[static_cast<std::size_t>(i)] == -1 ? 1 : 0;
    }
    out.votes.reserve(leaves);
    struct Pending {
        std::int32_t at;
        std::int32_t feature;
        std::vector<ValueInterval> intervals;
        std::int32_t in;
        std::int32_t out;
        bool nan_in;
    };
    std::vector<Pending> chains;
    for (std::int32_t i : order) {
        auto ui = static_cast<std::size_t>(i);
        std::int32_t k = new_id[ui];
        TreeNode& nd = out.nodes[static_cast<std::size_t>(k)];
        if (r.left[ui] == -1) {
            nd.mode = NodeMode::leaf;
            double v = static_cast<double>(r.cond[ui]) * weight; // leaf value: split_conditions (§4.1), × weight_drop (dart)
            out.votes.push_back({k, group, v});
            continue;
        }
        std::int32_t f = r.split_index[ui];
        if (f < 0 || f >= n_features) {
            return fail(tree_node(t, i) + "split feature " + std::to_string(f) + " is outside the model's " +
                            std::to_string(n_features) + " features",
                        ExitCode::validation);
        }
        std::int32_t left = new_id[static_cast<std::size_t>(r.left[ui])];
        std::int32_t right = new_id[static_cast<std::size_t>(r.right[ui])];
        bool default_left = r.default_left[ui] != 0;
        if (!r.split_type.empty() && r.split_type[ui] == 1) {
            // XGBoost's categorical Decision: the stored categories go right; anything else, including
            // negative and out-of-range values, goes left; NaN takes the default child.
            auto it = cat_ranges.find(i);
            if (it == cat_ranges.end()) {
                return fail(tree_node(t, i) + "categorical split without categories", ExitCode::validation);
            }
            std::vector<std::int64_t> cats(r.categories.begin() + static_cast<std::ptrdiff_t>(it->second.first),
                                           r.categories.begin() + static_cast<std::ptrdiff_t>(it->second.second));
            std::sort(cats.begin(), cats.end());
            cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
            if (cats.empty()) {
                return fail(tree_node(t, i) + "categorical split with an empty category set", ExitCode::validation);
            }
            if (cats.front() < 0 || cats.back() >= (std::int64_t{1} << 24)) {
                return fail(tree_node(t, i) + "category " + std::to_string(cats.front() < 0 ? cats.front() : cats.back()) +
                                " is outside 0..16777215",
                            ExitCode::validation);
            }
            chains.push_back({k, f, category_intervals(cats, false), right, left, !default_left});
            continue;
        }
        nd.mode = NodeMode::branch_lt; // XGBoost: go left when x < split_condition (strict, §4.1)
        nd.feature = f;
        nd.threshold = r.cond[ui];
        nd.true_child = left;
        nd.false_child = right;
        nd.missing_tracks_true = default_left;
        if (!std::isfinite(nd.threshold)) {
            return fail(tree_node(t, i) + "split condition is not finite", ExitCode::validation);
        }
    }
    for (const auto& c : chains) {
        build_interval_chain(out, c.at, c.feature, c.intervals, c.in, c.out, c.nan_in);
    }
    for (const auto& v : out.votes) {
        if (!std::isfinite(v.weight)) {
            return fail(tree_node(t, order[static_cast<std::size_t>(v.node)]) + "leaf value is not finite", ExitCode::validation);
        }
    }
    return out;
}


// Ranges cut out of the JSON text, to map lexer positions back to file offsets.
struct Cut {
    std::size_t at;      // position in the compacted text
    std::size_t removed; // bytes removed there
};

bool is_number_array_char(char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || c == ',' ||
           c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// XGBoost's own JSON writer emits NaN, Infinity and -Infinity as bare tokens (categorical splits
// store NaN as their split condition), which strict JSON parsers refuse. Outside strings they are
// rewritten in place, at the same length, as the strings "N", "Inf" and "-Inf" padded with spaces;
// the SAX handler reads those strings back as numbers.
void quote_non_finite(char* p, std::size_t size) {
    auto boundary = [&](std::size_t i) {
        return i >= size || !((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9'));
    };
    for (char c : {'N', 'I'}) {
        std::size_t i = 0;
        while (i < size) {
            const void* hit = std::memchr(p + i, c, size - i);
            if (hit == nullptr) {
                break;
            }
            i = static_cast<std::size_t>(static_cast<const char*>(hit) - p);
            std::string_view rest(p + i, size - i);
            if (c == 'N' && rest.starts_with("NaN") && boundary(i + 3) && (i == 0 || boundary(i - 1))) {
                std::memcpy(p + i, "\"N\"", 3);
                i += 3;
            } else if (c == 'I' && rest.starts_with("Infinity") && boundary(i + 8)) {
                if (i > 0 && p[i - 1] == '-') {
                    std::memcpy(p + i - 1, "\"-Inf\"   ", 9);
                } else {
                    std::memcpy(p + i, "\"Inf\"   ", 8);
                }
                i += 8;
            } else {
                ++i;
            }
        }
    }
}

// Cuts the contents of flat number arrays under keys the conversion never reads, in place. Strings
// are skipped with their escapes, so only real keys match; an array holding anything but numbers is
// left alone. The result is still the same JSON document minus those numbers. Also quotes XGBoost's
// non-finite tokens (quote_non_finite).
std::vector<Cut> compact_unused_arrays(std::string& text) {
    static constexpr std::string_view keys[] = {"loss_changes", "sum_hessian", "base_weights", "parents"};
    std::vector<Cut> cuts;
    char* data = text.data();
    const std::size_t n = text.size();
    std::size_t r = 0;
    std::size_t w = 0;
    auto copy_to = [&](std::size_t end, bool outside_strings) {
        if (w != r) {
            std::memmove(data + w, data + r, end - r);
        }
        if (outside_strings) {
            quote_non_finite(data + w, end - r);
        }
        w += end - r;
        r = end;
    };
    while (r < n) {
        const void* q = std::memchr(data + r, '"', n - r);
        if (q == nullptr) {
            break;
        }
        std::size_t open = static_cast<std::size_t>(static_cast<const char*>(q) - data);
        copy_to(open, true);
        // End of the string: the next quote not escaped by an odd run of backslashes.
        std::size_t close = open + 1;
        for (;;) {
            const void* e = close < n ? std::memchr(data + close, '"', n - close) : nullptr;
            if (e == nullptr) {
                close = n;
                break;
            }
            close = static_cast<std::size_t>(static_cast<const char*>(e) - data);
            std::size_t bs = 0;
            while (close - bs > open + 1 && data[close - bs - 1] == '\\') {
                ++bs;
            }
            if (bs % 2 == 0) {
                break;
            }
            ++close;
        }
        if (close >= n) {
            break; // an unterminated string: leave the rest for the parser to report
        }
        std::string_view name(data + open + 1, close - open - 1);
        std::size_t p = close + 1;
        bool cut = false;
        if (std::find(std::begin(keys), std::end(keys), name) != std::end(keys)) {
            while (p < n && (data[p] == ' ' || data[p] == '\n' || data[p] == '\r' || data[p] == '\t')) {
                ++p;
            }
            if (p < n && data[p] == ':') {
                ++p;
                while (p < n && (data[p] == ' ' || data[p] == '\n' || data[p] == '\r' || data[p] == '\t')) {
                    ++p;
                }
                if (p < n && data[p] == '[') {
                    std::size_t end = p + 1;
                    while (end < n && is_number_array_char(data[end])) {
                        ++end;
                    }
                    if (end < n && data[end] == ']' && end > p + 1) {
                        copy_to(p + 1, false); // keep everything up to and including '['
                        cuts.push_back({w, end - (p + 1)});
                        r = end; // continue at ']'
                        cut = true;
                    }
                }
            }
        }
        if (!cut) {
            copy_to(close + 1, false);
        }
    }
    copy_to(n, true);
    text.resize(w);
    return cuts;
}

std::size_t original_offset(const std::vector<Cut>& cuts, std::size_t pos) {
    std::size_t add = 0;
    for (const auto& c : cuts) {
        if (c.at > pos) {
            break;
        }
        add += c.removed;
    }
    return pos + add;
}
} // namespace

Result<std::vector<double>> parse_base_score(std::string_view text) {
    std::string_view t = text;
    while (!t.empty() && (t.front() == ' ')) {
        t.remove_prefix(1);
    }
    while (!t.empty() && (t.back() == ' ')) {
        t.remove_suffix(1);
    }
    std::vector<double> out;
    if (!t.empty() && t.front() == '[') {
        if (t.back() != ']') {
            return fail("base_score '" + std::string(text) + "' is not a number or a [v1,v2,…] list");
        }
        t = t.substr(1, t.size() - 2);
        while (!t.empty()) {
            auto comma = t.find(',');
            std::string_view item = t.substr(0, comma);
            EDGESHIP_TRY_ASSIGN(double v, parse_double(item, "base_score"));
            out.push_back(v);
            if (comma == std::string_view::npos) {
                break;
            }
            t.remove_prefix(comma + 1);
        }
        if (out.empty()) {
            return fail("base_score '" + std::string(text) + "' is an empty list");
        }
    } else {
        EDGESHIP_TRY_ASSIGN(double v, parse_double(t, "base_score"));
        out.push_back(v);
    }
    for (double v : out) {
        if (!std::isfinite(v)) {
            return fail("base_score '" + std::string(text) + "' is not finite");
        }
    }
    return out;
}

Result<ReadModel> read_xgboost(std::string bytes, XgboostEncoding encoding, const ReadOptions& options) {
    RawModel raw;
    {
        std::vector<Cut> cuts;
        if (encoding == XgboostEncoding::json) {
            cuts = compact_unused_arrays(bytes);
        }
        Handler handler(raw, bytes.size());
        bool ok = false;
        try {
            ok = json::sax_parse(bytes.data(), bytes.data() + bytes.size(), &handler,
                                 encoding == XgboostEncoding::json ? json::input_format_t::json
                                                                   : json::input_format_t::ubjson);
        } catch (const std::exception& e) {
            return fail(std::string("invalid file: ") + e.what());
        }
        if (!ok) {
            if (handler.error_position) {
                return fail("invalid or truncated file at byte " +
                            std::to_string(original_offset(cuts, *handler.error_position)) + ": " + handler.error);
            }
            return fail(handler.error.empty() ? "invalid or truncated file" : handler.error);
        }
        std::string().swap(bytes); // release the text before converting
    }
    if (!raw.has_learner) {
        return fail("not an XGBoost model (no 'learner' object)");
    }
    ReadModel out;
    SourceInfo& info = out.info;
    info.format = encoding == XgboostEncoding::json ? "xgboost-json" : "xgboost-ubj";
    for (std::size_t i = 0; i < raw.version.size(); ++i) {
        info.version += (i ? "." : "") + std::to_string(raw.version[i]);
    }
    if (info.version.empty()) {
        info.version = "unknown";
    }
    info.booster = raw.booster;
    info.objective = raw.objective;
    if (raw.booster == "gblinear") {
        return fail("gblinear boosters are linear models without trees; only tree boosters (gbtree, dart) can be "
                    "converted");
    }
    if (raw.booster != "gbtree" && raw.booster != "dart") {
        return fail(raw.booster.empty() ? std::string("not an XGBoost tree model (no gradient_booster name)")
                                        : "unsupported booster '" + raw.booster + "' (gbtree and dart are supported)");
    }
    if (!raw.has_model) {
        return fail("not an XGBoost tree model (no gradient_booster.model)");
    }
    auto obj_it = objectives().find(raw.objective);
    if (obj_it == objectives().end()) {
        return unexpected(Error(raw.objective.empty() ? std::string("the model names no objective")
                                                      : "unsupported objective '" + raw.objective + "'")
                              .hint("supported: " + supported_objectives()));
    }
    const Objective obj = obj_it->second;

    EDGESHIP_TRY_ASSIGN(std::int64_t num_feature, parse_int(raw.model_param, "num_feature", -1, "learner_model_param"));
    EDGESHIP_TRY_ASSIGN(std::int64_t num_class, parse_int(raw.model_param, "num_class", 0, "learner_model_param"));
    EDGESHIP_TRY_ASSIGN(std::int64_t num_target, parse_int(raw.model_param, "num_target", 1, "learner_model_param"));
    if (num_feature <= 0) {
        return fail("learner_model_param.num_feature is missing or not positive", ExitCode::validation);
    }
    std::int64_t groups = 1;
    if (obj.multiclass) {
        if (num_class < 2) {
            return fail(raw.objective + " needs num_class >= 2 (the model says " + std::to_string(num_class) + ")",
                        ExitCode::validation);
        }
        groups = num_class;
        info.classes = num_class;
    } else {
        groups = std::max<std::int64_t>(1, num_target);
        if (obj.kind != HeadKind::scores) {
            info.classes = 2;
            if (groups != 1) {
                return fail(raw.objective + " with num_target=" + std::to_string(groups) + " is not supported");
            }
        }
    }
    if (raw.booster == "dart") {
        // The weights are required: dropping them would silently change every prediction.
        if (!raw.has_weight_drop) {
            return fail("dart booster without weight_drop", ExitCode::validation);
        }
    }
    // "missing" other than NaN cannot be expressed (docs/design/onnx.md §4.4): the scikit-learn wrapper
    // records it.
    if (auto it = raw.attributes.find("scikit_learn"); it != raw.attributes.end()) {
        try {
            auto sk = json::parse(it->second, nullptr, true, false);
            if (sk.contains("missing") && sk["missing"].is_number() && !std::isnan(sk["missing"].get<double>())) {
                return fail("the model was trained with missing=" + sk["missing"].dump() +
                            "; only NaN as the missing value can be expressed in ONNX");
            }
        } catch (const std::exception&) {
            // Python writes NaN as a bare token, which is not JSON: that is the default, missing = NaN.
        }
    }

    const std::size_t total = raw.trees.size();
    info.trees_in_source = total;
    if (total == 0) {
        return fail("the model has no trees (empty model)");
    }
    if (raw.tree_info.size() != total) {
        return fail("tree_info has " + std::to_string(raw.tree_info.size()) + " entries but the model has " +
                        std::to_string(total) + " trees",
                    ExitCode::validation);
    }
    if (raw.booster == "dart" && raw.weight_drop.size() != total) {
        return fail("weight_drop has " + std::to_string(raw.weight_drop.size()) + " entries but the model has " +
                        std::to_string(total) + " trees",
                    ExitCode::validation);
    }

    // Iterations to keep.
    std::size_t used = total;
    info.iteration_limit = "all " + std::to_string(total) + " trees";
    if (options.iterations == IterationLimit::best_iteration) {
        auto it = raw.attributes.find("best_iteration");
        if (it == raw.attributes.end()) {
            return fail("--best-iteration: the model has no best_iteration attribute (it was trained without early "
                        "stopping)",
                        ExitCode::usage);
        }
        EDGESHIP_TRY_ASSIGN(double best_d, parse_double(it->second, "attributes.best_iteration"));
        if (best_d < 0 || std::floor(best_d) != best_d) {
            return fail("attributes.best_iteration '" + it->second + "' is not an iteration number", ExitCode::validation);
        }
        auto iterations = static_cast<std::size_t>(best_d) + 1;
        if (!raw.iteration_indptr.empty()) {
            if (iterations >= raw.iteration_indptr.size()) {
                return fail("best_iteration " + it->second + " is beyond the model's iterations", ExitCode::validation);
            }
            used = static_cast<std::size_t>(raw.iteration_indptr[iterations]);
        } else {
            EDGESHIP_TRY_ASSIGN(std::int64_t parallel, parse_int(raw.gbtree_param, "num_parallel_tree", 1, "gbtree_model_param"));
            used = iterations * static_cast<std::size_t>(std::max<std::int64_t>(1, parallel) * groups);
        }
        if (used > total) {
            return fail("best_iteration " + it->second + " needs " + std::to_string(used) + " trees but the model has " +
                            std::to_string(total),
                        ExitCode::validation);
        }
        info.iteration_limit = "best_iteration=" + it->second + ": " + std::to_string(iterations) + " iterations, " +
                               std::to_string(used) + " trees";
    }
    info.trees_used = used;

    // base_score: stored in output space; the margin term is link(base_score) (§4.3).
    auto bs_it = raw.model_param.find("base_score");
    std::vector<double> base_score{0.5};
    if (bs_it != raw.model_param.end()) {
        auto parsed = parse_base_score(bs_it->second);
        if (!parsed) {
            return unexpected(Error(std::move(parsed).error()).context("learner_model_param"));
        }
        base_score = std::move(*parsed);
    }
    if (base_score.size() != 1 && static_cast<std::int64_t>(base_score.size()) != groups) {
        return fail("base_score has " + std::to_string(base_score.size()) + " values; expected 1 or " +
                        std::to_string(groups) + " (one per " + (obj.multiclass ? "class" : "target") + ")",
                    ExitCode::validation);
    }
    TreeEnsemble& e = out.ensemble;
    e.n_features = num_feature;
    e.n_targets = static_cast<std::int32_t>(groups);
    for (std::int64_t g = 0; g < groups; ++g) {
        double b = base_score.size() == 1 ? base_score[0] : base_score[static_cast<std::size_t>(g)];
        EDGESHIP_TRY_ASSIGN(double margin, apply_link(obj.link, b, raw.objective));
        e.base_values.push_back(margin);
    }

    e.trees.reserve(used);
    for (std::size_t t = 0; t < used; ++t) {
        std::int64_t g = raw.tree_info[t];
        if (g < 0 || g >= groups) {
            return fail("tree " + std::to_string(t) + ": tree_info " + std::to_string(g) + " is outside 0.." +
                            std::to_string(groups - 1),
                        ExitCode::validation);
        }
        double w = raw.booster == "dart" ? raw.weight_drop[t] : 1.0;
        EDGESHIP_TRY_ASSIGN(Tree tree, convert_tree(raw.trees[t], t, static_cast<std::int32_t>(g), w, num_feature));
        raw.trees[t] = RawTree{}; // release as we go
        e.trees.push_back(std::move(tree));
    }
    raw.trees.clear();
    raw.trees.shrink_to_fit();

    info.feature_names = raw.feature_names;
    if (!info.feature_names.empty() && static_cast<std::int64_t>(info.feature_names.size()) != num_feature) {
        return fail("feature_names has " + std::to_string(info.feature_names.size()) + " names but num_feature is " +
                        std::to_string(num_feature),
                    ExitCode::validation);
    }
    if (info.feature_names.empty()) {
        for (std::int64_t i = 0; i < num_feature; ++i) {
            info.feature_names.push_back("f" + std::to_string(i)); // XGBoost's own default names
        }
    }

    Head& h = e.head;
    if (options.output == OutputKind::margin) {
        h.kind = HeadKind::scores;
        h.transform = Transform::none;
        h.output_name = "margin";
    } else {
        h.kind = obj.kind;
        h.transform = obj.transform;
        h.output_name = "prediction";
        if (obj.kind != HeadKind::scores) {
            for (std::int64_t c = 0; c < std::max<std::int64_t>(2, info.classes); ++c) {
                h.int_labels.push_back(c);
            }
        }
    }
    return out;
}

} // namespace edgeship::model
