// Whole-image pushes: layers in parallel, config, manifest last (detail/push.hpp; docs/design/registry.md
// §3.1, §11.3-5).

#include "registry/detail/push.hpp"

#include "registry/detail/blob_upload.hpp"
#include "registry/detail/manifests.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

namespace edgeship::registry::detail {

void report_up_to_date(const std::vector<const oci::LocalImage*>& images, Events& ev, TransferReport& report) {
    std::set<oci::Digest> reported;
    auto present = [&](const oci::Descriptor& d) {
        if (reported.insert(d.digest).second) {
            ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
            report.bytes_skipped += static_cast<std::uint64_t>(d.size);
            report.blobs.push_back(BlobResult{d, BlobResult::Outcome::skipped_exists, 0});
        }
    };
    for (const auto* image : images) {
        for (const auto& l : image->layers) {
            present(l.descriptor);
        }
        present(image->config.descriptor);
    }
    report.up_to_date = true;
}

/// Layers in parallel (largest first), then the config, then the manifest under `manifest_ref`.
Result<oci::Digest> push_one(Shared& s, const oci::LocalImage& image, const std::string& repo,
                             const std::string& manifest_ref, Events& ev, TransferReport& report) {
    struct LayerJob {
        const oci::ImageLayer* layer;
        std::size_t number; ///< 1-based, for messages
    };
    std::vector<LayerJob> jobs;
    std::set<oci::Digest> seen;
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        if (seen.insert(image.layers[i].descriptor.digest).second) {
            jobs.push_back({&image.layers[i], i + 1});
        }
    }
    std::stable_sort(jobs.begin(), jobs.end(), [](const LayerJob& a, const LayerJob& b) {
        return a.layer->descriptor.size > b.layer->descriptor.size; // largest first (containers/image#1738)
    });
    const std::size_t total = image.layers.size();
    std::vector<std::function<Result<BlobResult>(Conn&)>> tasks;
    for (const auto& job : jobs) {
        tasks.emplace_back([job, total, &repo, &ev](Conn& c) -> Result<BlobResult> {
            auto r = push_layer(c, repo, *job.layer, ev);
            if (!r) {
                ev.emit(BlobEvent::Kind::failed, job.layer->descriptor, 0, r.error().message());
                return unexpected(std::move(r).error().context(
                    "layer " + job.layer->descriptor.digest.short_str() + "… (" + std::to_string(job.number) +
                    " of " + std::to_string(total) + ")"));
            }
            return r;
        });
    }
    // The config's HEAD runs beside the layers' (a re-push with everything present then costs one
    // round trip of HEADs, then the manifest PUT); a missing config is still uploaded after every
    // layer (below).
    const auto& cfg_d = image.config.descriptor;
    std::atomic<bool> config_present{false};
    tasks.emplace_back([&repo, &cfg_d, &config_present](Conn& c) -> Result<BlobResult> {
        auto there = head_blob(c, repo, cfg_d.digest, push_scopes(repo));
        if (!there) {
            return unexpected(std::move(there).error().context("config " + cfg_d.digest.short_str() + "…"));
        }
        config_present = *there;
        return BlobResult{cfg_d, BlobResult::Outcome::skipped_exists, 0};
    });
    EDGESHIP_TRY_ASSIGN(auto layer_results, run_parallel<BlobResult>(s, s.options.parallel_blobs, tasks));
    layer_results.pop_back(); // the config's HEAD
    EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(s));
    // Config after the layers (§3.1 order: layers, config, manifest).
    BlobInput cfg_in;
    cfg_in.bytes = image.config.bytes;
    // An image read from another repository of this registry: its config is mounted like its layers.
    std::string cfg_from;
    for (const auto& l : image.layers) {
        if (const auto* in = l.in_registry(); in != nullptr && mountable_from(s, *in, repo)) {
            cfg_from = in->repository;
            break;
        }
    }
    Result<BlobResult> cfg = BlobResult{cfg_d, BlobResult::Outcome::skipped_exists, 0};
    if (config_present) {
        ev.emit(BlobEvent::Kind::skipped_exists, cfg_d, static_cast<std::uint64_t>(cfg_d.size));
    } else {
        cfg = upload_blob(conn, repo, cfg_d, cfg_in, cfg_from, ev);
    }
    if (!cfg) {
        ev.emit(BlobEvent::Kind::failed, image.config.descriptor, 0, cfg.error().message());
        return unexpected(std::move(cfg).error().context("config " + image.config.descriptor.digest.short_str() + "…"));
    }
    // Report in manifest order.
    std::map<oci::Digest, BlobResult> by_digest;
    for (auto& b : layer_results) {
        by_digest.emplace(b.blob.digest, b);
    }
    std::set<oci::Digest> reported;
    auto account = [&report](const BlobResult& b) {
        if (b.outcome == BlobResult::Outcome::uploaded) {
            report.bytes_uploaded += b.bytes_sent;
        } else {
            report.bytes_skipped += static_cast<std::uint64_t>(b.blob.size);
        }
        report.blobs.push_back(b);
    };
    for (const auto& l : image.layers) {
        if (reported.insert(l.descriptor.digest).second) {
            account(by_digest.at(l.descriptor.digest));
        }
    }
    account(*cfg);
    // Manifest last, only after every blob is verified present (§3.1).
    return put_manifest(conn, repo, manifest_ref, image.manifest);
}

} // namespace edgeship::registry::detail
