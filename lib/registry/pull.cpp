// Pulls: blobs with digests verified and Range resume, images read without their layers, OCI layouts
// (detail/pull.hpp; docs/design/registry.md §2.6, §3.2-3.3).

#include "registry/detail/pull.hpp"

#include "oci/media_types.hpp"
#include "registry/detail/manifests.hpp"

#include <algorithm>
#include <set>

namespace edgeship::registry::detail {

Result<std::filesystem::path> download_blob(Conn& c, const std::string& repo, const oci::Descriptor& d,
                                            const std::filesystem::path& out_dir, Events& ev,
                                            std::uint64_t* bytes_received) {
    EDGESHIP_TRY_ASSIGN(auto writer, oci::BlobFileWriter::create(out_dir, c.shared().options.cancel));
    const auto& policy = c.shared().http_options.retry;
    http::RetryPolicy once = policy;
    once.max_attempts = 1;
    http::SendOptions so;
    so.retry = &once;
    std::uint64_t last_event = 0;
    ev.emit(BlobEvent::Kind::started, d, 0);
    for (int failures = 0;;) {
        const std::uint64_t have = writer.size();
        std::uint64_t skip = 0;
        http::Request get;
        get.url = c.url(blob_path(repo, d.digest));
        get.redirects = http::Redirects::follow;
        if (have > 0) {
            get.headers.emplace_back("Range", "bytes=" + std::to_string(have) + "-");
        }
        bool whole_body = true;
        get.sink_begin = [&](long status) -> Result<void> {
            whole_body = status != 206;
            return {};
        };
        get.body_sink = [&](std::string_view chunk) -> Result<void> {
            if (have > 0 && whole_body && skip < have) {
                // The registry ignored Range and sent everything: drop what we already hold.
                std::uint64_t drop = std::min<std::uint64_t>(have - skip, chunk.size());
                skip += drop;
                chunk.remove_prefix(static_cast<std::size_t>(drop));
            }
            if (chunk.empty()) {
                return {};
            }
            EDGESHIP_TRY(writer.write(chunk));
            if (bytes_received != nullptr) {
                *bytes_received += chunk.size();
            }
            std::uint64_t done = writer.size();
            if (done - last_event >= k_progress_step || done == static_cast<std::uint64_t>(d.size)) {
                last_event = done;
                ev.emit(BlobEvent::Kind::progress, d, done);
            }
            return {};
        };
        auto r = c.send(get, pull_scopes(repo), so);
        if (r && (r->status == 200 || r->status == 206)) {
            break;
        }
        std::string why;
        if (r) {
            if (!recoverable_status(r->status)) {
                return unexpected(answer_error("GET " + d.digest.short_str(), *r));
            }
            why = "HTTP " + std::to_string(r->status);
        } else {
            if (r.error().code() == ExitCode::interrupted || r.error().code() == ExitCode::auth ||
                r.error().message().find("request body") != std::string::npos) {
                return unexpected(std::move(r).error());
            }
            why = r.error().message();
        }
        if (++failures >= policy.max_attempts) {
            return fail("GET " + d.digest.short_str() + ": gave up after " + std::to_string(failures) +
                        " attempts: " + why);
        }
        ev.emit(BlobEvent::Kind::retried, d, writer.size(), "retry " + std::to_string(failures) + " after " + why);
        if (!c.shared().wait(http::backoff_delay(policy, failures, 0.5))) {
            return unexpected(core::cancelled_error());
        }
    }
    auto path = writer.commit(d.digest, static_cast<std::uint64_t>(d.size));
    if (!path) {
        return unexpected(std::move(path).error().context("blob " + d.digest.short_str()));
    }
    ev.emit(BlobEvent::Kind::downloaded, d, static_cast<std::uint64_t>(d.size));
    return path;
}

/// A small blob (config) into memory, digest checked.
Result<std::string> fetch_small_blob(Conn& c, const std::string& repo, const oci::Descriptor& d) {
    http::Request get;
    get.url = c.url(blob_path(repo, d.digest));
    get.redirects = http::Redirects::follow;
    EDGESHIP_TRY_ASSIGN(auto r, c.send(get, pull_scopes(repo)));
    if (r.status != 200) {
        return unexpected(answer_error("GET " + d.digest.short_str(), r));
    }
    auto got = oci::Digest::of(r.body);
    if (got != d.digest) {
        return fail("blob " + d.digest.short_str() + ": digest mismatch: content hashes to " + got.str());
    }
    return std::move(r.body);
}
Result<RemoteImage> remote_image(Conn& c, const oci::Reference& ref, const oci::Platform& platform) {
    EDGESHIP_TRY_ASSIGN(auto top, fetch_manifest(c, ref.repository, ref.manifest_ref(), ref.digest));
    oci::Blob manifest_blob = top;
    if (oci::media_type::is_index(top.descriptor.media_type)) {
        EDGESHIP_TRY_ASSIGN(auto index, oci::Index::parse(top.bytes, "index of " + ref.str()));
        EDGESHIP_TRY_ASSIGN(auto entry, choose_platform(index, platform, ref.str()));
        EDGESHIP_TRY_ASSIGN(manifest_blob, fetch_manifest(c, ref.repository, entry.digest.str(), entry.digest));
        manifest_blob.descriptor.platform = entry.platform;
    }
    EDGESHIP_TRY_ASSIGN(auto manifest, oci::Manifest::parse(manifest_blob.bytes, "manifest of " + ref.str()));
    EDGESHIP_TRY_ASSIGN(auto cfg_bytes, fetch_small_blob(c, ref.repository, manifest.config));
    EDGESHIP_TRY_ASSIGN(auto cfg, oci::ImageConfig::parse(cfg_bytes, "config of " + ref.str()));
    if (cfg.diff_ids.size() != manifest.layers.size()) {
        return fail("config of " + ref.str() + ": " + std::to_string(cfg.diff_ids.size()) +
                    " diff_ids for " + std::to_string(manifest.layers.size()) + " layers");
    }
    RemoteImage img;
    img.manifest = manifest_blob;
    if (!img.manifest.descriptor.platform) {
        img.manifest.descriptor.platform = cfg.platform();
    }
    img.config.bytes = std::move(cfg_bytes);
    img.config.descriptor = manifest.config;
    img.parsed_config = cfg;
    for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
        oci::ImageLayer l;
        l.descriptor = manifest.layers[i];
        l.diff_id = cfg.diff_ids[i];
        l.source = oci::RemoteBlob{ref.registry, ref.repository};
        img.layers.push_back(std::move(l));
    }
    img.parsed_manifest = std::move(manifest);
    return img;
}
Result<oci::Descriptor> choose_platform(const oci::Index& index, const oci::Platform& p, const std::string& what) {
    std::string known;
    for (const auto& m : index.manifests) {
        if (!m.platform) {
            continue;
        }
        known += (known.empty() ? "" : ", ") + m.platform->str();
        if (m.platform->os == p.os && m.platform->architecture == p.architecture &&
            (p.variant.empty() || m.platform->variant == p.variant)) {
            return m;
        }
    }
    return fail(what + ": no image for platform " + p.str() + " (the index has: " +
                (known.empty() ? "none" : known) + ")");
}

namespace {

Result<void> pull_image(Conn& conn, const std::string& repo, const oci::Blob& manifest_blob,
                        oci::OciLayout& layout, Events& ev, TransferReport& report) {
    EDGESHIP_TRY_ASSIGN(auto manifest, oci::Manifest::parse(manifest_blob.bytes,
                                                            "manifest " + manifest_blob.descriptor.digest.short_str()));
    std::vector<oci::Descriptor> layers;
    std::set<oci::Digest> seen;
    for (const auto& l : manifest.layers) {
        if (seen.insert(l.digest).second) {
            layers.push_back(l);
        }
    }
    std::stable_sort(layers.begin(), layers.end(), [](const auto& a, const auto& b) { return a.size > b.size; });
    const auto blobs_dir = layout.blobs_dir();
    std::vector<std::function<Result<BlobResult>(Conn&)>> tasks;
    for (const auto& d : layers) {
        tasks.emplace_back([d, &repo, &layout, &ev, blobs_dir](Conn& c) -> Result<BlobResult> {
            if (layout.has_blob(d.digest)) {
                ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
                return BlobResult{d, BlobResult::Outcome::skipped_exists, 0};
            }
            std::uint64_t got = 0;
            auto p = download_blob(c, repo, d, blobs_dir, ev, &got);
            if (!p) {
                ev.emit(BlobEvent::Kind::failed, d, 0, p.error().message());
                return unexpected(std::move(p).error().context("layer " + d.digest.short_str() + "…"));
            }
            return BlobResult{d, BlobResult::Outcome::downloaded, got};
        });
    }
    EDGESHIP_TRY_ASSIGN(auto results, run_parallel<BlobResult>(conn.shared(), conn.shared().options.parallel_blobs, tasks));
    BlobResult cfg_result{manifest.config, BlobResult::Outcome::skipped_exists, 0};
    if (!layout.has_blob(manifest.config.digest)) {
        EDGESHIP_TRY_ASSIGN(auto cfg, fetch_small_blob(conn, repo, manifest.config));
        oci::Blob b{std::move(cfg), manifest.config};
        EDGESHIP_TRY(layout.write_blob(b));
        cfg_result = BlobResult{manifest.config, BlobResult::Outcome::downloaded, b.bytes.size()};
        ev.emit(BlobEvent::Kind::downloaded, manifest.config, b.bytes.size());
    }
    results.push_back(cfg_result);
    for (const auto& b : results) {
        if (b.outcome == BlobResult::Outcome::downloaded) {
            report.bytes_uploaded += b.bytes_sent; // for a pull: bytes transferred
        } else {
            report.bytes_skipped += static_cast<std::uint64_t>(b.blob.size);
        }
        report.blobs.push_back(b);
    }
    EDGESHIP_TRY(layout.write_blob(manifest_blob));
    return {};
}

} // namespace

Result<TransferReport> pull_to_layout(Shared& s, const oci::Reference& ref, oci::OciLayout& layout,
                                      const std::optional<oci::Platform>& platform, const std::string& tag_arg,
                                      const BlobEventCallback& events) {
    EDGESHIP_TRY(check_host(s, ref));
    std::string tag = tag_arg.empty() ? ref.tag : tag_arg;
    if (tag.empty()) {
        return unexpected(Error("a reference by digest needs a tag for the layout").hint("pass --tag NAME"));
    }
    if (!oci::is_valid_ref_name(tag)) {
        return fail("invalid layout tag \"" + tag + "\"");
    }
    Events ev(events);
    TransferReport report;
    report.reference = display(ref);
    EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(s));
    EDGESHIP_TRY_ASSIGN(auto top, fetch_manifest(conn, ref.repository, ref.manifest_ref(), ref.digest));
    oci::Descriptor tagged = top.descriptor;
    if (oci::media_type::is_index(top.descriptor.media_type)) {
        EDGESHIP_TRY_ASSIGN(auto index, oci::Index::parse(top.bytes, "index of " + ref.str()));
        if (platform) {
            EDGESHIP_TRY_ASSIGN(auto entry, choose_platform(index, *platform, ref.str()));
            EDGESHIP_TRY_ASSIGN(auto m, fetch_manifest(conn, ref.repository, entry.digest.str(), entry.digest));
            EDGESHIP_TRY(pull_image(conn, ref.repository, m, layout, ev, report));
            tagged = m.descriptor;
        } else {
            for (const auto& entry : index.manifests) {
                EDGESHIP_TRY_ASSIGN(auto m, fetch_manifest(conn, ref.repository, entry.digest.str(), entry.digest));
                if (!oci::media_type::is_manifest(m.descriptor.media_type)) {
                    return fail("index of " + ref.str() + ": nested index " + entry.digest.str() + " is not supported");
                }
                EDGESHIP_TRY(pull_image(conn, ref.repository, m, layout, ev, report));
            }
            EDGESHIP_TRY(layout.write_blob(top));
        }
    } else {
        EDGESHIP_TRY(pull_image(conn, ref.repository, top, layout, ev, report));
    }
    // index.json last, atomically: an interrupted pull never leaves a tag to a missing blob.
    EDGESHIP_TRY(layout.set_tag(tagged, tag));
    report.digest = tagged.digest;
    report.media_type = tagged.media_type;
    return report;
}

} // namespace edgeship::registry::detail
