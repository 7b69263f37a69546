// The registry client's facade (registry/client.hpp): Registry's operations over the pieces in detail/ —
// session (connections, auth), blob_upload (uploads, resume, growing blobs), blob_mount (mount, stream-
// through), manifests, push (whole images) and pull (images, layouts). docs/design/registry.md §2-§4, §11.

#include "registry/client.hpp"

#include "registry/detail/blob_upload.hpp"
#include "registry/detail/manifests.hpp"
#include "registry/detail/pull.hpp"
#include "registry/detail/push.hpp"
#include "registry/detail/session.hpp"

namespace edgeship::registry {

namespace {

using namespace detail;

class RegistryImpl final : public Registry {
public:
    explicit RegistryImpl(std::unique_ptr<Shared> shared) : m_shared(std::move(shared)) {}

    const RegistryOptions& options() const override { return m_shared->options; }

    Result<void> ping() override {
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        http::Request req;
        req.url = conn.url("/v2/");
        auto r = conn.send(req, {});
        if (!r) {
            return unexpected(std::move(r).error().context("ping " + m_shared->host));
        }
        if (r->ok()) {
            return {};
        }
        if (r->status == 404) {
            return fail("ping " + m_shared->host + ": GET /v2/ answered 404: not an OCI distribution registry");
        }
        return unexpected(answer_error("ping " + m_shared->host + ": GET /v2/", *r));
    }

    Result<oci::Blob> get_manifest(const oci::Reference& ref) override {
        EDGESHIP_TRY(check_host(*m_shared, ref));
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        return fetch_manifest(conn, ref.repository, ref.manifest_ref(), ref.digest);
    }

    Result<RemoteImage> get_image(const oci::Reference& ref, const oci::Platform& platform) override {
        EDGESHIP_TRY(check_host(*m_shared, ref));
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        auto img = remote_image(conn, ref, platform);
        if (!img) {
            return unexpected(std::move(img).error().context("reading " + ref.str()));
        }
        return img;
    }

    Result<bool> blob_exists(const std::string& repository, const oci::Digest& digest) override {
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        return head_blob(conn, repository, digest, {repository_scope(repository, "pull")});
    }

    Result<TransferReport> push_image(const oci::LocalImage& image, const oci::Reference& dest,
                                      const BlobEventCallback& events) override {
        const std::string what = "push " + display(dest);
        if (auto r = check_host(*m_shared, dest); !r) {
            return unexpected(std::move(r).error().context(what));
        }
        if (dest.tag.empty() && !dest.digest) {
            return fail(what + ": the destination needs a tag or a digest");
        }
        Events ev(events);
        TransferReport report;
        const std::string manifest_ref = dest.tag.empty() ? dest.digest->str() : dest.tag;
        auto present = manifest_present(*m_shared, dest.repository, manifest_ref, image.manifest.descriptor.digest);
        if (!present) {
            return unexpected(std::move(present).error().context(what));
        }
        if (*present) {
            report_up_to_date({&image}, ev, report);
            report.reference = display(dest);
            report.digest = image.manifest.descriptor.digest;
            report.media_type = image.manifest.descriptor.media_type;
            return report;
        }
        auto r = push_one(*m_shared, image, dest.repository, manifest_ref, ev, report);
        if (!r) {
            return unexpected(std::move(r).error().context(what));
        }
        report.reference = display(dest);
        report.digest = *r;
        report.media_type = image.manifest.descriptor.media_type;
        return report;
    }

    Result<TransferReport> push_index(const std::vector<const oci::LocalImage*>& images, const oci::Blob& index,
                                      const oci::Reference& dest, const BlobEventCallback& events) override {
        const std::string what = "push " + display(dest);
        if (auto r = check_host(*m_shared, dest); !r) {
            return unexpected(std::move(r).error().context(what));
        }
        if (dest.tag.empty()) {
            return fail(what + ": an index is pushed under a tag");
        }
        Events ev(events);
        TransferReport report;
        auto present = manifest_present(*m_shared, dest.repository, dest.tag, index.descriptor.digest);
        if (!present) {
            return unexpected(std::move(present).error().context(what));
        }
        if (*present) {
            report_up_to_date(images, ev, report);
            report.reference = display(dest);
            report.digest = index.descriptor.digest;
            report.media_type = index.descriptor.media_type;
            return report;
        }
        for (const auto* image : images) {
            // §3.4: platform manifests first (by digest), then the index.
            auto r = push_one(*m_shared, *image, dest.repository, image->manifest.descriptor.digest.str(), ev, report);
            if (!r) {
                return unexpected(std::move(r).error().context(what).context(
                    "platform " + image->platform().str()));
            }
        }
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        auto d = put_manifest(conn, dest.repository, dest.tag, index);
        if (!d) {
            return unexpected(std::move(d).error().context(what));
        }
        report.reference = display(dest);
        report.digest = *d;
        report.media_type = index.descriptor.media_type;
        return report;
    }

    Result<BlobResult> push_growing_blob(const std::string& repo, GrowingBlob& blob, std::uint64_t chunk,
                                         const BlobEventCallback& events) override {
        auto r = push_growing(*m_shared, repo, blob.impl(), chunk == 0 ? k_growing_chunk : chunk, events);
        if (!r) {
            return unexpected(std::move(r).error().context("streaming upload to " + m_shared->host + "/" + repo));
        }
        return r;
    }

    Result<TransferReport> pull_to_layout(const oci::Reference& ref, oci::OciLayout& layout,
                                          const std::optional<oci::Platform>& platform, const std::string& tag,
                                          const BlobEventCallback& events) override {
        const std::string what = "pull " + ref.str();
        auto r = detail::pull_to_layout(*m_shared, ref, layout, platform, tag, events);
        if (!r) {
            return unexpected(std::move(r).error().context(what));
        }
        return r;
    }

private:
    std::unique_ptr<Shared> m_shared;
};

} // namespace

Result<std::unique_ptr<Registry>> Registry::connect(RegistryOptions options) {
    EDGESHIP_TRY_ASSIGN(auto shared, connect_session(std::move(options)));
    return std::unique_ptr<Registry>(std::make_unique<RegistryImpl>(std::move(shared)));
}

} // namespace edgeship::registry
