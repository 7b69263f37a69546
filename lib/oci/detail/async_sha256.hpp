#pragma once

#include "core/sha256.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace edgeship::oci::detail {

/// sha256 of a byte stream, computed on a thread of its own once the stream passes one chunk.
///
/// Why: a layer costs three full passes — sha256 of the tar (DiffID), the compressor, sha256 of the
/// compressed bytes (digest) — and on one thread they add up (on the bench machine the two hashes were
/// 57 % of `build`'s time, ISA-L 23 %). With the hashes on their own threads the passes overlap on
/// multi-core machines, and an upload running beside the build gets its data sooner (docs/design/
/// registry.md §9.8). Bytes are copied into chunks of k_chunk and handed over through a queue of at
/// most k_max_queued chunks, so memory stays bounded whatever the stream size. A stream shorter than one
/// chunk (an app layer, a config) never starts the thread. One producer; not thread-safe otherwise.
class AsyncSha256 {
public:
    static constexpr std::size_t k_chunk = 1u << 20;
    static constexpr std::size_t k_max_queued = 8;

    AsyncSha256() = default;
    ~AsyncSha256();
    AsyncSha256(const AsyncSha256&) = delete;
    AsyncSha256& operator=(const AsyncSha256&) = delete;

    void update(std::string_view data);
    /// Lower-case hex digest; waits for the queued chunks. Finalizes: further updates are invalid.
    std::string hex_digest();

private:
    void hand_over();
    void run();

    core::Sha256 m_sha; ///< the caller's until the thread starts, the thread's afterwards
    std::string m_pending;
    std::deque<std::string> m_queue;
    std::mutex m_mutex;
    std::condition_variable m_work;
    std::condition_variable m_space;
    bool m_closed = false;
    std::thread m_thread;
};

} // namespace edgeship::oci::detail
