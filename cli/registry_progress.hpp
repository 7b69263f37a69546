#pragma once

// Transfer progress for registry commands (push, pull, build --push): a redrawn bar on a TTY (stderr),
// one line per blob otherwise (`pushed sha256:ab12… 244.1 MiB`, `exists …`, `mounted …`), nothing with
// -q or --json; and the --json report (STYLE.md §7; docs/design/registry.md §12.1: CI-friendly lines).

#include "cli/context.hpp"
#include "core/status_line.hpp"
#include "registry/client.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>

namespace edgeship::cli {

enum class TransferDirection { push, pull };

/// Draws BlobEvents. Thread-safe (events arrive from worker threads, already serialized by the
/// registry client, but the bar is also cleared from the command's thread by finish()).
class TransferProgress {
public:
    TransferProgress(Context& ctx, TransferDirection direction, bool json);
    /// The callback to hand to Registry::push_image / push_index / pull_to_layout.
    registry::BlobEventCallback callback();
    /// Clears the bar (if one is drawn). Call before printing the result or an error.
    void finish();

private:
    void on_event(const registry::BlobEvent& e);
    void draw();
    void clear_bar();
    void line(const std::string& text);

    Context& m_ctx;
    TransferDirection m_direction;
    bool m_bar = false;   ///< TTY progress bar
    core::StatusLine m_status; ///< where the bar is drawn (stderr)
    bool m_lines = false; ///< one line per blob
    std::mutex m_mutex;
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> m_active; ///< digest -> (done, size)
    std::uint64_t m_done_bytes = 0;   ///< of finished blobs
    std::size_t m_finished = 0;
    std::chrono::steady_clock::time_point m_last_draw{};
};

/// The --json document: reference, digest, media_type, bytes_uploaded (or bytes_downloaded for a pull),
/// bytes_skipped, blobs[{digest, media_type, size, outcome, bytes}].
std::string transfer_report_json(const registry::TransferReport& report, TransferDirection direction);

/// "pushed 3 blobs (1 uploaded: 244.1 MiB; 2 already present: 30.2 MiB)" for stderr.
std::string transfer_summary(const registry::TransferReport& report, TransferDirection direction);

} // namespace edgeship::cli
