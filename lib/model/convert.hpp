#pragma once

// `edgeship convert` as a library call: detect the source format, read it, emit and validate ONNX,
// attach metadata, and write the result atomically. The CLI only translates flags and prints.

#include "core/log.hpp"
#include "core/result.hpp"
#include "model/external_data.hpp"
#include "model/feature_names.hpp"
#include "model/tree_emitter.hpp"
#include "model/tree_reader.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::model {

enum class SourceFormat { detect, xgboost, lightgbm, onnx };

/// "xgboost" -> SourceFormat::xgboost, …; nullopt for anything else.
std::optional<SourceFormat> parse_source_format(std::string_view name);

/// Guesses the format from the first bytes: '{' + JSON -> XGBoost JSON, '{' + UBJSON marker ->
/// XGBoost UBJ, a first line "tree" -> LightGBM text, anything else that parses as ONNX -> onnx.
/// Returns "xgboost-json", "xgboost-ubj", "lightgbm-text", "onnx" or "" when nothing fits.
std::string detect_format(std::string_view head);

struct ConvertOptions {
    std::filesystem::path input;
    SourceFormat from = SourceFormat::detect;
    std::optional<std::int64_t> opset; ///< trees: ai.onnx opset 13–17 (default 17); onnx: convert to this opset
    std::string name;                  ///< graph name; default: the input's file stem
    OutputKind output = OutputKind::prediction;
    IterationLimit iterations = IterationLimit::all;
    std::string edgeship_version;      ///< recorded as producer_version and edgeship.version
};

/// What was converted, for the CLI's text and --json output (docs/convert.md lists the fields).
struct ConvertReport {
    std::string input;
    std::string source_format;
    std::string source_version;
    std::string source_sha256;
    std::string objective;
    std::string booster;
    std::size_t trees = 0;
    std::size_t nodes = 0;
    std::int64_t features = 0;
    std::int64_t classes = 0;
    std::int64_t targets = 0;
    std::string iteration_limit;
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::map<std::string, std::int64_t> opsets; ///< domain ("" = ai.onnx) -> version
    std::int64_t ir_version = 0;
    std::string output;          ///< path written ("-" for stdout)
    std::uint64_t output_bytes = 0;
    std::string sha256;          ///< of the written ONNX bytes (the .onnx file only)
    std::optional<ExternalDataInfo> external_data; ///< set when the weights went to a side file
};

/// A converted model, validated and ready to write.
struct Conversion {
    OnnxModel model;
    ConvertReport report;
};

/// Reads and converts. Nothing is written. Errors carry the input path as context; exit codes as the
/// readers and the emitter document them (1 unreadable/unsupported, 2 bad option values, 3 validation).
Result<Conversion> convert_model(const ConvertOptions& options, const core::Logger& log = {});

/// How a conversion is written.
struct WriteOptions {
    /// yes: initializers of at least `external_threshold` bytes go to "<output file name>.data" beside
    /// the model (model/external_data.hpp), for models over protobuf's 2 GiB limit.
    ExternalData external_data = ExternalData::no;
    std::uint64_t external_threshold = k_external_threshold;
    /// The largest .onnx file that may be written. Always protobuf's limit for users; tests lower it
    /// to exercise the refusal without building 2 GiB models.
    std::uint64_t size_limit = k_protobuf_limit;
};

/// Serializes the model straight into an atomically written file (no full in-memory copy of the
/// bytes), filling report.output, output_bytes, sha256 and (with external data) external_data. With
/// ExternalData::yes the model's weights move out of `conversion` into the side file; both files are
/// complete before either is renamed into place. A model over `size_limit` is refused (exit 1) with a
/// hint to pass --external-data. On error nothing is left at `path` (or at its .data file).
Result<void> write_conversion(Conversion& conversion, const std::filesystem::path& path, const WriteOptions& options = {});

/// Serializes to bytes (for `-o -`), filling the same report fields with output "-". External data
/// needs a file beside the model, so only `options.size_limit` applies here.
Result<std::string> serialize_conversion(Conversion& conversion, const WriteOptions& options = {});

/// The report as JSON with stable snake_case fields.
nlohmann::json report_to_json(const ConvertReport& report);

/// Keys written to metadata_props (docs/design/onnx.md §10.7).
namespace metadata_keys {
inline constexpr const char* version = "edgeship.version";
inline constexpr const char* source_format = "edgeship.source_format";
inline constexpr const char* source_version = "edgeship.source_version";
inline constexpr const char* source_sha256 = "edgeship.source_sha256";
inline constexpr const char* objective = "edgeship.objective";
inline constexpr const char* feature_names = feature_names_key; // model/feature_names.hpp reads and writes it
inline constexpr const char* iteration_limit = "edgeship.iteration_limit";
inline constexpr const char* output_kind = "edgeship.output";
} // namespace metadata_keys

} // namespace edgeship::model
