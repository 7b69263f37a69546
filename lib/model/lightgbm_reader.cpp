#include "model/lightgbm_reader.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <string>

namespace edgeship::model {

namespace {

constexpr double k_zero_threshold = 1e-35; // LightGBM's kZeroThreshold (include/LightGBM/meta.h)

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

template <class T> Result<T> parse_number(std::string_view s, const std::string& what) {
    s = trim(s);
    if (!s.empty() && s.front() == '+') {
        s.remove_prefix(1);
    }
    T v{};
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) {
        return fail(what + ": '" + std::string(s) + "' is not a valid number");
    }
    return v;
}

template <class T> Result<std::vector<T>> parse_list(std::string_view s, const std::string& what) {
    std::vector<T> out;
    s = trim(s);
    while (!s.empty()) {
        auto sp = s.find(' ');
        std::string_view item = s.substr(0, sp);
        if (!item.empty()) {
            EDGESHIP_TRY_ASSIGN(T v, parse_number<T>(item, what));
            out.push_back(v);
        }
        if (sp == std::string_view::npos) {
            break;
        }
        s.remove_prefix(sp + 1);
    }
    return out;
}

struct RawTree {
    std::size_t index = 0;
    std::map<std::string, std::string_view, std::less<>> fields;
};

struct Objective {
    std::string name;
    HeadKind kind = HeadKind::scores;
    Transform transform = Transform::none;
    double sigmoid = 1.0;
    std::int64_t num_class = 1;
};

Result<Objective> parse_objective(std::string_view text) {
    Objective o;
    auto tokens = trim(text);
    bool first = true;
    while (!tokens.empty()) {
        auto sp = tokens.find(' ');
        std::string_view tok = tokens.substr(0, sp);
        if (first) {
            o.name = std::string(tok);
            first = false;
        } else if (tok.starts_with("sigmoid:")) {
            EDGESHIP_TRY_ASSIGN(o.sigmoid, parse_number<double>(tok.substr(8), "objective sigmoid"));
        } else if (tok.starts_with("num_class:")) {
            EDGESHIP_TRY_ASSIGN(o.num_class, parse_number<std::int64_t>(tok.substr(10), "objective num_class"));
        } else if (tok == "sqrt") {
            return fail("objective '" + std::string(text) +
                        "': the reg_sqrt output transform is not supported (retrain without reg_sqrt)");
        }
        if (sp == std::string_view::npos) {
            break;
        }
        tokens.remove_prefix(sp + 1);
    }
    // docs/design/onnx.md §5.3
    static const std::map<std::string, Transform> scores = {
        {"regression", Transform::none}, {"regression_l1", Transform::none}, {"huber", Transform::none},
        {"fair", Transform::none},       {"quantile", Transform::none},      {"mape", Transform::none},
        {"lambdarank", Transform::none}, {"rank_xendcg", Transform::none},   {"poisson", Transform::exp},
        {"gamma", Transform::exp},       {"tweedie", Transform::exp},
    };
    if (auto it = scores.find(o.name); it != scores.end()) {
        o.transform = it->second;
        return o;
    }
    if (o.name == "binary") {
        o.kind = HeadKind::classifier;
        o.transform = Transform::sigmoid;
        o.num_class = 2;
        return o;
    }
    if (o.name == "multiclass") {
        o.kind = HeadKind::classifier;
        o.transform = Transform::softmax;
        return o;
    }
    if (o.name == "multiclassova") {
        // MulticlassOVA::ConvertOutput: a sigmoid per class, not a softmax (§5.3).
        o.kind = HeadKind::classifier;
        o.transform = Transform::sigmoid;
        return o;
    }
    return unexpected(Error(o.name.empty() ? std::string("the model names no objective")
                                           : "unsupported objective '" + std::string(trim(text)) + "'")
                          .hint("supported: binary, multiclass, multiclassova, regression, regression_l1, huber, fair, "
                                "quantile, mape, poisson, gamma, tweedie, lambdarank, rank_xendcg"));
}

std::string number_text(double v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
}

std::string where(std::size_t tree, std::int64_t node) {
    return "tree " + std::to_string(tree) + " node " + std::to_string(node) + ": ";
}

template <class T>
Result<std::vector<T>> tree_list(const RawTree& t, const char* key, std::size_t expected, bool required = true) {
    auto it = t.fields.find(key);
    if (it == t.fields.end()) {
        if (!required || expected == 0) {
            return std::vector<T>{};
        }
        return fail("tree " + std::to_string(t.index) + ": missing " + key, ExitCode::validation);
    }
    EDGESHIP_TRY_ASSIGN(auto v, parse_list<T>(it->second, "tree " + std::to_string(t.index) + ": " + key));
    if (v.size() != expected) {
        return fail("tree " + std::to_string(t.index) + ": " + key + " has " + std::to_string(v.size()) +
                        " entries; expected " + std::to_string(expected),
                    ExitCode::validation);
    }
    return v;
}

Result<Tree> convert_tree(const RawTree& raw, std::int32_t target, double scale, std::int64_t n_features) {
    const std::size_t t = raw.index;
    auto field = [&](const char* key) -> std::string_view {
        auto it = raw.fields.find(key);
        return it == raw.fields.end() ? std::string_view() : it->second;
    };
    if (field("num_leaves").empty()) {
        return fail("tree " + std::to_string(t) + ": missing num_leaves", ExitCode::validation);
    }
    EDGESHIP_TRY_ASSIGN(std::int64_t num_leaves, parse_number<std::int64_t>(field("num_leaves"), "tree " + std::to_string(t) + ": num_leaves"));
    std::int64_t num_cat = 0;
    if (!field("num_cat").empty()) {
        EDGESHIP_TRY_ASSIGN(num_cat, parse_number<std::int64_t>(field("num_cat"), "tree " + std::to_string(t) + ": num_cat"));
    }
    if (!field("is_linear").empty() && trim(field("is_linear")) != "0") {
        return fail("tree " + std::to_string(t) +
                    ": linear trees (linear_tree=true) cannot be expressed with ONNX tree ensembles; retrain without "
                    "linear_tree");
    }
    if (num_leaves < 1 || num_leaves > (std::int64_t{1} << 30) || num_cat < 0) {
        return fail("tree " + std::to_string(t) + ": num_leaves " + std::to_string(num_leaves) + " is invalid",
                    ExitCode::validation);
    }
    const auto leaves = static_cast<std::size_t>(num_leaves);
    const std::size_t internal = leaves - 1;
    EDGESHIP_TRY_ASSIGN(auto leaf_value, tree_list<double>(raw, "leaf_value", leaves));
    Tree out;
    if (internal == 0) { // a constant tree
        out.nodes.resize(1);
        out.votes.push_back({0, target, leaf_value[0] * scale});
        return out;
    }
    EDGESHIP_TRY_ASSIGN(auto split_feature, tree_list<std::int64_t>(raw, "split_feature", internal));
    EDGESHIP_TRY_ASSIGN(auto threshold, tree_list<double>(raw, "threshold", internal));
    EDGESHIP_TRY_ASSIGN(auto decision_type, tree_list<std::int64_t>(raw, "decision_type", internal));
    EDGESHIP_TRY_ASSIGN(auto left, tree_list<std::int64_t>(raw, "left_child", internal));
    EDGESHIP_TRY_ASSIGN(auto right, tree_list<std::int64_t>(raw, "right_child", internal));
    std::vector<std::int64_t> cat_boundaries;
    std::vector<std::uint32_t> cat_threshold;
    if (num_cat > 0) {
        EDGESHIP_TRY_ASSIGN(cat_boundaries, tree_list<std::int64_t>(raw, "cat_boundaries", static_cast<std::size_t>(num_cat) + 1));
        auto it = raw.fields.find("cat_threshold");
        if (it == raw.fields.end()) {
            return fail("tree " + std::to_string(t) + ": missing cat_threshold", ExitCode::validation);
        }
        EDGESHIP_TRY_ASSIGN(cat_threshold, parse_list<std::uint32_t>(it->second, "tree " + std::to_string(t) + ": cat_threshold"));
        for (std::size_t k = 0; k + 1 < cat_boundaries.size(); ++k) {
            if (cat_boundaries[k] < 0 || cat_boundaries[k] > cat_boundaries[k + 1] ||
                static_cast<std::size_t>(cat_boundaries[k + 1]) > cat_threshold.size()) {
                return fail("tree " + std::to_string(t) + ": cat_boundaries do not fit cat_threshold", ExitCode::validation);
            }
        }
    }

    // Node ids: internal node i -> i, leaf l -> internal + l. Children: >= 0 internal, < 0 is ~leaf (§5.1).
    auto child_id = [&](std::size_t node, std::int64_t c, const char* side) -> Result<std::int32_t> {
        if (c >= 0) {
            if (static_cast<std::size_t>(c) >= internal) {
                return fail(where(t, static_cast<std::int64_t>(node)) + side + " child " + std::to_string(c) +
                                " is out of range (the tree has " + std::to_string(internal) + " internal nodes)",
                            ExitCode::validation);
            }
            return static_cast<std::int32_t>(c);
        }
        std::int64_t leaf = ~c;
        if (leaf >= num_leaves) {
            return fail(where(t, static_cast<std::int64_t>(node)) + side + " child leaf " + std::to_string(leaf) +
                            " is out of range (the tree has " + std::to_string(num_leaves) + " leaves)",
                        ExitCode::validation);
        }
        return static_cast<std::int32_t>(internal + static_cast<std::size_t>(leaf));
    };
    // Every internal node and leaf is reached exactly once from the root: no cycles, no sharing.
    {
        std::vector<std::uint8_t> seen(internal + leaves, 0);
        std::vector<std::size_t> stack{0};
        while (!stack.empty()) {
            std::size_t i = stack.back();
            stack.pop_back();
            if (seen[i]) {
                return fail(where(t, static_cast<std::int64_t>(i < internal ? i : i - internal)) +
                                (i < internal ? "node" : "leaf") + std::string(" reached twice from the root (a cycle or a shared child)"),
                            ExitCode::validation);
            }
            seen[i] = 1;
            if (i >= internal) {
                continue;
            }
            EDGESHIP_TRY_ASSIGN(std::int32_t l, child_id(i, left[i], "left"));
            EDGESHIP_TRY_ASSIGN(std::int32_t r, child_id(i, right[i], "right"));
            stack.push_back(static_cast<std::size_t>(r));
            stack.push_back(static_cast<std::size_t>(l));
        }
    }

    out.nodes.resize(internal + leaves);
    for (std::size_t l = 0; l < leaves; ++l) {
        if (!std::isfinite(leaf_value[l])) {
            return fail("tree " + std::to_string(t) + " leaf " + std::to_string(l) + ": leaf value is not finite",
                        ExitCode::validation);
        }
        out.votes.push_back({static_cast<std::int32_t>(internal + l), target, leaf_value[l] * scale});
    }
    const float zero_band = float_at_or_below(k_zero_threshold); // floats x with |x| <= 1e-35 lie in [-a, a]
    for (std::size_t i = 0; i < internal; ++i) {
        const auto node = static_cast<std::int64_t>(i);
        std::int64_t f = split_feature[i];
        if (f < 0 || f >= n_features) {
            return fail(where(t, node) + "split feature " + std::to_string(f) + " is outside the model's " +
                            std::to_string(n_features) + " features",
                        ExitCode::validation);
        }
        std::int64_t dt = decision_type[i];
        if (dt < 0 || dt > 15) {
            return fail(where(t, node) + "decision_type " + std::to_string(dt) + " is not in 0..15", ExitCode::validation);
        }
        const bool categorical = (dt & 1) != 0;
        const bool default_left = (dt & 2) != 0;
        const std::int64_t missing_type = (dt >> 2) & 3; // 0 None, 1 Zero, 2 NaN (§5.2)
        if (missing_type == 3) {
            return fail(where(t, node) + "missing type 3 is not defined", ExitCode::validation);
        }
        EDGESHIP_TRY_ASSIGN(std::int32_t l, child_id(i, left[i], "left"));
        EDGESHIP_TRY_ASSIGN(std::int32_t r, child_id(i, right[i], "right"));
        if (categorical) {
            // CategoricalDecision (§5.2): the bitset's categories go left; negative values go right.
            // NaN: static_cast<int>(NaN) is INT_MIN on x86-64, so LightGBM sends NaN right whatever the
            // missing type; we follow the x86-64 behaviour (docs/convert.md).
            double ti = threshold[i];
            if (!(ti >= 0) || ti >= static_cast<double>(num_cat)) {
                return fail(where(t, node) + "categorical threshold " + number_text(ti) + " is not a category-set index",
                            ExitCode::validation);
            }
            auto idx = static_cast<std::size_t>(ti);
            std::vector<std::int64_t> cats;
            for (auto w = static_cast<std::size_t>(cat_boundaries[idx]); w < static_cast<std::size_t>(cat_boundaries[idx + 1]); ++w) {
                for (int b = 0; b < 32; ++b) {
                    if ((cat_threshold[w] >> b) & 1U) {
                        cats.push_back(static_cast<std::int64_t>((w - static_cast<std::size_t>(cat_boundaries[idx])) * 32 + static_cast<std::size_t>(b)));
                    }
                }
            }
            if (cats.empty()) {
                return fail(where(t, node) + "categorical split with an empty category set", ExitCode::validation);
            }
            if (cats.back() >= (std::int64_t{1} << 24)) {
                return fail(where(t, node) + "category " + std::to_string(cats.back()) +
                                " is above 16777215, which float inputs cannot represent exactly",
                            ExitCode::validation);
            }
            auto intervals = category_intervals(cats, true);
            build_interval_chain(out, static_cast<std::int32_t>(i), static_cast<std::int32_t>(f), intervals, l, r, false);
            continue;
        }
        double thr = threshold[i];
        if (!std::isfinite(thr)) {
            return fail(where(t, node) + "threshold is not finite", ExitCode::validation);
        }
        FloatTest test = float_leq_threshold(thr); // LightGBM: left when x <= threshold, in double (§5.2, §6)
        TreeNode& nd = out.nodes[i];
        nd.mode = test.mode;
        nd.threshold = test.threshold;
        nd.feature = static_cast<std::int32_t>(f);
        nd.true_child = l;
        nd.false_child = r;
        if (missing_type == 2) {
            nd.missing_tracks_true = default_left; // NaN -> default child
        } else if (missing_type == 0) {
            nd.missing_tracks_true = 0.0 <= thr; // NaN is treated as 0.0 (onnxmltools PR #488)
        } else {
            // Zero: NaN and |x| <= 1e-35 take the default child. Expressible only when the threshold
            // already sends that whole band the default way.
            const bool band_left = static_cast<double>(zero_band) <= thr;
            const bool band_right = -static_cast<double>(zero_band) > thr;
            if (!(default_left ? band_left : band_right)) {
                return fail(where(t, node) + "missing type Zero with threshold " + number_text(thr) + " and default " +
                            (default_left ? "left" : "right") +
                            ": values within ±1e-35 would go the other way than the threshold says, which one ONNX "
                            "node cannot express (retrain with zero_as_missing=false)");
            }
            nd.missing_tracks_true = default_left;
        }
    }
    return out;
}

} // namespace

Result<ReadModel> read_lightgbm(std::string_view text, const ReadOptions& options) {
    std::map<std::string, std::string_view, std::less<>> header;
    bool average_output = false;
    std::vector<RawTree> raw_trees;
    bool end_of_trees = false;
    bool first_line = true;
    RawTree* current = nullptr;
    std::size_t pos = 0;
    std::size_t line_no = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        std::string_view line = trim(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line_no;
        if (first_line) {
            if (line != "tree") {
                return fail("not a LightGBM text model (the first line is not 'tree')");
            }
            first_line = false;
            continue;
        }
        if (line.empty()) {
            continue;
        }
        if (line == "end of trees") {
            end_of_trees = true;
            break;
        }
        auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            if (current == nullptr && line == "average_output") {
                average_output = true;
            }
            continue; // unknown flags are ignored (§5.1)
        }
        std::string_view key = line.substr(0, eq);
        std::string_view value = line.substr(eq + 1);
        if (key == "Tree") {
            EDGESHIP_TRY_ASSIGN(auto idx, parse_number<std::int64_t>(value, "line " + std::to_string(line_no) + ": Tree"));
            if (idx != static_cast<std::int64_t>(raw_trees.size())) {
                return fail("line " + std::to_string(line_no) + ": Tree=" + std::string(value) + " out of order (expected Tree=" +
                                std::to_string(raw_trees.size()) + ")",
                            ExitCode::validation);
            }
            raw_trees.emplace_back();
            current = &raw_trees.back();
            current->index = static_cast<std::size_t>(idx);
            continue;
        }
        if (current == nullptr) {
            header.emplace(std::string(key), value);
        } else {
            current->fields.emplace(std::string(key), value);
        }
    }
    if (first_line) {
        return fail("empty file, not a LightGBM model");
    }
    if (!end_of_trees) {
        return fail("missing 'end of trees' (the file is truncated)");
    }
    if (raw_trees.empty()) {
        return fail("the model has no trees (empty model)");
    }
    auto get = [&](const char* k) -> std::string_view {
        auto it = header.find(k);
        return it == header.end() ? std::string_view() : it->second;
    };
    if (get("objective").empty()) {
        return fail("the model names no objective (no objective= line)");
    }
    EDGESHIP_TRY_ASSIGN(Objective obj, parse_objective(get("objective")));
    if (get("max_feature_idx").empty()) {
        return fail("missing max_feature_idx in the header", ExitCode::validation);
    }
    EDGESHIP_TRY_ASSIGN(std::int64_t max_feature_idx, parse_number<std::int64_t>(get("max_feature_idx"), "max_feature_idx"));
    std::int64_t per_iteration = 1;
    if (!get("num_tree_per_iteration").empty()) {
        EDGESHIP_TRY_ASSIGN(per_iteration, parse_number<std::int64_t>(get("num_tree_per_iteration"), "num_tree_per_iteration"));
    }
    std::int64_t num_class = 1;
    if (!get("num_class").empty()) {
        EDGESHIP_TRY_ASSIGN(num_class, parse_number<std::int64_t>(get("num_class"), "num_class"));
    }
    if (max_feature_idx < 0 || per_iteration < 1 || num_class < 1) {
        return fail("invalid header: max_feature_idx, num_tree_per_iteration and num_class must be positive",
                    ExitCode::validation);
    }
    const bool multi = obj.name == "multiclass" || obj.name == "multiclassova";
    if (multi && (obj.num_class != num_class || per_iteration != num_class || num_class < 2)) {
        return fail("objective '" + std::string(get("objective")) + "' disagrees with num_class=" + std::to_string(num_class) +
                        " and num_tree_per_iteration=" + std::to_string(per_iteration),
                    ExitCode::validation);
    }
    if (!multi && per_iteration != 1) {
        return fail("num_tree_per_iteration=" + std::to_string(per_iteration) + " is only valid for multi-class objectives",
                    ExitCode::validation);
    }
    if (raw_trees.size() % static_cast<std::size_t>(per_iteration) != 0) {
        return fail(std::to_string(raw_trees.size()) + " trees is not a multiple of num_tree_per_iteration=" +
                        std::to_string(per_iteration),
                    ExitCode::validation);
    }
    if (options.iterations == IterationLimit::best_iteration) {
        return fail("--best-iteration: LightGBM text models store no best_iteration; save the model with "
                    "num_iteration=best_iteration instead",
                    ExitCode::usage);
    }

    ReadModel out;
    SourceInfo& info = out.info;
    info.format = "lightgbm-text";
    info.version = get("version").empty() ? "unknown" : std::string(trim(get("version")));
    info.objective = std::string(trim(get("objective")));
    info.booster = average_output ? "rf" : "gbdt";
    info.trees_in_source = raw_trees.size();
    info.trees_used = raw_trees.size();
    const std::size_t iterations = raw_trees.size() / static_cast<std::size_t>(per_iteration);
    info.iteration_limit = "all " + std::to_string(raw_trees.size()) + " trees";
    info.classes = obj.kind == HeadKind::classifier ? (multi ? num_class : 2) : 0;
    TreeEnsemble& e = out.ensemble;
    e.n_features = max_feature_idx + 1;
    e.n_targets = static_cast<std::int32_t>(multi ? num_class : 1);
    // Random-forest mode averages over iterations (GBDT::PredictRaw); leaf values already carry
    // shrinkage and the initial score (§5.1).
    const double scale = average_output ? 1.0 / static_cast<double>(iterations) : 1.0;
    e.trees.reserve(raw_trees.size());
    for (std::size_t t = 0; t < raw_trees.size(); ++t) {
        auto target = static_cast<std::int32_t>(t % static_cast<std::size_t>(per_iteration));
        EDGESHIP_TRY_ASSIGN(Tree tree, convert_tree(raw_trees[t], target, scale, e.n_features));
        e.trees.push_back(std::move(tree));
    }

    if (auto names = trim(get("feature_names")); !names.empty()) {
        std::size_t p = 0;
        while (p <= names.size()) {
            auto sp = names.find(' ', p);
            auto n = names.substr(p, sp == std::string_view::npos ? std::string_view::npos : sp - p);
            if (!n.empty()) {
                info.feature_names.emplace_back(n);
            }
            if (sp == std::string_view::npos) {
                break;
            }
            p = sp + 1;
        }
    }
    if (!info.feature_names.empty() && static_cast<std::int64_t>(info.feature_names.size()) != e.n_features) {
        return fail("feature_names lists " + std::to_string(info.feature_names.size()) + " names but max_feature_idx is " +
                        std::to_string(max_feature_idx),
                    ExitCode::validation);
    }
    if (info.feature_names.empty()) {
        for (std::int64_t i = 0; i < e.n_features; ++i) {
            info.feature_names.push_back("Column_" + std::to_string(i)); // LightGBM's own default names
        }
    }

    Head& h = e.head;
    if (options.output == OutputKind::margin) {
        h.output_name = "margin";
        return out;
    }
    h.kind = obj.kind;
    h.transform = obj.transform;
    if (obj.kind == HeadKind::classifier && obj.transform == Transform::sigmoid) {
        if (!(std::isfinite(obj.sigmoid) && obj.sigmoid > 0)) {
            return fail("objective sigmoid:" + number_text(obj.sigmoid) + " must be positive", ExitCode::validation);
        }
        h.scale = obj.sigmoid; // sigmoid(K·x), §5.3
    }
    if (obj.kind == HeadKind::classifier) {
        for (std::int64_t c = 0; c < info.classes; ++c) {
            h.int_labels.push_back(c);
        }
    }
    return out;
}

} // namespace edgeship::model
