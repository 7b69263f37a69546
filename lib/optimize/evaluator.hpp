#pragma once

#include "core/result.hpp"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace edgeship::optimize {

/// A dense tensor for the reference evaluator: float values, or int64 values for shape operands.
struct Tensor {
    std::vector<std::int64_t> dims;
    std::vector<float> f;
    std::vector<std::int64_t> i;
    bool is_int = false;
    std::size_t size() const;
};

/// The op types the reference evaluator can run (default domain).
const std::set<std::string>& evaluator_ops();

/// A small float32 reference evaluator for the ops static-int8 calibration needs to run (Gemm, MatMul,
/// Conv, pooling, element-wise ops, shape plumbing). There is no ONNX runtime for C++ in Debian
/// (docs/design/onnx.md §13), so calibration computes activation ranges with this instead. It is written for
/// clarity, not speed: calibration sets are small. Immutable after create(); run() is const and may be
/// called from several threads.
class Evaluator {
public:
    /// Prepares to compute `wanted` values of `model`'s main graph. Only the nodes those values depend
    /// on must be supported; the first one that is not is named in the error (exit 1), as is a wanted
    /// value that nothing produces. Weights must be loaded.
    static Result<Evaluator> create(const onnx::ModelProto& model, const std::vector<std::string>& wanted);

    /// Runs the graph on `inputs` (graph input name -> tensor) and returns the wanted values.
    Result<std::map<std::string, Tensor>> run(const std::map<std::string, Tensor>& inputs) const;

private:
    Evaluator() = default;
    std::int64_t m_opset = 0;
    std::vector<onnx::NodeProto> m_nodes; ///< the needed nodes, in graph order
    std::unordered_map<std::string, std::shared_ptr<const Tensor>> m_constants;
    std::vector<std::string> m_wanted;
};

} // namespace edgeship::optimize
