#include "convert/convert_file.hpp"

#include <algorithm>
#include <fstream>

namespace edgeship::convert {

namespace fs = std::filesystem;

namespace {

// Both detectors decide on the first bytes; 64 covers every magic number they look for.
std::string file_head(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string head(64, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    return head;
}

bool names_framework(std::string_view from) { return from == "sklearn" || from == "torch"; }

// Flag combinations fail before any file is read.
Result<void> check_request(const ConvertRequest& r) {
    if (r.output == "-" && r.external_data == model::ExternalData::yes) {
        return unexpected(Error("--external-data cannot be combined with -o - (the weights go to a file beside the "
                                "model)",
                                ExitCode::usage)
                              .hint("write the model to a file with -o FILE.onnx"));
    }
    if (r.passes) {
        EDGESHIP_TRY(optimize::validate_options(*r.passes));
    }
    if (!r.from.empty() && !names_framework(r.from) && !model::parse_source_format(r.from)) {
        return fail("--from " + r.from + ": unknown format", ExitCode::usage);
    }
    return {};
}

Result<model::Conversion> read_with_python(const ConvertRequest& r) {
    if (r.output_kind != model::OutputKind::prediction || r.iterations != model::IterationLimit::all) {
        return unexpected(Error("--margin and --best-iteration apply to XGBoost/LightGBM models only", ExitCode::usage));
    }
    model::FrameworkConvertOptions fo = r.framework;
    fo.input = r.input;
    fo.kind = r.from.empty() ? model::FrameworkKind::detect : *model::parse_framework_kind(r.from);
    fo.opset = r.opset;
    fo.name = r.name;
    fo.edgeship_version = r.edgeship_version;
    return model::convert_framework(fo, r.log);
}

Result<model::Conversion> read_with_edgeship(const ConvertRequest& r) {
    if (!r.framework.input_shape.empty()) {
        return unexpected(Error("--input-shape applies to PyTorch models only", ExitCode::usage));
    }
    model::ConvertOptions mo;
    mo.input = r.input;
    if (!r.from.empty()) {
        mo.from = *model::parse_source_format(r.from); // check_request refused other names
    }
    mo.opset = r.opset;
    mo.name = r.name;
    mo.output = r.output_kind;
    mo.iterations = r.iterations;
    mo.edgeship_version = r.edgeship_version;
    return model::convert_model(mo, r.log);
}

} // namespace

std::string detect_file_format(const fs::path& path) { return model::detect_format(file_head(path)); }

Result<Reader> choose_reader(const fs::path& input, std::string_view from) {
    if (names_framework(from)) {
        return Reader::python;
    }
    if (!from.empty()) {
        return Reader::edgeship;
    }
    std::string head = file_head(input);
    if (!model::detect_format(head).empty()) {
        return Reader::edgeship;
    }
    if (!model::detect_framework_format(head, input).empty()) {
        return Reader::python;
    }
    if (head.empty()) {
        return Reader::edgeship; // missing, unreadable or empty: the reader says which
    }
    return unexpected(Error(input.string() + ": unknown model format: not XGBoost JSON/UBJ, LightGBM text or ONNX, "
                                             "and not a scikit-learn pickle/joblib file or a PyTorch file")
                          .hint("name it with --from xgboost|lightgbm|onnx, or --from sklearn|torch for framework files"));
}

Result<ConvertReport> convert_file(const ConvertRequest& r) {
    EDGESHIP_TRY(check_request(r));
    EDGESHIP_TRY_ASSIGN(Reader reader, choose_reader(r.input, r.from));
    EDGESHIP_TRY_ASSIGN(model::Conversion conversion,
                        reader == Reader::python ? read_with_python(r) : read_with_edgeship(r));

    ConvertReport out;
    // External data alone still goes through apply: the report's sizes and the edgeship.optimize.*
    // stamps are the same as `optimize --external-data` gives (docs/optimize.md).
    std::optional<optimize::OptimizeOptions> passes = r.passes;
    if (!passes && r.external_data == model::ExternalData::yes) {
        passes.emplace();
    }
    if (passes) {
        auto applied = optimize::apply(conversion.model.proto(), *passes, r.log);
        if (!applied) {
            return unexpected(std::move(applied).error().context("optimizing the converted " + r.input.string()));
        }
        out.optimized = std::move(*applied);
    }

    model::WriteOptions wo;
    wo.external_data = r.external_data;
    if (r.external_data == model::ExternalData::yes) {
        optimize::stamp_external_data(conversion.model.proto(), *out.optimized, r.output);
    }
    if (r.output == "-") {
        EDGESHIP_TRY_ASSIGN(out.bytes, model::serialize_conversion(conversion, wo));
    } else {
        if (auto written = model::write_conversion(conversion, r.output, wo); !written) {
            return unexpected(std::move(written).error().context("writing " + r.output.string()));
        }
        if (out.optimized && conversion.report.external_data) {
            out.optimized->external_data = conversion.report.external_data;
            out.optimized->size_after = conversion.report.output_bytes + conversion.report.external_data->bytes;
        }
    }
    out.conversion = std::move(conversion.report);
    return out;
}

} // namespace edgeship::convert
