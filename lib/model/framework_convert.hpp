#pragma once

// `edgeship convert` for framework files: scikit-learn pickles/joblib files and PyTorch files
// (TorchScript from torch.jit.save, whole modules from torch.save). Both open the file in the
// user's Python through the framework bridge (framework_bridge.hpp); both refuse to unpickle
// anything without trust (PickleTrust / ConfirmPickle). They return the same Conversion as
// convert_model (convert.hpp), so write_conversion/serialize_conversion/report_to_json apply.

#include "core/log.hpp"
#include "core/result.hpp"
#include "model/convert.hpp"
#include "model/framework_bridge.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::model {

enum class FrameworkKind { detect, sklearn, torch };

/// PyTorch: whether dimension 0 of the input and outputs stays the example's size or becomes "batch".
enum class BatchDim { fixed, dynamic };

/// "sklearn" / "scikit-learn" → sklearn, "torch" / "pytorch" → torch; nullopt otherwise.
std::optional<FrameworkKind> parse_framework_kind(std::string_view name);

/// Guesses a framework file from its first bytes and extension (nothing is unpickled):
///   "torch"          a zip archive (torch.save ≥ 1.6, torch.jit.save), or a legacy torch.save pickle
///                    (its magic number), or a pickle named *.pt / *.pth / *.ptl;
///   "sklearn"        a pickle (protocol 2+), or a joblib file (raw or zlib/gzip/bz2/xz/lzma/lz4);
///   ""               anything else.
/// `head` needs at least 32 bytes when the file has them.
std::string detect_framework_format(std::string_view head, const std::filesystem::path& path);

struct FrameworkConvertOptions {
    std::filesystem::path input;
    FrameworkKind kind = FrameworkKind::detect;
    FrameworkOptions framework;        ///< Python, timeout, pickle trust
    std::optional<std::int64_t> opset; ///< sklearn: 13–17, torch: 7–17; default 17
    std::string name;                  ///< graph name; default: the input's file stem
    std::string input_name;            ///< default "features" (sklearn), "input" (torch)
    std::vector<std::string>
        output_names; ///< torch: one per model output; sklearn: renames a regression/transform output
    std::vector<std::int64_t> input_shape; ///< torch only, required: e.g. {1, 3, 32, 32}
    BatchDim batch = BatchDim::fixed;      ///< torch: --dynamic-batch makes dimension 0 symbolic ("batch")
    std::string edgeship_version;          ///< recorded as producer_version and edgeship.version
};

/// scikit-learn: probe → trust check → the bridge extracts the estimator's parameters →
/// build_sklearn_model. Errors: exit 1 for a refused/corrupt/unsupported pickle, a missing Python or
/// scikit-learn (hint says what to install); 2 for bad option values; 3 when validation fails.
Result<Conversion> convert_sklearn(const FrameworkConvertOptions& options, const core::Logger& log = {});

/// PyTorch: probe (TorchScript needs no trust; torch.save pickles do; a state_dict is refused with
/// how to fix it) → torch.onnx.export in the bridge → our checker run. Errors: exit 2 when
/// input_shape is missing or the opset is outside 7–17; exit 1 with torch's own message when
/// loading, running (a shape that does not fit) or exporting fails.
Result<Conversion> convert_torch(const FrameworkConvertOptions& options, const core::Logger& log = {});

/// Dispatches on options.kind, detecting it from the file when `detect` (exit 1 when the file is
/// neither).
Result<Conversion> convert_framework(const FrameworkConvertOptions& options, const core::Logger& log = {});

/// Keys this converter adds to metadata_props besides convert.hpp's metadata_keys.
namespace framework_metadata_keys {
inline constexpr const char* input_shape = "edgeship.torch.input_shape";
} // namespace framework_metadata_keys

} // namespace edgeship::model
