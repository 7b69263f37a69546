#pragma once

#include "core/result.hpp"

#include <string>
#include <string_view>

namespace edgeship::iothub {

/// A service connection string (docs/design/iothub.md §6.1):
/// `HostName=<h>;SharedAccessKeyName=<policy>;SharedAccessKey=<base64>`.
/// `key` is a secret: never log or print it.
struct ConnectionString {
    std::string host_name;
    std::string key_name;
    std::string key;

    /// The first DNS label of host_name ("myhub" for "myhub.azure-devices.net").
    std::string hub_name() const;
};

/// Parses a service connection string: split on ';', each part on its first '=', names matched
/// case-insensitively, values stripped, parts without '=' ignored. Errors (exit 4) name every
/// missing part ("missing SharedAccessKeyName, SharedAccessKey"), reject device connection strings
/// and keys that are not base64. Error messages never contain the key.
Result<ConnectionString> parse_connection_string(std::string_view text);

} // namespace edgeship::iothub
