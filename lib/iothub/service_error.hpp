#pragma once

// IoT Hub error responses turned into one-line errors (docs/design/iothub.md §7.1, §10).

#include "core/result.hpp"
#include "http/client.hpp"

#include <string>

namespace edgeship::iothub {

struct ServiceError {
    std::string name;        ///< "DeviceNotFound"; from the iothub-errorcode header, the body, or the code table
    std::string number;      ///< "404001" when the body carried the 6-digit code
    std::string message;     ///< the service's text
    std::string tracking_id; ///< for support requests; shown with -v only
};

/// Parses both body forms — classic `{"Message":"ErrorCode:<Name>;<text>","ExceptionMessage":"Tracking ID:…"}`
/// and JSON-in-Message `{"Message":"{\"errorCode\":404001,\"trackingId\":…,\"message\":…}"}` — plus the
/// `iothub-errorcode` header; falls back to the raw body text (first line, at most 200 characters).
ServiceError parse_service_error(const http::Response& response);

/// The error name for a 6-digit code ("404001" → "DeviceNotFound"), or "" when unknown: the numbers of
/// IotHubServiceErrorCode (Azure/azure-iot-sdk-csharp previews/v2, iothub/service/src/Exceptions/IotHubServiceErrorCode.cs).
std::string error_name_for_code(std::string_view number);

/// One-line error for a failed hub call: "GET https://h/twins/d/modules/%24edgeAgent: 404 Not Found:
/// DeviceNotFound: …". 401 (and 403 IotHubUnauthorizedAccess) exit 4 with a hint about the key and
/// the clock — with the measured skew when the response's Date header is far from `local_now`.
Error hub_error(const http::Request& request, const http::Response& response,
                std::chrono::system_clock::time_point local_now = std::chrono::system_clock::now());

} // namespace edgeship::iothub
