#include "oci/manifest.hpp"

#include "oci/json.hpp"
#include "oci/media_types.hpp"

namespace edgeship::oci {
namespace {

using nlohmann::json;

Result<std::map<std::string, std::string>> read_string_map(const json& j, const std::string& what) {
    std::map<std::string, std::string> out;
    if (!j.is_object()) {
        return fail(what + ": must be an object of strings");
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it.value().is_string()) {
            return fail(what + "." + it.key() + ": must be a string");
        }
        out[it.key()] = it.value().get<std::string>();
    }
    return out;
}

Result<std::string> read_string(const json& j, const char* key, const std::string& what, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required) {
            return fail(what + ": missing \"" + key + "\"");
        }
        return std::string();
    }
    if (!it->is_string()) {
        return fail(what + "." + key + ": must be a string");
    }
    return it->get<std::string>();
}

Result<Platform> read_platform(const json& j, const std::string& what) {
    if (!j.is_object()) {
        return fail(what + ": must be an object");
    }
    Platform p;
    EDGESHIP_TRY_ASSIGN(p.os, read_string(j, "os", what, true));
    EDGESHIP_TRY_ASSIGN(p.architecture, read_string(j, "architecture", what, true));
    EDGESHIP_TRY_ASSIGN(p.variant, read_string(j, "variant", what, false));
    EDGESHIP_TRY_ASSIGN(p.os_version, read_string(j, "os.version", what, false));
    if (auto it = j.find("os.features"); it != j.end() && it->is_array()) {
        for (const auto& f : *it) {
            if (f.is_string()) {
                p.os_features.push_back(f.get<std::string>());
            }
        }
    }
    return p;
}

json platform_json(const Platform& p) {
    json j = json::object();
    j["os"] = p.os;
    j["architecture"] = p.architecture;
    if (!p.variant.empty()) {
        j["variant"] = p.variant;
    }
    if (!p.os_version.empty()) {
        j["os.version"] = p.os_version;
    }
    if (!p.os_features.empty()) {
        j["os.features"] = p.os_features;
    }
    return j;
}

Result<int> check_schema(const json& j, const std::string& what) {
    if (!j.is_object()) {
        return fail(what + ": must be a JSON object");
    }
    auto it = j.find("schemaVersion");
    if (it == j.end() || !it->is_number_integer() || it->get<int>() != 2) {
        return fail(what + ": schemaVersion must be 2");
    }
    return 2;
}

} // namespace

Descriptor Descriptor::for_bytes(std::string_view media_type, std::string_view bytes) {
    Descriptor d;
    d.media_type = std::string(media_type);
    d.digest = Digest::of(bytes);
    d.size = static_cast<std::int64_t>(bytes.size());
    return d;
}

json Descriptor::to_json() const {
    json j = json::object();
    j["mediaType"] = media_type;
    j["digest"] = digest.str();
    j["size"] = size;
    if (platform) {
        j["platform"] = platform_json(*platform);
    }
    if (!annotations.empty()) {
        j["annotations"] = annotations;
    }
    if (!urls.empty()) {
        j["urls"] = urls;
    }
    if (!artifact_type.empty()) {
        j["artifactType"] = artifact_type;
    }
    return j;
}

Result<Descriptor> Descriptor::from_json(const json& j, std::string_view what_view) {
    std::string what(what_view);
    if (!j.is_object()) {
        return fail(what + ": descriptor must be an object");
    }
    Descriptor d;
    EDGESHIP_TRY_ASSIGN(d.media_type, read_string(j, "mediaType", what, true));
    EDGESHIP_TRY_ASSIGN(auto digest_text, read_string(j, "digest", what, true));
    auto digest = Digest::parse(digest_text);
    if (!digest) {
        return fail(what + ".digest: " + digest.error().message());
    }
    d.digest = *digest;
    auto size = j.find("size");
    if (size == j.end() || !size->is_number_integer() || size->get<std::int64_t>() < 0) {
        return fail(what + ".size: must be a non-negative integer");
    }
    d.size = size->get<std::int64_t>();
    if (auto it = j.find("platform"); it != j.end() && !it->is_null()) {
        EDGESHIP_TRY_ASSIGN(d.platform, read_platform(*it, what + ".platform"));
    }
    if (auto it = j.find("annotations"); it != j.end() && !it->is_null()) {
        EDGESHIP_TRY_ASSIGN(d.annotations, read_string_map(*it, what + ".annotations"));
    }
    if (auto it = j.find("urls"); it != j.end() && it->is_array()) {
        for (const auto& u : *it) {
            if (!u.is_string()) {
                return fail(what + ".urls: must be strings");
            }
            d.urls.push_back(u.get<std::string>());
        }
    }
    EDGESHIP_TRY_ASSIGN(d.artifact_type, read_string(j, "artifactType", what, false));
    return d;
}

std::string Descriptor::ref_name() const {
    auto it = annotations.find(std::string(media_type::ref_name_annotation));
    return it == annotations.end() ? std::string() : it->second;
}

ManifestFormat Manifest::format() const {
    return media_type == media_type::docker_manifest ? ManifestFormat::docker : ManifestFormat::oci;
}

json Manifest::to_json() const {
    json j = json::object();
    j["schemaVersion"] = 2;
    j["mediaType"] = media_type;
    j["config"] = config.to_json();
    j["layers"] = json::array();
    for (const auto& l : layers) {
        j["layers"].push_back(l.to_json());
    }
    if (format() == ManifestFormat::oci) {
        if (!annotations.empty()) {
            j["annotations"] = annotations;
        }
        if (!artifact_type.empty()) {
            j["artifactType"] = artifact_type;
        }
        if (subject) {
            j["subject"] = subject->to_json();
        }
    }
    return j;
}

Result<std::string> Manifest::serialize() const { return canonical_json(to_json(), "manifest"); }

Result<Manifest> Manifest::parse(std::string_view bytes, std::string_view what_view) {
    std::string what(what_view);
    EDGESHIP_TRY_ASSIGN(auto j, parse_json(bytes, what));
    EDGESHIP_TRY(check_schema(j, what));
    Manifest m;
    EDGESHIP_TRY_ASSIGN(m.media_type, read_string(j, "mediaType", what, false));
    if (m.media_type.empty()) {
        m.media_type = std::string(media_type::oci_manifest); // optional in OCI, required in Docker
    }
    if (media_type::is_index(m.media_type)) {
        return fail(what + ": is an index (" + m.media_type + "), not an image manifest");
    }
    if (!media_type::is_manifest(m.media_type)) {
        return fail(what + ": unsupported mediaType \"" + m.media_type + "\"");
    }
    auto cfg = j.find("config");
    if (cfg == j.end()) {
        return fail(what + ": missing \"config\"");
    }
    EDGESHIP_TRY_ASSIGN(m.config, Descriptor::from_json(*cfg, what + ": config"));
    auto layers = j.find("layers");
    if (layers == j.end() || !layers->is_array()) {
        return fail(what + ": \"layers\" must be an array");
    }
    for (std::size_t i = 0; i < layers->size(); ++i) {
        EDGESHIP_TRY_ASSIGN(auto d, Descriptor::from_json((*layers)[i], what + ": layers[" + std::to_string(i) + "]"));
        m.layers.push_back(std::move(d));
    }
    if (auto it = j.find("annotations"); it != j.end() && !it->is_null()) {
        EDGESHIP_TRY_ASSIGN(m.annotations, read_string_map(*it, what + ": annotations"));
    }
    EDGESHIP_TRY_ASSIGN(m.artifact_type, read_string(j, "artifactType", what, false));
    if (auto it = j.find("subject"); it != j.end() && !it->is_null()) {
        EDGESHIP_TRY_ASSIGN(m.subject, Descriptor::from_json(*it, what + ": subject"));
    }
    return m;
}

ManifestFormat Index::format() const {
    return media_type == media_type::docker_manifest_list ? ManifestFormat::docker : ManifestFormat::oci;
}

json Index::to_json() const {
    json j = json::object();
    j["schemaVersion"] = 2;
    j["mediaType"] = media_type;
    j["manifests"] = json::array();
    for (const auto& m : manifests) {
        j["manifests"].push_back(m.to_json());
    }
    if (format() == ManifestFormat::oci && !annotations.empty()) {
        j["annotations"] = annotations;
    }
    return j;
}

Result<std::string> Index::serialize() const { return canonical_json(to_json(), "index"); }

Result<Index> Index::parse(std::string_view bytes, std::string_view what_view) {
    std::string what(what_view);
    EDGESHIP_TRY_ASSIGN(auto j, parse_json(bytes, what));
    EDGESHIP_TRY(check_schema(j, what));
    Index idx;
    EDGESHIP_TRY_ASSIGN(idx.media_type, read_string(j, "mediaType", what, false));
    if (idx.media_type.empty()) {
        idx.media_type = std::string(media_type::oci_index);
    }
    if (!media_type::is_index(idx.media_type)) {
        return fail(what + ": mediaType \"" + idx.media_type + "\" is not an index");
    }
    auto ms = j.find("manifests");
    if (ms == j.end() || !ms->is_array()) {
        return fail(what + ": \"manifests\" must be an array");
    }
    for (std::size_t i = 0; i < ms->size(); ++i) {
        EDGESHIP_TRY_ASSIGN(auto d, Descriptor::from_json((*ms)[i], what + ": manifests[" + std::to_string(i) + "]"));
        idx.manifests.push_back(std::move(d));
    }
    if (auto it = j.find("annotations"); it != j.end() && !it->is_null()) {
        EDGESHIP_TRY_ASSIGN(idx.annotations, read_string_map(*it, what + ": annotations"));
    }
    return idx;
}

Result<Blob> make_blob(const Manifest& manifest) {
    EDGESHIP_TRY_ASSIGN(auto bytes, manifest.serialize());
    Blob b{std::move(bytes), {}};
    b.descriptor = Descriptor::for_bytes(manifest.media_type, b.bytes);
    return b;
}

Result<Blob> make_blob(const Index& index) {
    EDGESHIP_TRY_ASSIGN(auto bytes, index.serialize());
    Blob b{std::move(bytes), {}};
    b.descriptor = Descriptor::for_bytes(index.media_type, b.bytes);
    return b;
}

std::string_view manifest_media_type(ManifestFormat format) {
    return format == ManifestFormat::oci ? media_type::oci_manifest : media_type::docker_manifest;
}
std::string_view index_media_type(ManifestFormat format) {
    return format == ManifestFormat::oci ? media_type::oci_index : media_type::docker_manifest_list;
}
std::string_view config_media_type(ManifestFormat format) {
    return format == ManifestFormat::oci ? media_type::oci_config : media_type::docker_config;
}

Result<std::string> convert_layer_media_type(std::string_view t, ManifestFormat format) {
    namespace mt = media_type;
    bool oci = format == ManifestFormat::oci;
    if (t == mt::oci_layer_gzip || t == mt::docker_layer_gzip) {
        return std::string(oci ? mt::oci_layer_gzip : mt::docker_layer_gzip);
    }
    if (t == mt::oci_layer || t == mt::docker_layer) {
        return std::string(oci ? mt::oci_layer : mt::docker_layer);
    }
    if (t == mt::oci_layer_nondistributable_gzip || t == mt::docker_foreign_layer_gzip) {
        return std::string(oci ? mt::oci_layer_nondistributable_gzip : mt::docker_foreign_layer_gzip);
    }
    if (t == mt::oci_layer_zstd) {
        if (oci) {
            return std::string(t);
        }
        return fail("layer type " + std::string(t) + " has no Docker schema 2 equivalent (use the OCI format)");
    }
    return fail("unknown layer media type \"" + std::string(t) + "\"");
}

std::string sniff_media_type(const nlohmann::json& document) {
    if (document.is_object()) {
        auto it = document.find("mediaType");
        if (it != document.end() && it->is_string()) {
            return it->get<std::string>();
        }
        if (document.contains("manifests")) {
            return std::string(media_type::oci_index);
        }
        if (document.contains("config") || document.contains("layers")) {
            return std::string(media_type::oci_manifest);
        }
    }
    return {};
}

} // namespace edgeship::oci
