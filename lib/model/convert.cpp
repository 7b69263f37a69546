#include "model/convert.hpp"

#include "core/fs.hpp"
#include "core/sha256.hpp"
#include "model/lightgbm_reader.hpp"
#include "model/onnx_model.hpp"
#include "model/tree_validator.hpp"
#include "model/xgboost_reader.hpp"

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <set>

namespace edgeship::model {

namespace fs = std::filesystem;

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Streams serialized bytes into an AtomicFile (or a string) while hashing them.
class HashingSink : public google::protobuf::io::CopyingOutputStream {
public:
    HashingSink(core::AtomicFile* file, std::string* buffer) : m_file(file), m_buffer(buffer) {}
    bool Write(const void* data, int size) override {
        std::string_view chunk(static_cast<const char*>(data), static_cast<std::size_t>(size));
        m_hash.update(chunk);
        m_bytes += static_cast<std::uint64_t>(size);
        if (m_buffer != nullptr) {
            m_buffer->append(chunk);
            return true;
        }
        auto r = m_file->write(chunk);
        if (!r) {
            m_error = std::move(r).error();
            return false;
        }
        return true;
    }
    std::string digest() { return m_hash.hex_digest(); }
    std::uint64_t bytes() const { return m_bytes; }
    const std::optional<Error>& error() const { return m_error; }

private:
    core::AtomicFile* m_file;
    std::string* m_buffer;
    core::Sha256 m_hash;
    std::uint64_t m_bytes = 0;
    std::optional<Error> m_error;
};


std::string get_metadata(const onnx::ModelProto& m, const std::string& key) {
    for (const auto& kv : m.metadata_props()) {
        if (kv.key() == key) {
            return kv.value();
        }
    }
    return "";
}

void fill_model_facts(ConvertReport& r, const onnx::ModelProto& m) {
    r.ir_version = m.ir_version();
    r.opsets.clear();
    for (const auto& op : m.opset_import()) {
        r.opsets[op.domain() == "ai.onnx" ? "" : op.domain()] = op.version();
    }
    r.inputs.clear();
    std::set<std::string> initializers;
    for (const auto& t : m.graph().initializer()) {
        initializers.insert(t.name());
    }
    for (const auto& i : m.graph().input()) {
        if (initializers.count(i.name()) == 0) {
            r.inputs.push_back(i.name());
        }
    }
    r.outputs = output_names(m);
}

Result<void> check_and_infer(onnx::ModelProto& m, const std::string& step) {
    try {
        onnx::checker::check_model(m);
    } catch (const std::exception& e) {
        return fail(step + ": the ONNX checker rejected the model: " + first_line(e.what()), ExitCode::validation);
    }
    try {
        onnx::ShapeInferenceOptions opts{true, 0, false};
        onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(), opts);
    } catch (const std::exception& e) {
        return fail(step + ": shape inference failed: " + first_line(e.what()), ExitCode::validation);
    }
    return {};
}

Result<Conversion> convert_onnx(const ConvertOptions& options, const std::string& source_sha, const core::Logger& log) {
    EDGESHIP_TRY_ASSIGN(LoadedModel loaded, load_model(options.input));
    // Weights stored beside the model are read in (resolved in the model's directory, never outside
    // it: docs/design/onnx.md §10.6); write_conversion inlines them or, with --external-data, writes a
    // new side file next to the output.
    EDGESHIP_TRY_ASSIGN(std::uint64_t external_bytes, load_external_data(loaded.proto, options.input.parent_path()));
    if (external_bytes > 0) {
        log.debug("read " + std::to_string(external_bytes) + " bytes of external data");
    }
    onnx::ModelProto inferred;
    auto findings = check_model(loaded, StrictShapes::no, &inferred);
    EDGESHIP_TRY(require_valid("", findings));
    if (auto tf = validate_tree_ensembles(inferred); !tf.empty()) {
        return fail("structural validation failed: " + tf.front().message, ExitCode::validation);
    }
    ConvertReport report;
    report.source_format = "onnx";
    std::string producer = loaded.proto.producer_name();
    if (!loaded.proto.producer_version().empty()) {
        producer += (producer.empty() ? "" : " ") + loaded.proto.producer_version();
    }
    report.source_version = "ir " + std::to_string(loaded.proto.ir_version()) + (producer.empty() ? "" : ", " + producer);

    std::int64_t current = 0;
    for (const auto& op : inferred.opset_import()) {
        if (op.domain().empty() || op.domain() == "ai.onnx") {
            current = op.version();
        }
    }
    if (options.opset && *options.opset != current) {
        const std::int64_t target = *options.opset;
        if (target < 1 || target > 17) {
            return fail("--opset " + std::to_string(target) +
                            ": the ONNX version converter in ONNX 1.12 converts to opsets 1 to 17",
                        ExitCode::usage);
        }
        log.info("converting the default-domain opset " + std::to_string(current) + " -> " + std::to_string(target));
        try {
            inferred = onnx::version_conversion::ConvertVersion(inferred, static_cast<int>(target));
        } catch (const std::exception& e) {
            return unexpected(Error("converting opset " + std::to_string(current) + " to " + std::to_string(target) +
                                    ": " + first_line(e.what()))
                                  .hint(target < current ? "the ONNX version converter has few downgrade adapters; "
                                                           "re-export the model at the opset you need"
                                                         : "re-export the model at the opset you need"));
        }
        // ConvertVersion leaves ir_version alone (docs/design/onnx.md §10.1).
        inferred.set_ir_version(std::max<std::int64_t>(inferred.ir_version(), ir_version_for_opset(target)));
        EDGESHIP_TRY(check_and_infer(inferred, "after converting to opset " + std::to_string(target)));
    }
    if (!options.name.empty()) {
        inferred.mutable_graph()->set_name(options.name);
    }
    report.objective = get_metadata(inferred, metadata_keys::objective);
    set_metadata(inferred, metadata_keys::version, options.edgeship_version);
    set_metadata(inferred, metadata_keys::source_format, report.source_format);
    set_metadata(inferred, metadata_keys::source_version, report.source_version);
    set_metadata(inferred, metadata_keys::source_sha256, source_sha);
    if (report.objective.empty()) {
        report.objective = "unknown";
        set_metadata(inferred, metadata_keys::objective, report.objective);
    }
    for (const auto& node : inferred.graph().node()) {
        if (is_tree_ensemble_node(node)) {
            for (const auto& a : node.attribute()) {
                if (a.name() == "nodes_treeids") {
                    std::set<std::int64_t> ids(a.ints().begin(), a.ints().end());
                    report.trees += ids.size();
                    report.nodes += static_cast<std::size_t>(a.ints_size());
                }
            }
        }
    }
    if (!inferred.graph().input().empty()) {
        const auto& t = inferred.graph().input(0).type();
        if (t.has_tensor_type() && t.tensor_type().shape().dim_size() == 2 && t.tensor_type().shape().dim(1).has_dim_value()) {
            report.features = t.tensor_type().shape().dim(1).dim_value();
        }
    }
    report.iteration_limit = "n/a";
    report.booster = "n/a";
    fill_model_facts(report, inferred);
    return Conversion{OnnxModel::from(std::move(inferred)), std::move(report)};
}

} // namespace

std::optional<SourceFormat> parse_source_format(std::string_view name) {
    if (name == "xgboost") {
        return SourceFormat::xgboost;
    }
    if (name == "lightgbm") {
        return SourceFormat::lightgbm;
    }
    if (name == "onnx") {
        return SourceFormat::onnx;
    }
    return std::nullopt;
}

std::string detect_format(std::string_view head) {
    std::size_t i = 0;
    while (i < head.size() && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) {
        ++i;
    }
    if (i < head.size() && head[i] == '{') {
        if (i == 0 && head.size() > 1) {
            char c = head[1];
            // UBJSON object: a key length marker (i U I l L), an optimized container ($ #), or '}'.
            if (c == 'i' || c == 'U' || c == 'I' || c == 'l' || c == 'L' || c == '$' || c == '#') {
                return "xgboost-ubj";
            }
        }
        return "xgboost-json";
    }
    if (head.substr(i).starts_with("tree\n") || head.substr(i).starts_with("tree\r\n") || head.substr(i) == "tree") {
        return "lightgbm-text";
    }
    // ONNX ModelProto: the first field is almost always ir_version (field 1, varint: 0x08).
    if (!head.empty() && head[0] == 0x08) {
        return "onnx";
    }
    return "";
}

Result<Conversion> convert_model(const ConvertOptions& options, const core::Logger& log) {
    const std::string path = options.input.string();
    auto with_context = [&](Error e) { return unexpected(std::move(e).context(path)); };

    ReadModel read;
    std::string source_sha;
    std::string format;
    {
        auto bytes_r = core::read_file(options.input);
        if (!bytes_r) {
            return unexpected(std::move(bytes_r).error());
        }
        std::string bytes = std::move(*bytes_r);
        if (bytes.empty()) {
            return fail(path + ": empty file, not a model");
        }
        source_sha = core::sha256_hex(bytes);
        std::string detected = detect_format(std::string_view(bytes).substr(0, 64));
        switch (options.from) {
        case SourceFormat::detect:
            if (detected.empty()) {
                return unexpected(Error(path + ": unknown model format (not XGBoost JSON/UBJ, LightGBM text or ONNX)")
                                      .hint("name it with --from xgboost|lightgbm|onnx"));
            }
            format = detected;
            break;
        case SourceFormat::xgboost: format = detected == "xgboost-ubj" ? "xgboost-ubj" : "xgboost-json"; break;
        case SourceFormat::lightgbm: format = "lightgbm-text"; break;
        case SourceFormat::onnx: format = "onnx"; break;
        }
        log.debug(path + ": format " + format + (options.from == SourceFormat::detect ? " (detected)" : ""));
        if (format == "onnx") {
            bytes.clear();
            bytes.shrink_to_fit();
            auto r = convert_onnx(options, source_sha, log);
            if (!r) {
                return with_context(std::move(r).error());
            }
            r->report.input = path;
            r->report.source_sha256 = source_sha;
            return r;
        }
        ReadOptions ro;
        ro.output = options.output;
        ro.iterations = options.iterations;
        Result<ReadModel> rr = format == "lightgbm-text"
                                   ? read_lightgbm(bytes, ro)
                                   : read_xgboost(std::move(bytes),
                                                  format == "xgboost-ubj" ? XgboostEncoding::ubjson : XgboostEncoding::json, ro);
        if (!rr) {
            return with_context(std::move(rr).error());
        }
        read = std::move(*rr);
    } // the file's bytes are released before the ONNX model is built

    ConvertReport report;
    report.input = path;
    report.source_format = read.info.format;
    report.source_version = read.info.version;
    report.source_sha256 = source_sha;
    report.objective = read.info.objective;
    report.booster = read.info.booster;
    report.trees = read.ensemble.trees.size();
    report.nodes = read.ensemble.node_count();
    report.features = read.ensemble.n_features;
    report.classes = read.info.classes;
    report.targets = read.ensemble.n_targets;
    report.iteration_limit = read.info.iteration_limit;

    EmitOptions eo;
    eo.graph_name = options.name.empty() ? options.input.stem().string() : options.name;
    eo.opset = options.opset.value_or(17);
    eo.producer_version = options.edgeship_version;
    eo.doc_string = "Converted by edgeship from " + read.info.format + " (" + read.info.objective + ")";
    eo.metadata = {
        {metadata_keys::version, options.edgeship_version},
        {metadata_keys::source_format, read.info.format},
        {metadata_keys::source_version, read.info.version},
        {metadata_keys::source_sha256, source_sha},
        {metadata_keys::objective, read.info.objective},
        {metadata_keys::feature_names, encode_feature_names(read.info.feature_names)},
        {metadata_keys::iteration_limit, read.info.iteration_limit},
        {metadata_keys::output_kind, options.output == OutputKind::margin ? "margin" : "prediction"},
    };
    log.debug("emitting " + std::to_string(report.trees) + " trees, " + std::to_string(report.nodes) + " nodes");
    auto emitted = emit_tree_ensemble(std::move(read.ensemble), eo);
    if (!emitted) {
        return with_context(std::move(emitted).error());
    }
    fill_model_facts(report, emitted->proto());
    return Conversion{std::move(*emitted), std::move(report)};
}

namespace {

Error too_large(const std::string& what, std::uint64_t bytes) {
    return Error(what + "the model is " + std::to_string(bytes >> 20) + " MiB (" + std::to_string(bytes) +
                 " bytes), over protobuf's 2 GiB limit for one file")
        .hint("pass --external-data to store the weights in OUT.data beside the model");
}

// Streams the model into `file` while hashing it; fills the report's output fields.
Result<void> stream_model(Conversion& c, core::AtomicFile& file, const fs::path& path) {
    HashingSink sink(&file, nullptr);
    {
        google::protobuf::io::CopyingOutputStreamAdaptor stream(&sink, 1 << 20);
        bool ok = c.model.proto().SerializeToZeroCopyStream(&stream);
        ok = stream.Flush() && ok;
        if (!ok) {
            if (sink.error()) {
                return unexpected(*sink.error());
            }
            return fail(path.string() + ": cannot serialize the model");
        }
    }
    c.report.output = path.string();
    c.report.output_bytes = sink.bytes();
    c.report.sha256 = sink.digest();
    return {};
}

} // namespace

Result<void> write_conversion(Conversion& c, const fs::path& path, const WriteOptions& options) {
    auto& m = c.model.proto();
    if (options.external_data == ExternalData::no) {
        if (m.ByteSizeLong() > options.size_limit) {
            return unexpected(too_large(path.string() + ": ", m.ByteSizeLong()));
        }
        EDGESHIP_TRY_ASSIGN(core::AtomicFile file, core::AtomicFile::create(path));
        EDGESHIP_TRY(stream_model(c, file, path));
        EDGESHIP_TRY(file.commit());
        c.report.external_data.reset();
        return {};
    }
    // docs/design/onnx.md §10.6: libonnx has no writer; move raw bytes out and set the fields ourselves.
    const std::string location = external_data_location(path);
    const fs::path data_path = path.parent_path() / location;
    EDGESHIP_TRY_ASSIGN(core::AtomicFile data_file, core::AtomicFile::create(data_path));
    auto info = move_to_external_data(m, data_file, location, options.external_threshold);
    if (!info) {
        return unexpected(std::move(info).error().context("writing " + data_path.string()));
    }
    if (m.ByteSizeLong() > options.size_limit) {
        return unexpected(Error(path.string() + ": even with " + std::to_string(info->tensors) + " tensors in " + location +
                                " the model is " + std::to_string(m.ByteSizeLong() >> 20) +
                                " MiB, over protobuf's 2 GiB limit for one file")
                              .hint("ONNX stores only tensors externally; node attributes (such as tree "
                                    "ensembles' nodes) stay in the .onnx file"));
    }
    EDGESHIP_TRY_ASSIGN(core::AtomicFile file, core::AtomicFile::create(path));
    EDGESHIP_TRY(stream_model(c, file, path));
    // Both files are complete; the data goes first so the model never names a file that is not there.
    EDGESHIP_TRY(data_file.commit());
    if (auto committed = file.commit(); !committed) {
        std::error_code ec;
        fs::remove(data_path, ec);
        return unexpected(std::move(committed).error());
    }
    c.report.external_data = *info;
    return {};
}

Result<std::string> serialize_conversion(Conversion& c, const WriteOptions& options) {
    const auto& m = c.model.proto();
    if (options.external_data == ExternalData::yes) {
        return fail("external data needs a file beside the model, not stdout", ExitCode::usage);
    }
    if (m.ByteSizeLong() > options.size_limit) {
        return unexpected(too_large("", m.ByteSizeLong()));
    }
    std::string bytes;
    HashingSink sink(nullptr, &bytes);
    {
        google::protobuf::io::CopyingOutputStreamAdaptor stream(&sink, 1 << 20);
        bool ok = m.SerializeToZeroCopyStream(&stream);
        if (!stream.Flush() || !ok) {
            return fail("cannot serialize the model");
        }
    }
    c.report.output = "-";
    c.report.output_bytes = sink.bytes();
    c.report.sha256 = sink.digest();
    return bytes;
}

nlohmann::json report_to_json(const ConvertReport& r) {
    nlohmann::json opsets = nlohmann::json::object();
    for (const auto& [domain, v] : r.opsets) {
        opsets[domain.empty() ? "ai.onnx" : domain] = v;
    }
    return {
        {"input", r.input},
        {"source_format", r.source_format},
        {"source_version", r.source_version},
        {"source_sha256", r.source_sha256},
        {"objective", r.objective},
        {"booster", r.booster},
        {"trees", r.trees},
        {"nodes", r.nodes},
        {"features", r.features},
        {"classes", r.classes},
        {"targets", r.targets},
        {"iteration_limit", r.iteration_limit},
        {"inputs", r.inputs},
        {"outputs", r.outputs},
        {"opsets", opsets},
        {"ir_version", r.ir_version},
        {"output", r.output},
        {"output_bytes", r.output_bytes},
        {"sha256", r.sha256},
        {"external_data", r.external_data ? nlohmann::json{{"location", r.external_data->location},
                                                           {"bytes", r.external_data->bytes},
                                                           {"tensors", r.external_data->tensors}}
                                          : nlohmann::json(nullptr)},
    };
}

} // namespace edgeship::model
