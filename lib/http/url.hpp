#pragma once

// URL building: percent-encoding of path segments and query values (RFC 3986).

#include "core/result.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeship::http {

enum class HexCase { upper, lower };

/// Percent-encodes everything except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~), so a
/// path segment such as `$edgeAgent` becomes `%24edgeAgent` and `a/b` cannot escape its segment.
std::string percent_encode(std::string_view text, HexCase hex = HexCase::upper);

/// Decodes %XX escapes (either case); '+' is kept. Malformed escapes are kept verbatim.
std::string percent_decode(std::string_view text);

/// `base` + "/" + encoded segments + "?" + encoded query, e.g.
/// build_url("https://h", {"twins", "d 1", "modules", "$edgeAgent"}, {{"api-version", "2021-04-12"}})
/// = "https://h/twins/d%201/modules/%24edgeAgent?api-version=2021-04-12". `base` must not end in "/".
std::string build_url(std::string_view base, const std::vector<std::string>& segments,
                      const std::vector<std::pair<std::string, std::string>>& query = {});

/// The URL without its query string and fragment, for short error messages.
std::string strip_query(std::string_view url);

/// "scheme://host[:port]" of an absolute URL (lower-cased scheme and host, default port made explicit:
/// https → 443, http → 80), so two URLs on the same origin compare equal. Empty when not absolute.
std::string url_origin(std::string_view url);

/// Resolves a Location header against the URL of the request that returned it (RFC 3986 §5.2 for the
/// forms registries use): absolute ("https://h/p?q"), scheme-relative ("//h/p"), absolute-path
/// ("/v2/x?_state=…"), or relative to the base's directory. The query is kept as sent.
std::string resolve_url(std::string_view base, std::string_view location);

/// Splits "https://host:port/path" into scheme ("https") and the rest; empty scheme when none.
std::string url_scheme(std::string_view url);

/// The host of an absolute URL, lower-cased, without userinfo, port or IPv6 brackets ("::1" for
/// "http://[::1]:5000/v2/"). Empty when the URL is not absolute.
std::string url_host(std::string_view url);

/// True for hosts that name this machine or a non-public network: "localhost" (and "*.localhost"), and IP
/// literals that are loopback, unspecified, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
/// (169.254/16 — where cloud metadata services answer —, fe80::/10) or IPv4-mapped forms of those. Only
/// literals are judged: a DNS name is not resolved (a resolved answer could change before the request).
bool is_non_public_host(std::string_view host);

/// resolve_url() plus the SSRF guard of docs/design/registry.md §4 and §11.8 (as go-containerregistry
/// does for upload Locations): a Location or redirect that leaves a public host for *another* host that is
/// non-public (is_non_public_host) is refused. A registry that is itself on loopback or a private network
/// may hand out sibling addresses there. `what` names the request in the error.
Result<std::string> resolve_location(std::string_view base, std::string_view location, std::string_view what);

} // namespace edgeship::http
