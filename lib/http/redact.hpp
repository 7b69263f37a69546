#pragma once

// Redaction for everything the client logs or puts in errors: secrets never reach -vv traces
// (STYLE.md §7: Authorization headers, tokens and SAS sig= values are always redacted).

#include <string>
#include <string_view>

namespace edgeship::http {

inline constexpr std::string_view k_redacted = "<redacted>";

/// True for headers whose whole value is a credential (Authorization, Proxy-Authorization, Cookie,
/// Set-Cookie, X-Registry-Auth, and names containing "token", "secret", "password" or "key").
bool is_secret_header(std::string_view name);

/// The value to show for a header. Authorization keeps its scheme and, for SAS tokens, the
/// non-secret fields: `SharedAccessSignature sr=hub&sig=<redacted>&se=1700000000&skn=iothubowner`.
std::string redact_header_value(std::string_view name, std::string_view value);

/// Replaces the values of secret-looking parameters (sig, signature, token, access_token, code,
/// password, secret, key, sharedaccesskey) in any text — URLs, query strings, connection strings,
/// SAS tokens — and user:password@ in URLs.
std::string redact_text(std::string_view text);

} // namespace edgeship::http
