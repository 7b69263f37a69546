#pragma once

// Small graph helpers shared by the passes: fresh names, opset lookup, the element type of every value
// (from the graph's declarations plus lenient shape inference), and a checker run that skips the bulk
// of the weights.

#include "core/result.hpp"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace edgeship::optimize::detail {

/// Hands out value and node names that do not clash with any name already in the graph (or handed out).
class NameScope {
public:
    explicit NameScope(const onnx::GraphProto& g);
    /// `base` itself when free, else base_1, base_2…
    std::string make(const std::string& base);
    /// Every name seen or handed out so far.
    const std::unordered_set<std::string>& used() const { return m_used; }
    /// Marks names of enclosing scopes as taken (a subgraph must not redefine them).
    void reserve(const std::unordered_set<std::string>& names) { m_used.insert(names.begin(), names.end()); }

private:
    std::unordered_set<std::string> m_used;
};

/// The model's ai.onnx opset version ("" or "ai.onnx" import); 0 when it imports none.
std::int64_t default_opset(const onnx::ModelProto& m);

/// True for the default ONNX domain ("" or "ai.onnx").
bool is_default_domain(const std::string& domain);

/// Element type of every value of the main graph that can be determined: graph inputs and outputs,
/// initializers, value_info, Constant nodes and lenient shape inference (run on a copy without the
/// weights, so it is cheap for large models).
std::unordered_map<std::string, int> value_types(const onnx::ModelProto& m);

/// A copy of `m` whose initializers keep name, type and dims but no data.
onnx::ModelProto skeleton(const onnx::ModelProto& m);

/// Names an outer-scope value that a subgraph (If/Loop/Scan bodies) reads, over the whole node list.
std::set<std::string> names_used_by_subgraphs(const onnx::GraphProto& g);

/// True when the node has a graph-valued attribute.
bool has_subgraph(const onnx::NodeProto& n);

/// Runs the ONNX checker and shape inference (type checks on, strict) on the weight-less skeleton of
/// `m`; returns the first problem's first line, or "" when the model is valid.
std::string validation_problem(const onnx::ModelProto& m);

/// Attribute lookup helpers with defaults.
const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name);
std::int64_t attr_int(const onnx::NodeProto& n, const std::string& name, std::int64_t fallback);
float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback);
std::vector<std::int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name);
std::string attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& fallback);

/// "Relu 'name'" or "Relu (node 3)" for messages.
std::string describe_node(const onnx::NodeProto& n, std::size_t index);

} // namespace edgeship::optimize::detail
