#include "imagebuild/layer_cache.hpp"

#include "core/fs.hpp"
#include "core/sha256.hpp"

#include <nlohmann/json.hpp>

#include <system_error>

#include <sys/stat.h>

namespace edgeship::imagebuild {

namespace {
constexpr const char* k_cache_format = "edgeship-model-layer-cache-1";
constexpr const char* k_memo_format = "edgeship-digest-memo-1";
constexpr std::int64_t k_racy_ns = 2'000'000'000; // git's "racily clean" window, coarse filesystems in mind

std::int64_t ns(const struct timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

// The file's identity, or nullopt when it is not a regular file that can be stat'ed.
std::optional<nlohmann::json> identity(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return std::nullopt;
    }
    return nlohmann::json{{"dev", static_cast<std::uint64_t>(st.st_dev)},
                          {"ino", static_cast<std::uint64_t>(st.st_ino)},
                          {"size", static_cast<std::int64_t>(st.st_size)},
                          {"mtime_ns", ns(st.st_mtim)},
                          {"ctime_ns", ns(st.st_ctim)}};
}

// One memo file per absolute path.
std::filesystem::path memo_path(const std::filesystem::path& dir, const std::filesystem::path& file) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(file, ec);
    return dir / "digests" / (core::sha256_hex((ec ? file : abs).lexically_normal().string()) + ".json");
}
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

DigestMemo recall_file_sha256(const std::filesystem::path& dir, const std::filesystem::path& file) {
    DigestMemo memo;
    if (dir.empty()) {
        return memo;
    }
    auto text = core::read_file(memo_path(dir, file));
    if (!text) {
        return memo;
    }
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", "") != k_memo_format) {
        return memo;
    }
    memo.seen = true;
    auto id = identity(file);
    if (!id || !j.contains("identity") || j["identity"] != *id || !j.contains("sha256") || !j["sha256"].is_string()) {
        return memo;
    }
    auto sha = j["sha256"].get<std::string>();
    if (sha.size() == 64 && sha.find_first_not_of("0123456789abcdef") == std::string::npos) {
        memo.sha256 = std::move(sha);
    }
    return memo;
}

Result<void> remember_file_sha256(const std::filesystem::path& dir, const std::filesystem::path& file,
                                  const std::string& sha256, std::int64_t now_ns) {
    if (dir.empty()) {
        return {};
    }
    auto id = identity(file);
    nlohmann::json j{{"format", k_memo_format}, {"file", file.string()}, {"identity", nullptr}, {"sha256", nullptr}};
    if (id && now_ns - (*id)["mtime_ns"].get<std::int64_t>() >= k_racy_ns &&
        now_ns - (*id)["ctime_ns"].get<std::int64_t>() >= k_racy_ns) {
        j["identity"] = *id;
        j["sha256"] = sha256;
    } // else: not a readable file, or changed too recently to be trusted later: seen only
    const auto path = memo_path(dir, file);
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
        return fail(path.parent_path().string() + ": cannot create the digest memo: " + ec.message());
    }
    return core::write_file_atomic(path, j.dump(2) + "\n");
}

} // namespace edgeship::imagebuild
