#include "model/tree_validator.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace edgeship::model {

namespace {

constexpr std::size_t k_max_findings = 20;

const std::unordered_set<std::string_view>& valid_modes() {
    static const std::unordered_set<std::string_view> modes = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT",
                                                               "BRANCH_EQ",  "BRANCH_NEQ", "LEAF"};
    return modes;
}

// Numbers of one repeated attribute, whichever of ints/floats/tensor it is stored in.
struct NumberList {
    const onnx::AttributeProto* attr = nullptr;
    std::vector<double> tensor_values; // for *_as_tensor (double or float tensors)
    std::size_t size() const {
        if (attr == nullptr) {
            return 0;
        }
        if (attr->type() == onnx::AttributeProto::INTS) {
            return static_cast<std::size_t>(attr->ints_size());
        }
        if (attr->type() == onnx::AttributeProto::FLOATS) {
            return static_cast<std::size_t>(attr->floats_size());
        }
        return tensor_values.size();
    }
    double at(std::size_t i) const {
        if (attr->type() == onnx::AttributeProto::INTS) {
            return static_cast<double>(attr->ints(static_cast<int>(i)));
        }
        if (attr->type() == onnx::AttributeProto::FLOATS) {
            return attr->floats(static_cast<int>(i));
        }
        return tensor_values[i];
    }
    std::int64_t int_at(std::size_t i) const { return attr->ints(static_cast<int>(i)); }
};

class Validator {
public:
    Validator(const onnx::NodeProto& node, std::optional<std::int64_t> n_features) : m_node(node), m_features(n_features) {
        for (const auto& a : node.attribute()) {
            m_attrs[a.name()] = &a;
        }
        m_prefix = "node '" + (node.name().empty() ? node.output_size() > 0 ? node.output(0) : std::string("?")
                                                   : node.name()) +
                   "' (" + node.op_type() + "): ";
    }

    std::vector<Finding> run() {
        bool classifier = m_node.op_type() == "TreeEnsembleClassifier";
        if (!check_nodes()) {
            return std::move(m_findings);
        }
        std::size_t n_outputs = 0;
        if (classifier) {
            const auto* li = attr("classlabels_int64s");
            const auto* ls = attr("classlabels_strings");
            std::size_t ni = li != nullptr ? static_cast<std::size_t>(li->ints_size()) : 0;
            std::size_t ns = ls != nullptr ? static_cast<std::size_t>(ls->strings_size()) : 0;
            if ((ni > 0) == (ns > 0)) {
                add("exactly one of classlabels_int64s and classlabels_strings must be set (found " +
                    std::to_string(ni) + " int64 and " + std::to_string(ns) + " string labels)");
                return std::move(m_findings);
            }
            n_outputs = ni + ns;
        } else {
            const auto* nt = attr("n_targets");
            if (nt == nullptr || nt->type() != onnx::AttributeProto::INT || nt->i() < 1) {
                add("n_targets must be an int >= 1");
                return std::move(m_findings);
            }
            n_outputs = static_cast<std::size_t>(nt->i());
            check_enum("aggregate_function", {"SUM", "AVERAGE", "MIN", "MAX"});
        }
        check_enum("post_transform", {"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"});
        bool all_class_zero = check_votes(classifier ? "class_" : "target_", n_outputs);
        auto base = numbers("base_values", "base_values_as_tensor");
        std::size_t nb = base.size();
        bool binary_one_column = classifier && n_outputs == 2 && all_class_zero && nb == 1;
        if (nb != 0 && nb != n_outputs && !binary_one_column) {
            add("base_values has " + std::to_string(nb) + " entries; expected 0 or " + std::to_string(n_outputs));
        }
        for (std::size_t i = 0; i < nb; ++i) {
            if (!std::isfinite(base.at(i))) {
                add("base_values[" + std::to_string(i) + "] is not finite");
                break;
            }
        }
        return std::move(m_findings);
    }

private:
    struct TreeIndex {
        std::size_t count = 0;
        std::vector<std::int32_t> slot; // node id -> position in nodes_* (-1 = missing)
        std::vector<std::uint8_t> voted;
    };

    const onnx::AttributeProto* attr(const std::string& name) const {
        auto it = m_attrs.find(name);
        return it == m_attrs.end() ? nullptr : it->second;
    }

    bool add(const std::string& msg) {
        if (m_findings.size() < k_max_findings) {
            m_findings.push_back({"tree_structure", m_prefix + msg});
        }
        return false;
    }

    static std::string where(std::int64_t tree, std::int64_t node) {
        return "tree " + std::to_string(tree) + " node " + std::to_string(node) + ": ";
    }

    // An ints attribute; reports a wrong type. Absent -> nullptr without a finding.
    const onnx::AttributeProto* ints(const std::string& name) {
        const auto* a = attr(name);
        if (a != nullptr && a->type() != onnx::AttributeProto::INTS) {
            add(name + " must be a list of ints");
            return nullptr;
        }
        return a;
    }

    NumberList numbers(const std::string& name, const std::string& tensor_name) {
        NumberList l;
        if (const auto* a = attr(name); a != nullptr) {
            if (a->type() != onnx::AttributeProto::FLOATS) {
                add(name + " must be a list of floats");
                return l;
            }
            l.attr = a;
            return l;
        }
        if (const auto* t = attr(tensor_name); t != nullptr && t->has_t()) {
            l.attr = t;
            const auto& tp = t->t();
            if (tp.data_type() == onnx::TensorProto::DOUBLE) {
                if (!tp.raw_data().empty()) {
                    std::size_t n = tp.raw_data().size() / sizeof(double);
                    l.tensor_values.resize(n);
                    std::memcpy(l.tensor_values.data(), tp.raw_data().data(), n * sizeof(double));
                } else {
                    l.tensor_values.assign(tp.double_data().begin(), tp.double_data().end());
                }
            } else if (tp.data_type() == onnx::TensorProto::FLOAT) {
                if (!tp.raw_data().empty()) {
                    std::size_t n = tp.raw_data().size() / sizeof(float);
                    std::vector<float> f(n);
                    std::memcpy(f.data(), tp.raw_data().data(), n * sizeof(float));
                    l.tensor_values.assign(f.begin(), f.end());
                } else {
                    l.tensor_values.assign(tp.float_data().begin(), tp.float_data().end());
                }
            } else {
                add(tensor_name + " must be a float or double tensor");
                l.attr = nullptr;
            }
        }
        return l;
    }

    void check_enum(const std::string& name, std::initializer_list<std::string_view> allowed) {
        const auto* a = attr(name);
        if (a == nullptr) {
            return;
        }
        for (auto v : allowed) {
            if (a->s() == v) {
                return;
            }
        }
        add(name + " has an invalid value '" + a->s() + "'");
    }

    bool check_nodes() {
        const auto* tree_ids = ints("nodes_treeids");
        const auto* node_ids = ints("nodes_nodeids");
        const auto* feature_ids = ints("nodes_featureids");
        const auto* true_ids = ints("nodes_truenodeids");
        const auto* false_ids = ints("nodes_falsenodeids");
        const auto* missing = ints("nodes_missing_value_tracks_true");
        const auto* modes = attr("nodes_modes");
        m_values = numbers("nodes_values", "nodes_values_as_tensor");
        if (!m_findings.empty()) {
            return false;
        }
        struct Required {
            const char* name;
            bool present;
        };
        for (const auto& r : {Required{"nodes_treeids", tree_ids != nullptr}, Required{"nodes_nodeids", node_ids != nullptr},
                              Required{"nodes_featureids", feature_ids != nullptr},
                              Required{"nodes_modes", modes != nullptr},
                              Required{"nodes_values", m_values.attr != nullptr},
                              Required{"nodes_truenodeids", true_ids != nullptr},
                              Required{"nodes_falsenodeids", false_ids != nullptr}}) {
            if (!r.present) {
                add(std::string("missing attribute ") + r.name);
            }
        }
        if (!m_findings.empty()) {
            return false;
        }
        if (modes->type() != onnx::AttributeProto::STRINGS) {
            return add("nodes_modes must be a list of strings");
        }
        const std::size_t n = static_cast<std::size_t>(tree_ids->ints_size());
        auto same = [&](const char* name, std::size_t size) {
            if (size != n) {
                add(std::string(name) + " has " + std::to_string(size) + " entries but nodes_treeids has " +
                    std::to_string(n));
            }
        };
        same("nodes_nodeids", static_cast<std::size_t>(node_ids->ints_size()));
        same("nodes_featureids", static_cast<std::size_t>(feature_ids->ints_size()));
        same("nodes_modes", static_cast<std::size_t>(modes->strings_size()));
        same("nodes_values", m_values.size());
        same("nodes_truenodeids", static_cast<std::size_t>(true_ids->ints_size()));
        same("nodes_falsenodeids", static_cast<std::size_t>(false_ids->ints_size()));
        if (missing != nullptr) {
            same("nodes_missing_value_tracks_true", static_cast<std::size_t>(missing->ints_size()));
        }
        if (n == 0) {
            add("the ensemble has no nodes");
        }
        if (!m_findings.empty()) {
            return false;
        }
        m_tree_ids = tree_ids;
        m_node_ids = node_ids;
        m_leaf.assign(n, 0);

        // Group by tree; ids must be exactly 0..count-1 in each tree.
        for (std::size_t i = 0; i < n; ++i) {
            m_trees[tree_ids->ints(static_cast<int>(i))].count++;
        }
        for (auto& [tid, t] : m_trees) {
            t.slot.assign(t.count, -1);
            t.voted.assign(t.count, 0);
        }
        bool ids_ok = true;
        for (std::size_t i = 0; i < n; ++i) {
            std::int64_t tid = tree_ids->ints(static_cast<int>(i));
            std::int64_t nid = node_ids->ints(static_cast<int>(i));
            auto& t = m_trees[tid];
            if (nid < 0 || static_cast<std::size_t>(nid) >= t.count) {
                ids_ok = add("tree " + std::to_string(tid) + ": node id " + std::to_string(nid) +
                             " is outside 0.." + std::to_string(t.count - 1) + " (node ids must be 0…n−1 per tree)");
                continue;
            }
            if (t.slot[static_cast<std::size_t>(nid)] >= 0) {
                ids_ok = add(where(tid, nid) + "node id appears twice");
                continue;
            }
            t.slot[static_cast<std::size_t>(nid)] = static_cast<std::int32_t>(i);
        }
        if (!ids_ok) {
            return false;
        }
        // Per node: mode, children, feature, threshold, missing flag.
        for (std::size_t i = 0; i < n; ++i) {
            const auto ii = static_cast<int>(i);
            std::int64_t tid = tree_ids->ints(ii);
            std::int64_t nid = node_ids->ints(ii);
            const std::string& mode = modes->strings(ii);
            if (valid_modes().count(mode) == 0) {
                add(where(tid, nid) + "invalid mode '" + mode + "'");
                continue;
            }
            if (mode == "LEAF") {
                m_leaf[i] = 1;
                continue;
            }
            const auto& t = m_trees[tid];
            for (auto [label, child] : {std::pair<const char*, std::int64_t>{"true", true_ids->ints(ii)},
                                        std::pair<const char*, std::int64_t>{"false", false_ids->ints(ii)}}) {
                if (child < 0 || static_cast<std::size_t>(child) >= t.count) {
                    add(where(tid, nid) + label + " child " + std::to_string(child) + " does not exist (tree has " +
                        std::to_string(t.count) + " nodes)");
                }
            }
            std::int64_t f = feature_ids->ints(ii);
            if (f < 0 || (m_features && f >= *m_features)) {
                add(where(tid, nid) + "feature id " + std::to_string(f) + " is out of range" +
                    (m_features ? " (the input has " + std::to_string(*m_features) + " features)" : std::string()));
            }
            if (!std::isfinite(m_values.at(i))) {
                add(where(tid, nid) + "threshold is not finite");
            }
            if (missing != nullptr && missing->ints(ii) != 0 && missing->ints(ii) != 1) {
                add(where(tid, nid) + "nodes_missing_value_tracks_true must be 0 or 1");
            }
        }
        if (!m_findings.empty()) {
            return false;
        }
        // Walk each tree the way ONNX Runtime lays it out (tree_ensemble_common.h AddNodes): false
        // branch first, then true. A cycle is an edge back to a node still on the path. A false child
        // seen before is refused by ORT ("False node must always be the next node"); a shared true
        // child is fine (categorical chains rely on it).
        for (auto& [tid, t] : m_trees) {
            if (t.slot[0] < 0) {
                continue;
            }
            std::vector<std::uint8_t> colour(t.count, 0); // 0 new, 1 on the path, 2 done
            std::vector<std::pair<std::int64_t, int>> stack; // node id, next edge (0 false, 1 true)
            stack.emplace_back(0, 0);
            colour[0] = 1;
            while (!stack.empty()) {
                const std::int64_t nid = stack.back().first;
                const int edge = stack.back().second;
                auto pos = static_cast<std::size_t>(t.slot[static_cast<std::size_t>(nid)]);
                if (m_leaf[pos] || edge == 2) {
                    colour[static_cast<std::size_t>(nid)] = 2;
                    stack.pop_back();
                    continue;
                }
                stack.back().second = edge + 1;
                const int ip = static_cast<int>(pos);
                std::int64_t child = edge == 0 ? false_ids->ints(ip) : true_ids->ints(ip);
                auto c = static_cast<std::size_t>(child);
                if (colour[c] == 1) {
                    return add("tree " + std::to_string(tid) + ": cycle through node " + std::to_string(child));
                }
                if (colour[c] == 2) {
                    if (edge == 0) {
                        return add(where(tid, nid) + "false child " + std::to_string(child) +
                                   " is shared with another branch (ONNX Runtime requires every false child to be "
                                   "reached first through that edge)");
                    }
                    continue;
                }
                colour[c] = 1;
                stack.emplace_back(child, 0);
            }
        }
        return true;
    }

    // Returns whether every vote goes to id 0 (the binary-classifier encoding).
    bool check_votes(const std::string& prefix, std::size_t n_outputs) {
        const auto* vt = ints(prefix + "treeids");
        const auto* vn = ints(prefix + "nodeids");
        const auto* vi = ints(prefix + "ids");
        auto vw = numbers(prefix + "weights", prefix + "weights_as_tensor");
        if (vt == nullptr || vn == nullptr || vi == nullptr || vw.attr == nullptr) {
            add("missing vote attributes (" + prefix + "treeids, " + prefix + "nodeids, " + prefix + "ids, " + prefix +
                "weights are required)");
            return false;
        }
        const std::size_t n = static_cast<std::size_t>(vt->ints_size());
        if (static_cast<std::size_t>(vn->ints_size()) != n || static_cast<std::size_t>(vi->ints_size()) != n ||
            vw.size() != n) {
            add("vote arrays differ in length: " + prefix + "treeids " + std::to_string(n) + ", " + prefix + "nodeids " +
                std::to_string(vn->ints_size()) + ", " + prefix + "ids " + std::to_string(vi->ints_size()) + ", " +
                prefix + "weights " + std::to_string(vw.size()));
            return false;
        }
        bool all_zero = true;
        for (std::size_t i = 0; i < n; ++i) {
            const auto ii = static_cast<int>(i);
            std::int64_t tid = vt->ints(ii);
            std::int64_t nid = vn->ints(ii);
            auto it = m_trees.find(tid);
            if (it == m_trees.end() || nid < 0 || static_cast<std::size_t>(nid) >= it->second.count) {
                add(where(tid, nid) + "vote for a node that does not exist");
                continue;
            }
            auto pos = static_cast<std::size_t>(it->second.slot[static_cast<std::size_t>(nid)]);
            if (!m_leaf[pos]) {
                add(where(tid, nid) + "vote on an interior node (only LEAF nodes may vote)");
                continue;
            }
            it->second.voted[static_cast<std::size_t>(nid)] = 1;
            std::int64_t id = vi->ints(ii);
            if (id != 0) {
                all_zero = false;
            }
            if (id < 0 || static_cast<std::size_t>(id) >= n_outputs) {
                add(where(tid, nid) + prefix + "ids entry " + std::to_string(id) + " is outside 0.." +
                    std::to_string(n_outputs - 1));
            }
            if (!std::isfinite(vw.at(i))) {
                add(where(tid, nid) + "vote weight is not finite");
            }
        }
        for (std::size_t i = 0; i < m_leaf.size(); ++i) {
            if (!m_leaf[i]) {
                continue;
            }
            std::int64_t tid = m_tree_ids->ints(static_cast<int>(i));
            std::int64_t nid = m_node_ids->ints(static_cast<int>(i));
            if (!m_trees[tid].voted[static_cast<std::size_t>(nid)]) {
                add(where(tid, nid) + "leaf has no vote");
            }
        }
        return all_zero;
    }

    const onnx::NodeProto& m_node;
    std::optional<std::int64_t> m_features;
    std::unordered_map<std::string, const onnx::AttributeProto*> m_attrs;
    std::string m_prefix;
    std::vector<Finding> m_findings;
    NumberList m_values;
    const onnx::AttributeProto* m_tree_ids = nullptr;
    const onnx::AttributeProto* m_node_ids = nullptr;
    std::vector<std::uint8_t> m_leaf;
    std::unordered_map<std::int64_t, TreeIndex> m_trees;
};

} // namespace

bool is_tree_ensemble_node(const onnx::NodeProto& node) {
    return node.domain() == "ai.onnx.ml" &&
           (node.op_type() == "TreeEnsembleRegressor" || node.op_type() == "TreeEnsembleClassifier");
}

std::vector<Finding> validate_tree_node(const onnx::NodeProto& node, std::optional<std::int64_t> n_features) {
    return Validator(node, n_features).run();
}

std::vector<Finding> validate_tree_ensembles(const onnx::ModelProto& model) {
    std::vector<Finding> findings;
    const auto& g = model.graph();
    for (const auto& node : g.node()) {
        if (!is_tree_ensemble_node(node)) {
            continue;
        }
        std::optional<std::int64_t> n_features;
        if (node.input_size() > 0) {
            for (const auto& in : g.input()) {
                if (in.name() != node.input(0) || !in.type().has_tensor_type() ||
                    !in.type().tensor_type().has_shape()) {
                    continue;
                }
                const auto& shape = in.type().tensor_type().shape();
                if (shape.dim_size() == 2 && shape.dim(1).has_dim_value()) {
                    n_features = shape.dim(1).dim_value();
                }
            }
        }
        auto f = validate_tree_node(node, n_features);
        findings.insert(findings.end(), f.begin(), f.end());
    }
    return findings;
}

} // namespace edgeship::model
