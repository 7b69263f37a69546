#include "imagebuild/layer_cache.hpp"

#include "core/fs.hpp"
#include "core/sha256.hpp"

#include <nlohmann/json.hpp>

#include <system_error>

namespace edgeship::imagebuild {

namespace {
constexpr const char* k_cache_format = "edgeship-model-layer-cache-1";
} // namespace

std::filesystem::path layer_cache_dir(const core::Environment& env) {
    if (const auto* xdg = core::find_env(env, "XDG_CACHE_HOME"); xdg != nullptr && !xdg->empty() && xdg->front() == '/') {
        return std::filesystem::path(*xdg) / "edgeship" / "layers";
    }
    if (const auto* home = core::find_env(env, "HOME"); home != nullptr && !home->empty()) {
        return std::filesystem::path(*home) / ".cache" / "edgeship" / "layers";
    }
    return {};
}

Result<std::string> model_layer_key(const ModuleSources& sources, const oci::LayerOptions& options) {
    nlohmann::json j;
    j["format"] = k_cache_format;
    j["epoch"] = oci::layer_epoch(options);
    j["compression"] = options.blob.compression == oci::Compression::gzip ? "gzip" : "none";
    j["engine"] = options.blob.gzip.engine == oci::GzipEngine::isal ? "isal" : "zlib";
    j["level"] = options.blob.gzip.level;
    auto& entries = j["entries"] = nlohmann::json::array();
    for (const auto& e : sources.model_entries) {
        nlohmann::json x;
        x["type"] = static_cast<int>(e.type);
        x["path"] = e.path;
        x["mode"] = e.mode ? nlohmann::json(*e.mode) : nlohmann::json(nullptr);
        x["link"] = e.link_target;
        if (e.type == oci::LayerEntry::Type::file) {
            if (e.content) {
                x["sha256"] = core::sha256_hex(*e.content);
                x["size"] = e.content->size();
            } else {
                if (e.source_file == sources.model.source && !sources.model.sha256.empty()) {
                    x["sha256"] = sources.model.sha256;
                    x["size"] = sources.model.size;
                } else {
                    EDGESHIP_TRY_ASSIGN(std::string sha, core::sha256_file(e.source_file));
                    EDGESHIP_TRY_ASSIGN(auto size, core::regular_file_size(e.source_file));
                    x["sha256"] = sha;
                    x["size"] = size;
                }
                std::error_code ec;
                auto perms = std::filesystem::status(e.source_file, ec).permissions();
                if (ec) {
                    return fail(e.source_file.string() + ": cannot stat: " + ec.message());
                }
                x["exec"] = (perms & std::filesystem::perms::owner_exec) != std::filesystem::perms::none;
            }
        }
        entries.push_back(std::move(x));
    }
    return core::sha256_hex(j.dump());
}

std::optional<oci::LayerBlob> load_cached_layer(const std::filesystem::path& dir, const std::string& key) {
    if (dir.empty()) {
        return std::nullopt;
    }
    auto text = core::read_file(dir / (key + ".json"));
    if (!text) {
        return std::nullopt;
    }
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", "") != k_cache_format) {
        return std::nullopt;
    }
    try {
        auto digest = oci::Digest::parse(j.at("digest").get<std::string>());
        auto diff_id = oci::Digest::parse(j.at("diff_id").get<std::string>());
        if (!digest || !diff_id) {
            return std::nullopt;
        }
        oci::LayerBlob b;
        b.digest = *digest;
        b.diff_id = *diff_id;
        b.size = j.at("size").get<std::uint64_t>();
        b.uncompressed_size = j.at("uncompressed_size").get<std::uint64_t>();
        b.compression = j.at("compression").get<std::string>() == "gzip" ? oci::Compression::gzip : oci::Compression::none;
        return b;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

Result<void> store_cached_layer(const std::filesystem::path& dir, const std::string& key, const oci::LayerBlob& blob) {
    if (dir.empty()) {
        return {};
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return fail(dir.string() + ": cannot create the layer cache: " + ec.message());
    }
    nlohmann::json j;
    j["format"] = k_cache_format;
    j["digest"] = blob.digest.str();
    j["diff_id"] = blob.diff_id.str();
    j["size"] = blob.size;
    j["uncompressed_size"] = blob.uncompressed_size;
    j["compression"] = blob.compression == oci::Compression::gzip ? "gzip" : "none";
    return core::write_file_atomic(dir / (key + ".json"), j.dump(2) + "\n");
}

} // namespace edgeship::imagebuild
