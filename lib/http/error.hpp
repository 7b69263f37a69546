#pragma once

// HTTP failures as one-line errors that carry the method, the redacted URL, the status, the service's
// error code and whether a retry could help (crane's transport/error.go).

#include "core/result.hpp"
#include "http/client.hpp"

#include <string>

namespace edgeship::http {

struct HttpFailure {
    std::string method;
    std::string url; ///< redacted, query string removed
    long status = 0;
    std::string reason;       ///< "Not Found"; filled from status_reason() when the server sent none
    std::string service_code; ///< the service's error name, e.g. "DeviceNotFound"; may be empty
    std::string detail;       ///< the service's message text; may be empty
    bool retryable = false;
    int attempts = 1;
};

/// The standard reason phrase for `status` ("Too Many Requests"), or "" when unknown.
std::string status_reason(long status);

/// A failure for `request`/`response` with the service code and detail the caller parsed from the body.
HttpFailure make_failure(const Request& request, const Response& response, std::string service_code,
                         std::string detail);

/// "POST https://h/devices/d/applyConfigurationContent: 404 Not Found: DeviceNotFound: text
/// (gave up after 4 attempts)"; secrets in the detail are redacted.
std::string describe(const HttpFailure& failure);

/// describe() as an Error with `code`.
Error to_error(const HttpFailure& failure, ExitCode code = ExitCode::failure);

} // namespace edgeship::http
