#pragma once

// SAS tokens for the IoT Hub service API (docs/design/iothub.md §6.2, test vectors in §6.3).

#include "core/result.hpp"
#include "http/url.hpp"
#include "iothub/connection_string.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace edgeship::iothub {


/// base64(HMAC-SHA256(key = base64decode(key_base64), message)).
Result<std::string> sign(std::string_view key_base64, std::string_view message);

struct SasParams {
    std::string resource_uri; ///< host, optionally with a path prefix; lower-case it for service calls
    std::string key_name;     ///< skn; empty for device-key tokens (then skn is omitted)
    std::string key;          ///< base64 SharedAccessKey (secret)
    std::int64_t expiry = 0;  ///< se: seconds since the epoch
    http::HexCase hex = http::HexCase::upper; ///< escapes in the string to sign (the hub accepts both)
};

/// The string that is signed: URL-encode(resource_uri) + "\n" + expiry.
std::string string_to_sign(const SasParams& params);

/// `SharedAccessSignature sr=<enc uri>&sig=<enc sig>&se=<expiry>[&skn=<policy>]`.
Result<std::string> make_sas_token(const SasParams& params);

/// Hands out SAS tokens for a connection string, signed for sr = lower(HostName) with a lifetime of
/// `ttl` (≤ 3600 s, docs/design/iothub.md §6.2 and §12.1) and renewed once less than a fifth of the lifetime
/// is left, so a long --wait never sends an expired token. Not thread-safe.
class TokenProvider {
public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;
    TokenProvider(ConnectionString credentials, std::chrono::seconds ttl = std::chrono::seconds(3600),
                  Clock clock = {});

    /// The current token, signing a new one when none is cached or the cached one is due for renewal.
    Result<std::string> token();
    /// Expiry (se) of the cached token; 0 before the first token.
    std::int64_t expiry() const { return m_expiry; }
    /// How many tokens were signed (renewals included).
    int tokens_signed() const { return m_signed; }
    const ConnectionString& credentials() const { return m_credentials; }

private:
    ConnectionString m_credentials;
    std::chrono::seconds m_ttl;
    Clock m_clock;
    std::string m_token;
    std::int64_t m_expiry = 0;
    int m_signed = 0;
};

} // namespace edgeship::iothub
