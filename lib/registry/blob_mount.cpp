// Layers that are (also) in a registry (detail/push.hpp; docs/design/registry.md §2.5, §11.3): HEAD-skip in
// the same repository, cross-repository mount in the same registry, stream-through from another registry.

#include "registry/detail/blob_upload.hpp"
#include "registry/detail/pull.hpp"
#include "registry/detail/push.hpp"

#include "http/url.hpp"

namespace edgeship::registry::detail {

namespace {

/// A layer held by another registry: GET it into a scratch file (digest verified), upload, remove.
Result<BlobResult> stream_through(Conn& c, const std::string& repo, const oci::Descriptor& d,
                                  const oci::RemoteBlob& from, Events& ev) {
    const std::string& src_host = from.host;
    const std::string& src_repo = from.repository;
    EDGESHIP_TRY_ASSIGN(bool there, head_blob(c, repo, d.digest, push_scopes(repo)));
    if (there) {
        ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
        return BlobResult{d, BlobResult::Outcome::skipped_exists, 0};
    }
    RegistryOptions src_opts;
    if (c.shared().options.options_for_host) {
        EDGESHIP_TRY_ASSIGN(src_opts, c.shared().options.options_for_host(src_host));
    } else {
        src_opts = c.shared().options;
        src_opts.host = src_host;
        src_opts.credential = Credential{};
    }
    src_opts.host = src_host;
    EDGESHIP_TRY_ASSIGN(auto src, connect_session(std::move(src_opts)));
    EDGESHIP_TRY_ASSIGN(auto src_conn, Conn::create(*src));
    EDGESHIP_TRY_ASSIGN(auto scratch, ScratchDir::create(c.shared().options.scratch_dir));
    BlobEventCallback none;
    Events quiet{none};
    auto path = download_blob(src_conn, src_repo, d, scratch.path(), quiet, nullptr);
    if (!path) {
        return unexpected(std::move(path).error().context("reading it from " + src_host + "/" + src_repo));
    }
    BlobInput in;
    in.path = *path;
    in.is_file = true;
    return upload_blob(c, repo, d, in, "", ev);
}

} // namespace

Result<BlobResult> push_layer(Conn& c, const std::string& repo, const oci::ImageLayer& layer, Events& ev) {
    const auto& d = layer.descriptor;
    if (const auto* file = layer.local_file()) {
        BlobInput in;
        in.path = *file;
        in.is_file = true;
        // Known in another repository of this registry: mount, and use the session on a 202 (§11.3).
        std::string mount_from;
        if (const auto* known = layer.in_registry(); known != nullptr && mountable_from(c.shared(), *known, repo)) {
            mount_from = known->repository;
        }
        return upload_blob(c, repo, d, in, mount_from, ev);
    }
    const auto& src = std::get<oci::RemoteBlob>(layer.source);
    if (api_host_of(src.host) == c.shared().host) {
        if (src.repository == repo) {
            EDGESHIP_TRY_ASSIGN(bool there, head_blob(c, repo, d.digest, push_scopes(repo)));
            if (!there) {
                return fail("blob is missing from " + src.str());
            }
            ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
            return BlobResult{d, BlobResult::Outcome::skipped_exists, 0};
        }
        // Same registry, another repository: cross-repository mount (§2.5).
        EDGESHIP_TRY_ASSIGN(auto mounted, try_mount(c, repo, d, src.repository, ev));
        if (mounted) {
            return *mounted;
        }
        // Not mounted (202): the bytes have to come through us (below).
    }
    return stream_through(c, repo, d, src, ev);
}

Result<std::optional<BlobResult>> try_mount(Conn& c, const std::string& repo, const oci::Descriptor& d,
                                            const std::string& from, Events& ev) {
    Scopes scopes = push_scopes(repo);
    scopes.push_back(repository_scope(from, "pull"));
    EDGESHIP_TRY_ASSIGN(bool exists, head_blob(c, repo, d.digest, scopes));
    if (exists) {
        ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
        return std::optional<BlobResult>(BlobResult{d, BlobResult::Outcome::skipped_exists, 0});
    }
    http::Request post;
    post.method = "POST";
    post.url = c.url("/v2/" + repo + "/blobs/uploads/?mount=" + d.digest.str() + "&from=" + from);
    post.headers = {{"Content-Type", "application/octet-stream"}};
    EDGESHIP_TRY_ASSIGN(auto r, c.send(post, scopes));
    if (r.status == 201) {
        EDGESHIP_TRY(check_content_digest(r.header("Docker-Content-Digest"), d.digest, "mount"));
        ev.emit(BlobEvent::Kind::mounted, d, static_cast<std::uint64_t>(d.size), "mounted from " + from);
        return std::optional<BlobResult>(BlobResult{d, BlobResult::Outcome::mounted, 0});
    }
    if (r.status == 202) {
        if (const auto* loc = r.header("Location"); loc != nullptr && !loc->empty()) {
            if (auto where = http::resolve_location(post.url, *loc, "POST mount"); where) {
                abandon(c, *where, scopes); // an unused session; never followed off the registry (§4)
            }
        }
        c.shared().options.logger.debug(d.digest.short_str() + ": not mounted from " + from +
                                       "; copying it through");
        return std::optional<BlobResult>();
    }
    return unexpected(answer_error("POST mount", r));
}

} // namespace edgeship::registry::detail
