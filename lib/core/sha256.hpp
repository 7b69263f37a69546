#pragma once

#include "core/result.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace edgeship::core {

/// Streaming SHA-256 over OpenSSL EVP. Feed with update(), read with hex_digest() once.
/// Not thread-safe; one instance per stream.
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    void update(std::string_view data);
    /// Lower-case hex of the digest (64 characters). Finalizes; further updates are invalid.
    std::string hex_digest();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// Lower-case hex SHA-256 of a buffer.
std::string sha256_hex(std::string_view data);

/// Lower-case hex SHA-256 of a file, streamed in 1 MiB blocks.
Result<std::string> sha256_file(const std::filesystem::path& path);

} // namespace edgeship::core
