#include "iothub/connection_string.hpp"

#include "core/base64.hpp"

#include "iothub/sas.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace edgeship::iothub {

namespace {

std::string strip(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

Unexpected<Error> cs_error(std::string msg) {
    return unexpected(Error("connection string: " + std::move(msg), ExitCode::auth)
                          .hint("expected HostName=<hub>.azure-devices.net;SharedAccessKeyName=<policy>;"
                                "SharedAccessKey=<key> (Azure portal: IoT Hub > Shared access policies)"));
}

} // namespace

std::string ConnectionString::hub_name() const { return host_name.substr(0, host_name.find('.')); }

Result<ConnectionString> parse_connection_string(std::string_view text) {
    std::string trimmed = strip(text);
    // Quotes around the whole value are a common copy-paste leftover.
    if (trimmed.size() >= 2 && (trimmed.front() == '"' || trimmed.front() == '\'') && trimmed.back() == trimmed.front()) {
        trimmed = strip(std::string_view(trimmed).substr(1, trimmed.size() - 2));
    }
    if (trimmed.empty()) {
        return cs_error("empty");
    }
    ConnectionString cs;
    bool has_device = false;
    std::string_view rest = trimmed;
    while (!rest.empty()) {
        auto semi = rest.find(';');
        std::string_view part = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        auto eq = part.find('=');
        if (eq == std::string_view::npos) {
            continue; // docs/design/iothub.md §6.1: parts without '=' are ignored
        }
        std::string name = lower(strip(part.substr(0, eq)));
        std::string value = strip(part.substr(eq + 1));
        if (name == "hostname") {
            cs.host_name = value;
        } else if (name == "sharedaccesskeyname") {
            cs.key_name = value;
        } else if (name == "sharedaccesskey") {
            cs.key = value;
        } else if (name == "deviceid" || name == "moduleid") {
            has_device = true;
        }
    }
    if (has_device && cs.key_name.empty()) {
        return cs_error("this is a device connection string (it has DeviceId); deployments need a service "
                        "policy connection string such as iothubowner's");
    }
    std::vector<std::string> missing;
    if (cs.host_name.empty()) {
        missing.emplace_back("HostName");
    }
    if (cs.key_name.empty()) {
        missing.emplace_back("SharedAccessKeyName");
    }
    if (cs.key.empty()) {
        missing.emplace_back("SharedAccessKey");
    }
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) {
            list += (list.empty() ? "" : ", ") + m;
        }
        return cs_error("missing " + list);
    }
    for (char c : cs.host_name) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '-') {
            return cs_error("HostName '" + cs.host_name + "' is not a host name");
        }
    }
    if (auto key = core::base64_decode(cs.key); !key || key->empty()) {
        return cs_error("SharedAccessKey is not valid base64");
    }
    return cs;
}

} // namespace edgeship::iothub
