// Manifests: GET, PUT, the HEAD of an unchanged re-push (detail/manifests.hpp; docs/design/registry.md §3).

#include "registry/detail/manifests.hpp"

#include "oci/media_types.hpp"

#include <nlohmann/json.hpp>

namespace edgeship::registry::detail {

Result<oci::Blob> fetch_manifest(Conn& c, const std::string& repo, const std::string& ref,
                                 const std::optional<oci::Digest>& expected) {
    http::Request get;
    get.url = c.url("/v2/" + repo + "/manifests/" + ref);
    get.headers = {{"Accept", std::string(oci::media_type::manifest_accept)}}; // all four types (§3.2)
    get.redirects = http::Redirects::follow;
    EDGESHIP_TRY_ASSIGN(auto r, c.send(get, pull_scopes(repo)));
    const std::string what = "manifest " + repo + (ref.starts_with("sha256:") ? "@" : ":") + ref;
    if (r.status == 404) {
        return unexpected(Error(what + ": " + describe_answer(r)).hint("check the repository name and tag"));
    }
    if (r.status != 200) {
        return unexpected(answer_error("GET " + what, r));
    }
    auto digest = oci::Digest::of(r.body);
    if (expected && *expected != digest) {
        return fail(what + ": digest mismatch: content hashes to " + digest.str());
    }
    EDGESHIP_TRY(check_content_digest(r.header("Docker-Content-Digest"), digest, what));
    std::string media_type;
    if (const auto* ct = r.header("Content-Type")) {
        media_type = ct->substr(0, ct->find(';'));
        while (!media_type.empty() && media_type.back() == ' ') {
            media_type.pop_back();
        }
    }
    if (!oci::media_type::is_manifest(media_type) && !oci::media_type::is_index(media_type)) {
        auto j = nlohmann::json::parse(r.body, nullptr, false);
        media_type = j.is_discarded() ? "" : oci::sniff_media_type(j);
        if (media_type.empty() && j.is_object() && j.contains("manifests")) {
            media_type = std::string(oci::media_type::oci_index);
        } else if (media_type.empty() && j.is_object() && j.contains("layers")) {
            media_type = std::string(oci::media_type::oci_manifest);
        }
    }
    if (!oci::media_type::is_manifest(media_type) && !oci::media_type::is_index(media_type)) {
        return fail(what + ": unsupported manifest type \"" + media_type + "\"");
    }
    oci::Blob blob;
    blob.descriptor.media_type = media_type;
    blob.descriptor.digest = digest;
    blob.descriptor.size = static_cast<std::int64_t>(r.body.size());
    blob.bytes = std::move(r.body);
    return blob;
}

Result<oci::Digest> put_manifest(Conn& c, const std::string& repo, const std::string& ref, const oci::Blob& m) {
    http::Request put;
    put.method = "PUT";
    put.url = c.url("/v2/" + repo + "/manifests/" + ref);
    put.headers = {{"Content-Type", m.descriptor.media_type}}; // = mediaType, no parameters (§3.1)
    put.body = m.bytes;
    const std::string what = "manifest " + m.descriptor.digest.short_str();
    EDGESHIP_TRY_ASSIGN(auto r, c.send(put, push_scopes(repo)));
    if (r.status != 201 && r.status != 200) {
        return unexpected(answer_error("PUT " + what, r));
    }
    // Serialize once, hash those bytes, compare Docker-Content-Digest (§3.1, §11.5).
    auto local = oci::Digest::of(m.bytes);
    if (local != m.descriptor.digest) {
        return fail(what + ": bytes hash to " + local.str() + ", not to their descriptor's digest");
    }
    EDGESHIP_TRY(check_content_digest(r.header("Docker-Content-Digest"), local, "PUT " + what));
    return local;
}
Result<bool> manifest_present(Shared& s, const std::string& repo, const std::string& ref, const oci::Digest& digest) {
    EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(s));
    http::Request head;
    head.method = "HEAD";
    head.url = conn.url("/v2/" + repo + "/manifests/" + ref);
    head.headers = {{"Accept", std::string(oci::media_type::manifest_accept)}}; // all four types (§3.2)
    head.redirects = http::Redirects::follow;
    // Push scope from the first request: the token serves the uploads that may follow.
    EDGESHIP_TRY_ASSIGN(auto r, conn.send(head, push_scopes(repo)));
    if (r.status != 200) {
        return false;
    }
    const auto* header = r.header("Docker-Content-Digest");
    if (header == nullptr || header->find_first_not_of(" \t") == std::string::npos) {
        return false;
    }
    return check_content_digest(header, digest, "").has_value(); // same digest, blanks trimmed
}

} // namespace edgeship::registry::detail
