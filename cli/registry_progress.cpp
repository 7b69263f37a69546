#include "cli/registry_progress.hpp"

#include "cli/format.hpp"

#include <nlohmann/json.hpp>

namespace edgeship::cli {

namespace {

const char* outcome_name(registry::BlobResult::Outcome o) {
    switch (o) {
    case registry::BlobResult::Outcome::uploaded: return "uploaded";
    case registry::BlobResult::Outcome::skipped_exists: return "exists";
    case registry::BlobResult::Outcome::mounted: return "mounted";
    case registry::BlobResult::Outcome::downloaded: return "downloaded";
    }
    return "unknown";
}

std::string short_digest(const oci::Digest& d) { return d.short_str() + "…"; }

} // namespace

TransferProgress::TransferProgress(Context& ctx, TransferDirection direction, bool json)
    : m_ctx(ctx), m_direction(direction),
      m_bar(progress_enabled(ctx.env, ctx.io.stderr_tty, ctx.console.verbosity(), json)),
      m_status(ctx.io.err, m_bar, ctx.io.stderr_columns) {
    m_lines = !json && ctx.console.verbosity() != Verbosity::quiet;
}

registry::BlobEventCallback TransferProgress::callback() {
    return [this](const registry::BlobEvent& e) { on_event(e); };
}

void TransferProgress::finish() {
    std::lock_guard lock(m_mutex);
    clear_bar();
}

void TransferProgress::clear_bar() { m_status.clear(); }

void TransferProgress::line(const std::string& text) {
    if (!m_lines) {
        return;
    }
    clear_bar();
    m_ctx.console.info(text);
}

void TransferProgress::on_event(const registry::BlobEvent& e) {
    using K = registry::BlobEvent::Kind;
    std::lock_guard lock(m_mutex);
    const std::string key = e.blob.digest.str();
    const auto size = static_cast<std::uint64_t>(e.blob.size);
    const std::string what = short_digest(e.blob.digest);
    switch (e.kind) {
    case K::started:
        m_active[key] = {0, size};
        break;
    case K::progress:
        m_active[key] = {e.bytes_done, size};
        break;
    case K::uploaded:
    case K::downloaded:
    case K::skipped_exists:
    case K::mounted:
        m_active.erase(key);
        m_done_bytes += size;
        ++m_finished;
        if (e.kind == K::uploaded) {
            line("pushed " + what + " " + human_bytes(size));
        } else if (e.kind == K::downloaded) {
            line("pulled " + what + " " + human_bytes(size));
        } else if (e.kind == K::skipped_exists) {
            line("exists " + what + " " + human_bytes(size));
        } else {
            line("mounted " + what + " " + human_bytes(size) + (e.detail.empty() ? "" : " (" + e.detail + ")"));
        }
        break;
    case K::retried:
        if (m_lines) {
            line("retry " + what + ": " + e.detail);
        } else {
            // --json keeps stderr to errors, but a retry is what -v is asked for (a flaky link, a lost session).
            clear_bar();
            m_ctx.console.debug("retry " + what + ": " + e.detail);
        }
        break;
    case K::failed:
        m_active.erase(key);
        break;
    }
    draw();
}

void TransferProgress::draw() {
    if (!m_bar) {
        return;
    }
    auto now = std::chrono::steady_clock::now();
    if (m_status.drawn() && now - m_last_draw < std::chrono::milliseconds(100)) {
        return;
    }
    m_last_draw = now;
    std::uint64_t done = m_done_bytes;
    std::uint64_t total = m_done_bytes;
    for (const auto& [k, v] : m_active) {
        done += v.first;
        total += v.second;
    }
    const int width = 30;
    int filled = total == 0 ? 0 : static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
    filled = std::clamp(filled, 0, width);
    std::string text = std::string(m_direction == TransferDirection::push ? "pushing " : "pulling ") + "[" +
                       std::string(static_cast<std::size_t>(filled), '#') +
                       std::string(static_cast<std::size_t>(width - filled), ' ') + "] " + human_bytes(done) + " / " +
                       human_bytes(total) + ", " + std::to_string(m_finished) + " blobs done, " +
                       std::to_string(m_active.size()) + " in flight";
    m_status.update(text);
}

std::string transfer_report_json(const registry::TransferReport& report, TransferDirection direction) {
    nlohmann::ordered_json j;
    j["reference"] = report.reference;
    j["digest"] = report.digest.str();
    j["media_type"] = report.media_type;
    j[direction == TransferDirection::push ? "bytes_uploaded" : "bytes_downloaded"] = report.bytes_uploaded;
    j["bytes_skipped"] = report.bytes_skipped;
    if (direction == TransferDirection::push) {
        j["up_to_date"] = report.up_to_date; // the tag already named this manifest: nothing was sent
    }
    j["blobs"] = nlohmann::ordered_json::array();
    for (const auto& b : report.blobs) {
        nlohmann::ordered_json e;
        e["digest"] = b.blob.digest.str();
        e["media_type"] = b.blob.media_type;
        e["size"] = b.blob.size;
        e["outcome"] = outcome_name(b.outcome);
        e["bytes"] = b.bytes_sent;
        j["blobs"].push_back(std::move(e));
    }
    return j.dump(2);
}

std::string transfer_summary(const registry::TransferReport& report, TransferDirection direction) {
    std::size_t moved = 0;
    std::size_t present = 0;
    for (const auto& b : report.blobs) {
        if (b.outcome == registry::BlobResult::Outcome::uploaded ||
            b.outcome == registry::BlobResult::Outcome::downloaded) {
            ++moved;
        } else {
            ++present;
        }
    }
    const bool push = direction == TransferDirection::push;
    if (push && report.up_to_date) {
        return "up to date: " + report.reference + " already names " + report.digest.short_str() + "… (" +
               std::to_string(report.blobs.size()) + " blobs, " + human_bytes(report.bytes_skipped) + ", nothing sent)";
    }
    return std::string(push ? "pushed " : "pulled ") + report.reference + ": " + std::to_string(report.blobs.size()) +
           " blobs (" + std::to_string(moved) + (push ? " uploaded: " : " downloaded: ") +
           human_bytes(report.bytes_uploaded) + "; " + std::to_string(present) +
           (push ? " already present or mounted: " : " already in the layout: ") + human_bytes(report.bytes_skipped) +
           ")";
}

} // namespace edgeship::cli
