#include "oci/detail/async_sha256.hpp"

#include <utility>

namespace edgeship::oci::detail {

AsyncSha256::~AsyncSha256() {
    if (m_thread.joinable()) {
        {
            std::lock_guard lock(m_mutex);
            m_closed = true;
            m_queue.clear(); // abandoned stream: the digest is not wanted
        }
        m_work.notify_one();
        m_thread.join();
    }
}

void AsyncSha256::update(std::string_view data) {
    while (!data.empty()) {
        if (m_pending.capacity() < k_chunk) {
            m_pending.reserve(k_chunk);
        }
        const std::size_t take = std::min(data.size(), k_chunk - m_pending.size());
        m_pending.append(data.data(), take);
        data.remove_prefix(take);
        if (m_pending.size() == k_chunk) {
            hand_over();
        }
    }
}

void AsyncSha256::hand_over() {
    if (!m_thread.joinable()) {
        m_thread = std::thread([this] { run(); });
    }
    {
        std::unique_lock lock(m_mutex);
        m_space.wait(lock, [this] { return m_queue.size() < k_max_queued; });
        m_queue.push_back(std::exchange(m_pending, std::string()));
    }
    m_work.notify_one();
}

void AsyncSha256::run() {
    for (;;) {
        std::string chunk;
        {
            std::unique_lock lock(m_mutex);
            m_work.wait(lock, [this] { return !m_queue.empty() || m_closed; });
            if (m_queue.empty()) {
                return; // closed and drained
            }
            chunk = std::move(m_queue.front());
            m_queue.pop_front();
        }
        m_space.notify_one();
        m_sha.update(chunk);
    }
}

std::string AsyncSha256::hex_digest() {
    if (m_thread.joinable()) {
        if (!m_pending.empty()) {
            hand_over();
        }
        {
            std::lock_guard lock(m_mutex);
            m_closed = true;
        }
        m_work.notify_one();
        m_thread.join(); // the thread drains the queue before it returns
    } else if (!m_pending.empty()) {
        m_sha.update(m_pending);
    }
    m_pending.clear();
    return m_sha.hex_digest();
}

} // namespace edgeship::oci::detail
