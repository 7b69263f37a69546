#pragma once

// Pure pieces of the distribution protocol used by the transfer code (docs/design/registry.md §2-§4,
// §11): upload Location handling, Range parsing, error bodies, retry classification, digest checks.
// No I/O; unit-tested in tests/unit/registry/client_protocol_test.cpp.

#include "core/result.hpp"
#include "http/client.hpp"
#include "oci/digest.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::registry {

/// `location` with the digest appended: `&digest=` when it already has a query, `?digest=` otherwise
/// (§2.4). The rest of the location, `_state=` included, is kept as sent.
std::string append_digest(std::string_view location, const oci::Digest& digest);

/// The last byte the registry holds from an upload `Range: 0-N` header (§2.3): N. nullopt when absent or
/// malformed. Also accepts "bytes=0-N". Note distribution answers "0-0" for both 0 and 1 stored bytes.
std::optional<std::uint64_t> parse_range_end(std::string_view range);

/// Where to resume an upload after the registry reported `range` (§11.4): N+1 for "0-N", except that
/// "0-0" (also sent for an empty session) resumes at 0. nullopt when the header is unusable.
std::optional<std::uint64_t> resume_offset(std::string_view range);

/// One entry of an `{"errors":[{"code","message","detail"}]}` body (§4).
struct RegistryErrorEntry {
    std::string code;
    std::string message;
    std::string detail; ///< JSON text of "detail" when present
};

/// Parses an error body leniently: JSON `errors[]`, else nothing (HTML and plain text happen, §4).
std::vector<RegistryErrorEntry> parse_error_body(std::string_view body);

/// A one-line summary of a failed answer: "registry answered 500 Internal Server Error: UNKNOWN: unknown
/// error" or, for non-JSON bodies, the first line of text (tags stripped, at most 200 characters).
std::string describe_answer(const http::Response& response);

/// True when `response` carries registry error code `code` (e.g. "DIGEST_INVALID").
bool has_error_code(const http::Response& response, std::string_view code);

/// Statuses after which a PATCH is recovered by asking the registry where it stands (§11.4).
bool recoverable_status(long status);

/// The retry policy for registry requests: `base` with 408, 429, 500, 502, 503 and 504 retried (§11.3-4).
http::RetryPolicy registry_retry_policy(http::RetryPolicy base);

/// Checks a `Docker-Content-Digest` answer against the digest we computed. nullptr/empty header: ok
/// (old registries). Errors: "registry answered digest X, expected Y" (never publish on a mismatch, §3.1).
Result<void> check_content_digest(const std::string* header, const oci::Digest& expected, std::string_view what);

/// True when any WWW-Authenticate value carries error="invalid_token" (token expired mid-upload, §5.5).
bool is_invalid_token(const std::vector<std::string>& www_authenticate);

/// Every value of header `name` (case-insensitive), in order.
std::vector<std::string> header_values(const http::Response& response, std::string_view name);

/// `Warning` values with code 299 (§4): the quoted text of each, to show the user, never acted on.
std::vector<std::string> warnings_299(const http::Response& response);

/// `OCI-Chunk-Min-Length` of a POST answer, if any (§2.3).
std::optional<std::uint64_t> chunk_min_length(const http::Response& response);

} // namespace edgeship::registry
