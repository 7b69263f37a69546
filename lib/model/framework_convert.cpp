#include "model/framework_convert.hpp"

#include "model/external_data.hpp"

#include "core/sha256.hpp"
#include "model/framework_sklearn.hpp"
#include "model/onnx_model.hpp"

#include <cctype>
#include <fstream>
#include <set>

namespace edgeship::model {

namespace fs = std::filesystem;

namespace {


void fill_model_facts(ConvertReport& r, const onnx::ModelProto& m) {
    r.ir_version = m.ir_version();
    r.opsets.clear();
    for (const auto& op : m.opset_import()) {
        r.opsets[op.domain() == "ai.onnx" ? "" : op.domain()] = op.version();
    }
    std::set<std::string> initializers;
    for (const auto& t : m.graph().initializer()) {
        initializers.insert(t.name());
    }
    r.inputs.clear();
    for (const auto& i : m.graph().input()) {
        if (initializers.count(i.name()) == 0) {
            r.inputs.push_back(i.name());
        }
    }
    r.outputs = output_names(m);
}

Result<std::string> read_head(const fs::path& path, std::size_t n) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return fail(path.string() + ": no such file");
    }
    if (!fs::is_regular_file(path, ec)) {
        return fail(path.string() + ": not a regular file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail(path.string() + ": cannot open for reading");
    }
    std::string head(n, '\0');
    in.read(head.data(), static_cast<std::streamsize>(n));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (head.empty()) {
        return fail(path.string() + ": empty file, not a model");
    }
    return head;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string s;
    for (auto d : shape) {
        s += (s.empty() ? "" : "x") + std::to_string(d);
    }
    return s;
}

Result<PickleProbe> probe(const FrameworkConvertOptions& o, const core::Logger& log) {
    auto p = probe_model_file(o.framework.python, o.input, log);
    if (!p) {
        return unexpected(std::move(p).error().context("inspecting " + o.input.string()));
    }
    return p;
}

Result<Conversion> sklearn_impl(const FrameworkConvertOptions& o, const core::Logger& log) {
    const std::string path = o.input.string();
    EDGESHIP_TRY(read_head(o.input, 16));
    EDGESHIP_TRY_ASSIGN(PickleProbe pr, probe(o, log));
    if (pr.container == "zip") {
        return unexpected(Error(path + ": a zip archive, not a scikit-learn pickle")
                              .hint("PyTorch files convert with --from torch"));
    }
    if (!pr.error.empty()) {
        return fail(path + ": corrupt or not a pickle: " + pr.error);
    }
    EDGESHIP_TRY(require_pickle_trust(o.input, pr, o.framework));
    EDGESHIP_TRY_ASSIGN(std::string sha, core::sha256_file(o.input));
    std::error_code ec;
    const fs::path abs = fs::absolute(o.input, ec);
    log.debug("loading " + path + " with scikit-learn in " + o.framework.python.python);
    auto desc = run_bridge(o.framework.python, "sklearn", {{"path", (ec ? o.input : abs).string()}}, log);
    if (!desc) {
        return unexpected(std::move(desc).error().context(path));
    }
    SklearnBuildOptions bo;
    bo.graph_name = o.name.empty() ? o.input.stem().string() : o.name;
    bo.input_name = o.input_name.empty() ? "features" : o.input_name;
    if (o.output_names.size() > 1) {
        return fail("--output-name: a scikit-learn model takes at most one output name", ExitCode::usage);
    }
    if (!o.output_names.empty()) {
        bo.output_name = o.output_names.front();
    }
    bo.opset = o.opset.value_or(17);
    bo.producer_version = o.edgeship_version;
    const std::string format = pr.container.starts_with("joblib") ? "sklearn-joblib" : "sklearn-pickle";
    const std::string version = "scikit-learn " + desc->value("sklearn_version", std::string("?"));
    bo.metadata = {
        {metadata_keys::version, o.edgeship_version},
        {metadata_keys::source_format, format},
        {metadata_keys::source_version, version},
        {metadata_keys::source_sha256, sha},
    };
    auto built = build_sklearn_model(*desc, bo);
    if (!built) {
        return unexpected(std::move(built).error().context(path));
    }
    for (const auto& w : built->summary.warnings) {
        log.warning(path + ": scikit-learn: " + w);
    }
    const SklearnSummary& s = built->summary;
    onnx::ModelProto& m = built->model.proto();
    m.set_doc_string("Converted by edgeship from " + format + " (" + s.estimator + ")");
    set_metadata(m, metadata_keys::objective, s.estimator);
    if (!s.feature_names.empty()) {
        set_metadata(m, metadata_keys::feature_names, encode_feature_names(s.feature_names));
    }
    ConvertReport r;
    r.input = path;
    r.source_format = format;
    r.source_version = version;
    r.source_sha256 = sha;
    r.objective = s.estimator;
    r.booster = "n/a";
    r.trees = s.trees;
    r.nodes = s.nodes;
    r.features = s.features;
    r.classes = s.classes;
    r.targets = s.targets;
    r.iteration_limit = "n/a";
    fill_model_facts(r, m);
    return Conversion{std::move(built->model), std::move(r)};
}

Result<Conversion> torch_impl(const FrameworkConvertOptions& o, const core::Logger& log) {
    const std::string path = o.input.string();
    if (o.input_shape.empty()) {
        return unexpected(
            Error("--input-shape is required for PyTorch models", ExitCode::usage)
                .hint("give the example input's shape, batch first, e.g. --input-shape 1,3,224,224"));
    }
    for (auto d : o.input_shape) {
        if (d <= 0) {
            return fail("--input-shape " + shape_text(o.input_shape) + ": every dimension must be positive",
                        ExitCode::usage);
        }
    }
    const std::int64_t opset = o.opset.value_or(17);
    if (opset < 7 || opset > 17) {
        return fail("--opset " + std::to_string(opset) +
                        ": PyTorch's TorchScript exporter writes opsets 7 to 17",
                    ExitCode::usage);
    }
    EDGESHIP_TRY(read_head(o.input, 16));
    EDGESHIP_TRY_ASSIGN(PickleProbe pr, probe(o, log));
    if (!pr.error.empty()) {
        return fail(path + ": corrupt or not a PyTorch file: " + pr.error);
    }
    if (!pr.torchscript) {
        if (pr.looks_like_state_dict) {
            return unexpected(
                Error(path + ": the file is a state_dict (tensors only), not a module")
                    .hint("load it into the model class and save the whole module: "
                          "model.load_state_dict(torch.load(PATH)); "
                          "torch.jit.save(torch.jit.script(model), OUT) (or torch.save(model, OUT))"));
        }
        EDGESHIP_TRY(require_pickle_trust(o.input, pr, o.framework));
    }
    EDGESHIP_TRY_ASSIGN(std::string sha, core::sha256_file(o.input));
    EDGESHIP_TRY_ASSIGN(ScratchDir dir, scratch_dir(o.framework.python.env));
    const fs::path onnx_path = dir.path() / "model.onnx";
    std::error_code ec;
    const fs::path abs = fs::absolute(o.input, ec);
    const std::string input_name = o.input_name.empty() ? "input" : o.input_name;
    nlohmann::json req = {
        {"path", (ec ? o.input : abs).string()},
        {"torchscript", pr.torchscript},
        {"input_shape", o.input_shape},
        {"input_name", input_name},
        {"output_names", o.output_names},
        {"dynamic_batch", o.batch == BatchDim::dynamic},
        {"opset", opset},
        {"output", onnx_path.string()},
    };
    log.debug("exporting " + path + " with torch.onnx.export (opset " + std::to_string(opset) + ") in " +
              o.framework.python.python);
    auto answer = run_bridge(o.framework.python, "torch", req, log);
    if (!answer) {
        return unexpected(std::move(answer).error().context(path));
    }
    for (const auto& w : answer->value("warnings", nlohmann::json::array())) {
        if (w.is_string()) {
            log.debug(path + ": torch: " + w.get<std::string>());
        }
    }
    auto loaded = load_model(onnx_path);
    if (!loaded) {
        return unexpected(std::move(loaded).error().context(path + ": reading torch's export"));
    }
    EDGESHIP_TRY(require_valid(path + ": torch's export", check_model(*loaded)));
    // Over 2 GiB torch writes the weights as external data beside its export in the scratch directory;
    // read them in before the directory goes away (the output is written inline or, with
    // --external-data, with a new side file: docs/design/onnx.md §10.6).
    if (auto ext = load_external_data(loaded->proto, onnx_path.parent_path()); !ext) {
        return unexpected(std::move(ext).error().context(path + ": reading torch's export"));
    }
    onnx::ModelProto m = std::move(loaded->proto);
    m.mutable_graph()->set_name(o.name.empty() ? o.input.stem().string() : o.name);
    const std::string format = pr.torchscript ? "torchscript" : "torch-pickle";
    const std::string version = "torch " + answer->value("torch_version", std::string("?"));
    std::string module = pr.globals.empty() ? "unknown" : pr.globals.front();
    if (module.starts_with("__torch__.")) {
        module = module.substr(10);
    }
    set_metadata(m, metadata_keys::version, o.edgeship_version);
    set_metadata(m, metadata_keys::source_format, format);
    set_metadata(m, metadata_keys::source_version, version);
    set_metadata(m, metadata_keys::source_sha256, sha);
    set_metadata(m, metadata_keys::objective, "module " + module);
    set_metadata(m, framework_metadata_keys::input_shape,
                 shape_text(o.input_shape) + (o.batch == BatchDim::dynamic ? " (dynamic batch)" : ""));
    ConvertReport r;
    r.input = path;
    r.source_format = format;
    r.source_version = version;
    r.source_sha256 = sha;
    r.objective = "module " + module;
    r.booster = "n/a";
    r.features = o.input_shape.size() == 2 ? o.input_shape[1] : 0;
    r.iteration_limit = "n/a";
    fill_model_facts(r, m);
    return Conversion{OnnxModel::from(std::move(m)), std::move(r)};
}

bool has_suffix(const fs::path& p, std::initializer_list<const char*> exts) {
    std::string e = p.extension().string();
    for (auto& c : e) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (const char* x : exts) {
        if (e == x) {
            return true;
        }
    }
    return false;
}

} // namespace

std::optional<FrameworkKind> parse_framework_kind(std::string_view name) {
    if (name == "sklearn" || name == "scikit-learn") {
        return FrameworkKind::sklearn;
    }
    if (name == "torch" || name == "pytorch") {
        return FrameworkKind::torch;
    }
    return std::nullopt;
}

std::string detect_framework_format(std::string_view head, const fs::path& path) {
    auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
    if (starts(std::string_view("PK\x03\x04", 4))) {
        return "torch"; // torch.save (≥ 1.6) and torch.jit.save write zip archives; joblib never does
    }
    // Legacy torch.save: a pickled magic number 0x1950a86a20f9469cfc6c (LONG1, 10 bytes) first.
    if (starts(std::string_view("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14))) {
        return "torch";
    }
    const bool pickle = head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x80 &&
                        static_cast<unsigned char>(head[1]) >= 2 && static_cast<unsigned char>(head[1]) <= 5;
    if (pickle) {
        return has_suffix(path, {".pt", ".pth", ".ptl"}) ? "torch" : "sklearn";
    }
    // joblib.dump(compress=…): zlib, gzip, bz2, xz, lzma, lz4 streams around a pickle.
    static const std::string_view compressed[] = {std::string_view("\x78\x01", 2),
                                                  std::string_view("\x78\x5e", 2),
                                                  std::string_view("\x78\x9c", 2),
                                                  std::string_view("\x78\xda", 2),
                                                  std::string_view("\x1f\x8b", 2),
                                                  std::string_view("BZh", 3),
                                                  std::string_view("\xfd"
                                                                   "7zXZ\x00",
                                                                   6),
                                                  std::string_view("\x5d\x00\x00", 3),
                                                  std::string_view("\x04\x22\x4d\x18", 4)};
    if (has_suffix(path,
                   {".joblib", ".pkl", ".pickle", ".sav", ".z", ".gz", ".bz2", ".xz", ".lzma", ".lz4"})) {
        for (auto m : compressed) {
            if (starts(m)) {
                return "sklearn";
            }
        }
    }
    return "";
}

Result<Conversion> convert_sklearn(const FrameworkConvertOptions& options, const core::Logger& log) {
    return sklearn_impl(options, log);
}

Result<Conversion> convert_torch(const FrameworkConvertOptions& options, const core::Logger& log) {
    return torch_impl(options, log);
}

Result<Conversion> convert_framework(const FrameworkConvertOptions& options, const core::Logger& log) {
    FrameworkKind kind = options.kind;
    if (kind == FrameworkKind::detect) {
        EDGESHIP_TRY_ASSIGN(std::string head, read_head(options.input, 64));
        std::string f = detect_framework_format(head, options.input);
        if (f.empty()) {
            return unexpected(
                Error(options.input.string() + ": not a scikit-learn pickle/joblib file or a PyTorch file")
                    .hint("name the format with --from sklearn|torch"));
        }
        kind = f == "torch" ? FrameworkKind::torch : FrameworkKind::sklearn;
    }
    return kind == FrameworkKind::torch ? convert_torch(options, log) : convert_sklearn(options, log);
}

} // namespace edgeship::model
