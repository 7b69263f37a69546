#pragma once

#include "core/result.hpp"

#include <compare>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>

namespace edgeship::oci {

/// A content digest "sha256:<64 lower-case hex>" (docs/design/registry.md §3; OCI image-spec
/// descriptor.md).
/// Only sha256 is produced and verified; other algorithms are refused at parse time with a clear error.
/// Value type, cheap to copy, thread-safe to share.
class Digest {
public:
    Digest() = default;

    /// Parses "sha256:<hex>". Errors name the text and say what is wrong (missing algorithm, bad length,
    /// upper-case or non-hex characters, unsupported algorithm).
    static Result<Digest> parse(std::string_view text);
    /// From 64 lower-case hex characters (as core::Sha256::hex_digest returns). Asserts the shape.
    static Digest from_sha256_hex(std::string hex);
    /// sha256 of a buffer.
    static Digest of(std::string_view bytes);
    /// sha256 of a file, streamed (1 MiB blocks). Errors name the path.
    static Result<Digest> of_file(const std::filesystem::path& path);

    bool empty() const { return m_hex.empty(); }
    std::string_view algorithm() const { return "sha256"; }
    /// The 64 hex characters, e.g. the file name under blobs/sha256/.
    const std::string& hex() const { return m_hex; }
    /// "sha256:<hex>".
    std::string str() const { return "sha256:" + m_hex; }
    /// "sha256:" plus the first 12 hex characters, for messages.
    std::string short_str() const { return "sha256:" + m_hex.substr(0, 12); }

    friend bool operator==(const Digest&, const Digest&) = default;
    friend auto operator<=>(const Digest&, const Digest&) = default;
    friend std::ostream& operator<<(std::ostream& os, const Digest& d) { return os << d.str(); }

private:
    explicit Digest(std::string hex) : m_hex(std::move(hex)) {}
    std::string m_hex;
};

/// True if `hex` is exactly 64 lower-case hex characters.
bool is_sha256_hex(std::string_view hex);

} // namespace edgeship::oci
