#include "model/tree_emitter.hpp"

#include "model/tree_validator.hpp"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <cmath>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace edgeship::model {

namespace {

using Attr = onnx::AttributeProto;

Attr* add_attr(onnx::NodeProto* node, const char* name, Attr::AttributeType type) {
    Attr* a = node->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
}

void set_int(onnx::NodeProto* node, const char* name, std::int64_t v) { add_attr(node, name, Attr::INT)->set_i(v); }

void set_string(onnx::NodeProto* node, const char* name, const std::string& v) {
    add_attr(node, name, Attr::STRING)->set_s(v);
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, std::initializer_list<std::string> inputs,
                          std::initializer_list<std::string> outputs, const std::string& domain = "") {
    onnx::NodeProto* n = g->add_node();
    n->set_op_type(op);
    if (!domain.empty()) {
        n->set_domain(domain);
    }
    std::string name;
    for (const auto& o : outputs) {
        name = o;
        break;
    }
    n->set_name(op + "_" + name);
    for (const auto& i : inputs) {
        n->add_input(i);
    }
    for (const auto& o : outputs) {
        n->add_output(o);
    }
    return n;
}

void add_float_initializer(onnx::GraphProto* g, const std::string& name, std::vector<float> values) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(static_cast<std::int64_t>(values.size()));
    for (float v : values) {
        t->add_float_data(v);
    }
}

void add_int_initializer(onnx::GraphProto* g, const std::string& name, const std::vector<std::int64_t>& values) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<std::int64_t>(values.size()));
    for (auto v : values) {
        t->add_int64_data(v);
    }
}

void add_string_initializer(onnx::GraphProto* g, const std::string& name, const std::vector<std::string>& values) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::STRING);
    t->add_dims(static_cast<std::int64_t>(values.size()));
    for (const auto& v : values) {
        t->add_string_data(v);
    }
}

// A graph input/output: element type and shape [batch] or [batch, width].
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

bool labels_are_indices(const Head& head) {
    if (!head.string_labels.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < head.int_labels.size(); ++i) {
        if (head.int_labels[i] != static_cast<std::int64_t>(i)) {
            return false;
        }
    }
    return true;
}

// Writes all trees into the tree op's parallel arrays (docs/design/onnx.md §2), releasing each tree
// once written. Arrays are reserved to their exact size: on an arena, growth would strand the old blocks.
void write_trees(onnx::NodeProto* op, TreeEnsemble& e, bool classifier) {
    const std::size_t nodes = e.node_count();
    const std::size_t votes = e.vote_count();
    const int n = static_cast<int>(nodes);
    const int v = static_cast<int>(votes);
    auto* tree_ids = add_attr(op, "nodes_treeids", Attr::INTS)->mutable_ints();
    auto* node_ids = add_attr(op, "nodes_nodeids", Attr::INTS)->mutable_ints();
    auto* feature_ids = add_attr(op, "nodes_featureids", Attr::INTS)->mutable_ints();
    auto* modes = add_attr(op, "nodes_modes", Attr::STRINGS)->mutable_strings();
    auto* values = add_attr(op, "nodes_values", Attr::FLOATS)->mutable_floats();
    auto* true_ids = add_attr(op, "nodes_truenodeids", Attr::INTS)->mutable_ints();
    auto* false_ids = add_attr(op, "nodes_falsenodeids", Attr::INTS)->mutable_ints();
    auto* missing = add_attr(op, "nodes_missing_value_tracks_true", Attr::INTS)->mutable_ints();
    const char* p = classifier ? "class_" : "target_";
    auto* v_tree = add_attr(op, (std::string(p) + "treeids").c_str(), Attr::INTS)->mutable_ints();
    auto* v_node = add_attr(op, (std::string(p) + "nodeids").c_str(), Attr::INTS)->mutable_ints();
    auto* v_id = add_attr(op, (std::string(p) + "ids").c_str(), Attr::INTS)->mutable_ints();
    auto* v_weight = add_attr(op, (std::string(p) + "weights").c_str(), Attr::FLOATS)->mutable_floats();
    for (auto* r : {tree_ids, node_ids, feature_ids, true_ids, false_ids, missing}) {
        r->Reserve(n);
    }
    modes->Reserve(n);
    values->Reserve(n);
    for (auto* r : {v_tree, v_node, v_id}) {
        r->Reserve(v);
    }
    v_weight->Reserve(v);

    // nodes_modes: one arena string per mode, shared by every node with that mode. A repeated string
    // field normally allocates one std::string per entry (plus an arena cleanup record): 56 bytes a
    // node, the largest single cost of a big ensemble. UnsafeArenaAddAllocated stores the pointer
    // only; that is sound here because the strings live on the same arena as the field (the
    // function's contract), nothing mutates or clears this field afterwards, and a field on an arena
    // never deletes its elements. Copies of the model (CopyFrom) get ordinary, independent strings.
    google::protobuf::Arena* arena = op->GetArena();
    std::string* mode_names[7];
    for (int k = 0; k < 7; ++k) {
        const char* name = node_mode_name(static_cast<NodeMode>(k));
        mode_names[k] = arena != nullptr ? google::protobuf::Arena::Create<std::string>(arena, name) : nullptr;
    }
    for (std::size_t t = 0; t < e.trees.size(); ++t) {
        Tree& tree = e.trees[t];
        const auto tid = static_cast<std::int64_t>(t);
        for (std::size_t i = 0; i < tree.nodes.size(); ++i) {
            const TreeNode& nd = tree.nodes[i];
            const bool leaf = nd.mode == NodeMode::leaf;
            tree_ids->AddAlreadyReserved(tid);
            node_ids->AddAlreadyReserved(static_cast<std::int64_t>(i));
            feature_ids->AddAlreadyReserved(leaf ? 0 : nd.feature);
            if (arena != nullptr) {
                modes->UnsafeArenaAddAllocated(mode_names[static_cast<int>(nd.mode)]);
            } else {
                modes->Add()->assign(node_mode_name(nd.mode));
            }
            values->AddAlreadyReserved(leaf ? 0.0f : nd.threshold);
            true_ids->AddAlreadyReserved(leaf ? 0 : nd.true_child);
            false_ids->AddAlreadyReserved(leaf ? 0 : nd.false_child);
            missing->AddAlreadyReserved(!leaf && nd.missing_tracks_true ? 1 : 0);
        }
        for (const LeafVote& vote : tree.votes) {
            v_tree->AddAlreadyReserved(tid);
            v_node->AddAlreadyReserved(vote.node);
            v_id->AddAlreadyReserved(vote.target);
            v_weight->AddAlreadyReserved(static_cast<float>(vote.weight));
        }
        tree = Tree{}; // release as we go: peak memory is the ONNX arrays, not both copies
#ifdef __GLIBC__
        if (t % 64 == 63) {
            ::malloc_trim(0); // hand the freed trees' pages back, or they stay resident until exit
        }
#endif
    }
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

} // namespace

OnnxModel OnnxModel::on_arena() {
    OnnxModel m;
    google::protobuf::ArenaOptions opts;
    opts.start_block_size = 64 * 1024;
    opts.max_block_size = 8 * 1024 * 1024;
    m.m_arena = std::make_unique<google::protobuf::Arena>(opts);
    m.m_proto = google::protobuf::Arena::CreateMessage<onnx::ModelProto>(m.m_arena.get());
    return m;
}

OnnxModel OnnxModel::from(onnx::ModelProto&& proto) {
    OnnxModel m;
    m.m_owned = std::make_unique<onnx::ModelProto>(std::move(proto));
    m.m_proto = m.m_owned.get();
    return m;
}


std::vector<std::string> output_names(const onnx::ModelProto& model) {
    std::vector<std::string> out;
    for (const auto& o : model.graph().output()) {
        out.push_back(o.name());
    }
    return out;
}

Result<OnnxModel> emit_tree_ensemble(TreeEnsemble&& e, const EmitOptions& options) {
    if (options.opset < 13 || options.opset > 17) {
        return fail("--opset " + std::to_string(options.opset) +
                        ": tree models are written for ai.onnx opsets 13 to 17 (Debian's ONNX 1.12 checks up to 17)",
                    ExitCode::usage);
    }
    const Head& head = e.head;
    const auto classes = static_cast<std::int64_t>(head.class_count());
    const std::int64_t targets = e.n_targets;
    if (e.trees.empty()) {
        return fail("the model has no trees", ExitCode::validation);
    }
    if (head.kind != HeadKind::scores) {
        bool binary_one_column = targets == 1 && classes == 2;
        if (classes < 2 || (targets != classes && !binary_one_column)) {
            return fail("a classifier needs one score per class, or one score for two classes (" +
                            std::to_string(targets) + " scores, " + std::to_string(classes) + " classes)",
                        ExitCode::validation);
        }
        if (head.kind == HeadKind::hinge && targets != 1) {
            return fail("a hinge classifier has exactly one score", ExitCode::validation);
        }
    }

    const bool classifier_op =
        head.kind == HeadKind::classifier && head.scale == 1.0 &&
        (head.transform == Transform::softmax || head.transform == Transform::none ||
         (head.transform == Transform::sigmoid && targets == 1 && classes == 2));
    if (classifier_op && e.aggregate != Aggregate::sum) {
        return fail("TreeEnsembleClassifier only sums votes; divide the weights instead of averaging", ExitCode::validation);
    }

    OnnxModel model = OnnxModel::on_arena();
    onnx::ModelProto& m = model.proto();
    set_model_header(m, options.opset, options.producer_version, options.doc_string, options.metadata, true);

    onnx::GraphProto* g = m.mutable_graph();
    g->set_name(options.graph_name);
    set_value_info(g->add_input(), options.input_name, onnx::TensorProto::FLOAT, e.n_features);

    // The tree op. Its output is either a model output or "scores" for the post-processing below.
    const bool plain_scores = head.kind == HeadKind::scores && head.scale == 1.0 && head.transform == Transform::none;
    std::string scores = plain_scores ? head.output_name : "scores";
    onnx::NodeProto* tree_op = nullptr;
    if (classifier_op) {
        tree_op = add_node(g, "TreeEnsembleClassifier", {options.input_name}, {"tree_label", "probabilities"}, "ai.onnx.ml");
        auto* labels = add_attr(tree_op, "classlabels_int64s", Attr::INTS)->mutable_ints();
        for (std::int64_t c = 0; c < classes; ++c) {
            labels->Add(c);
        }
        set_string(tree_op, "post_transform",
                   head.transform == Transform::softmax ? "SOFTMAX"
                                                        : (head.transform == Transform::sigmoid ? "LOGISTIC" : "NONE"));
    } else {
        tree_op = add_node(g, "TreeEnsembleRegressor", {options.input_name}, {scores}, "ai.onnx.ml");
        set_int(tree_op, "n_targets", targets);
        set_string(tree_op, "post_transform", "NONE");
        static const char* aggregates[] = {"SUM", "AVERAGE", "MIN", "MAX"};
        set_string(tree_op, "aggregate_function", aggregates[static_cast<int>(e.aggregate)]);
    }
    bool any_base = false;
    for (double b : e.base_values) {
        any_base = any_base || b != 0.0;
    }
    if (any_base) {
        auto* bv = add_attr(tree_op, "base_values", Attr::FLOATS)->mutable_floats();
        for (double b : e.base_values) {
            bv->Add(static_cast<float>(b));
        }
    }
    write_trees(tree_op, e, classifier_op);
    e.trees.clear();
    e.trees.shrink_to_fit();

    // Post-processing with explicit ops (docs/design/onnx.md §9.2: never rely on post_transform codes
    // where a plain op says it).
    std::vector<std::pair<std::string, std::pair<int, std::int64_t>>> outputs; // name, (type, width)
    if (!classifier_op && !plain_scores) {
        std::string cur = scores;
        if (head.scale != 1.0) {
            add_float_initializer(g, "k_scale", {static_cast<float>(head.scale)});
            add_node(g, "Mul", {cur, "k_scale"}, {"scaled_scores"});
            cur = "scaled_scores";
        }
        const bool last_is_output = head.kind == HeadKind::scores;
        auto target_name = [&](const char* intermediate) {
            return last_is_output ? head.output_name : std::string(intermediate);
        };
        switch (head.transform) {
        case Transform::none:
            if (last_is_output) {
                add_node(g, "Identity", {cur}, {head.output_name});
                cur = head.output_name;
            }
            break;
        case Transform::sigmoid: {
            std::string out = target_name("sigmoid");
            add_node(g, "Sigmoid", {cur}, {out});
            cur = out;
            break;
        }
        case Transform::softmax: {
            std::string out = target_name("softmax");
            auto* sm = add_node(g, "Softmax", {cur}, {out});
            set_int(sm, "axis", 1);
            cur = out;
            break;
        }
        case Transform::exp: {
            std::string out = target_name("exp");
            add_node(g, "Exp", {cur}, {out});
            cur = out;
            break;
        }
        }
        if (head.kind == HeadKind::classifier) {
            if (targets == 1) { // one probability p for the second class: [1 - p, p]
                add_float_initializer(g, "k_one", {1.0f});
                add_node(g, "Sub", {"k_one", cur}, {"complement"});
                auto* cat = add_node(g, "Concat", {"complement", cur}, {"probabilities"});
                set_int(cat, "axis", 1);
            } else {
                add_node(g, "Identity", {cur}, {"probabilities"});
            }
        } else if (head.kind == HeadKind::hinge) {
            add_float_initializer(g, "k_zero", {0.0f});
            add_node(g, "Greater", {cur, "k_zero"}, {"positive"});
            auto* cast = add_node(g, "Cast", {"positive"}, {"positive_index"});
            set_int(cast, "to", onnx::TensorProto::INT64);
            add_int_initializer(g, "k_flat", {-1});
            add_node(g, "Reshape", {"positive_index", "k_flat"}, {"label_index"});
        }
    }
    if (head.kind == HeadKind::classifier) {
        auto* am = add_node(g, "ArgMax", {"probabilities"}, {"label_index"});
        set_int(am, "axis", 1);
        set_int(am, "keepdims", 0);
    }
    if (head.kind != HeadKind::scores) {
        // label_index -> label: the index itself when labels are 0..K-1, else a lookup.
        const bool identity = labels_are_indices(head);
        if (identity) {
            for (auto& n : *g->mutable_node()) {
                for (auto& o : *n.mutable_output()) {
                    if (o == "label_index") {
                        o = "label";
                    }
                }
            }
        } else {
            if (!head.string_labels.empty()) {
                add_string_initializer(g, "k_labels", head.string_labels);
            } else {
                add_int_initializer(g, "k_labels", head.int_labels);
            }
            auto* gather = add_node(g, "Gather", {"k_labels", "label_index"}, {"label"});
            set_int(gather, "axis", 0);
        }
        outputs.push_back({"label", {head.string_labels.empty() ? onnx::TensorProto::INT64 : onnx::TensorProto::STRING, 0}});
        if (head.kind == HeadKind::classifier) {
            outputs.push_back({"probabilities", {onnx::TensorProto::FLOAT, classes}});
        }
    } else {
        outputs.push_back({head.output_name, {onnx::TensorProto::FLOAT, targets}});
    }
    for (const auto& [name, tw] : outputs) {
        set_value_info(g->add_output(), name, tw.first, tw.second);
    }

    // Validate before anyone writes it (docs/design/onnx.md §10.3, §17.9).
    if (auto findings = validate_tree_ensembles(m); !findings.empty()) {
        std::string msg = "structural validation failed: " + findings.front().message;
        if (findings.size() > 1) {
            msg += " (and " + std::to_string(findings.size() - 1) + " more)";
        }
        return fail(msg, ExitCode::validation);
    }
    try {
        onnx::checker::check_model(m);
    } catch (const std::exception& ex) {
        return fail("the ONNX checker rejected the emitted model: " + first_line(ex.what()), ExitCode::validation);
    }
    try {
        onnx::ShapeInferenceOptions si{true, 1, false};
        onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(), si);
    } catch (const std::exception& ex) {
        return fail("shape inference rejected the emitted model: " + first_line(ex.what()), ExitCode::validation);
    }
    return model;
}

} // namespace edgeship::model
