#include "optimize/opset.hpp"

#include "optimize/detail/graph_util.hpp"

#include <onnx/defs/schema.h>
#include <onnx/common/version.h>
#include <onnx/version_converter/convert.h>

#include <algorithm>
#include <regex>

namespace edgeship::optimize {


std::int64_t max_supported_opset() {
    const auto& map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
    auto it = map.find("");
    return it == map.end() ? 17 : it->second.second;
}

namespace {

// The ai.onnx.ml opset also needs a minimum IR (ml 1 -> 3, ml 2 -> 6, ml 3 -> 8).
std::int64_t ir_needed_by_other_domains(const onnx::ModelProto& m) {
    std::int64_t ir = 3;
    for (const auto& op : m.opset_import()) {
        if (op.domain() == "ai.onnx.ml") {
            ir = std::max<std::int64_t>(ir, op.version() >= 3 ? 8 : (op.version() == 2 ? 6 : 3));
        }
    }
    return ir;
}

std::string converter_message(const std::string& what) {
    std::string first = what.substr(0, what.find('\n'));
    std::smatch m;
    // "No Adapter From Version $14 for Relu" / "No Adapter To Version $13 for Relu"
    if (std::regex_search(first, m, std::regex(R"(No Adapter (From|To|For) Version \$?(\d+) for (\S+))"))) {
        std::string where = m[1].str() == "From" ? " from version " : " at version ";
        return "the ONNX version converter has no adapter for " + m[3].str() + where + m[2].str();
    }
    return "the ONNX version converter failed: " + first;
}

} // namespace

Result<OpsetChange> convert_opset(onnx::ModelProto& model, std::int64_t target, const core::Logger& log) {
    OpsetChange change;
    change.from = detail::default_opset(model);
    change.to = target;
    change.ir_from = change.ir_to = model.ir_version();
    if (change.from == 0) {
        return fail("the model imports no ai.onnx opset to convert");
    }
    std::int64_t max = max_supported_opset();
    if (target < 1 || target > max) {
        return unexpected(Error("opset " + std::to_string(target) + " is outside what this build supports (1.." +
                                std::to_string(max) + ", ONNX " + onnx::LAST_RELEASE_VERSION + ")"));
    }
    if (target == change.from) {
        log.debug("opset: already " + std::to_string(target));
        return change;
    }
    onnx::ModelProto converted;
    try {
        converted = onnx::version_conversion::ConvertVersion(model, static_cast<int>(target));
    } catch (const std::exception& e) {
        std::string direction = target < change.from ? "downgrade" : "upgrade";
        Error err("cannot " + direction + " opset " + std::to_string(change.from) + " to " + std::to_string(target) +
                  ": " + converter_message(e.what()));
        if (target < change.from) {
            err.hint("downgrades are poorly supported by the ONNX version converter (onnx#3050); re-export the "
                     "model at opset " + std::to_string(target) + " from its framework");
        }
        return unexpected(std::move(err));
    }
    // Keep what the converter does not carry over.
    converted.mutable_metadata_props()->CopyFrom(model.metadata_props());
    converted.set_producer_name(model.producer_name());
    converted.set_producer_version(model.producer_version());
    converted.set_domain(model.domain());
    converted.set_model_version(model.model_version());
    converted.set_doc_string(model.doc_string());
    change.ir_to = std::max(ir_version_for_opset(target), ir_needed_by_other_domains(converted));
    converted.set_ir_version(change.ir_to);
    model = std::move(converted);
    log.debug("opset: " + std::to_string(change.from) + " -> " + std::to_string(change.to) + ", IR " +
              std::to_string(change.ir_from) + " -> " + std::to_string(change.ir_to));
    return change;
}

} // namespace edgeship::optimize
