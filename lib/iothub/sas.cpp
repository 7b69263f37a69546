#include "iothub/sas.hpp"

#include "core/base64.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace edgeship::iothub {

Result<std::string> sign(std::string_view key_base64, std::string_view message) {
    auto key = core::base64_decode(key_base64);
    if (!key || key->empty()) {
        return fail("SharedAccessKey is not valid base64", ExitCode::auth);
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len) == nullptr) {
        return fail("HMAC-SHA256 failed (OpenSSL)");
    }
    return core::base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

std::string string_to_sign(const SasParams& params) {
    return http::percent_encode(params.resource_uri, params.hex) + "\n" + std::to_string(params.expiry);
}

Result<std::string> make_sas_token(const SasParams& params) {
    EDGESHIP_TRY_ASSIGN(std::string sig, sign(params.key, string_to_sign(params)));
    std::string token = "SharedAccessSignature sr=" + http::percent_encode(params.resource_uri) +
                        "&sig=" + http::percent_encode(sig) + "&se=" + std::to_string(params.expiry);
    if (!params.key_name.empty()) {
        token += "&skn=" + http::percent_encode(params.key_name);
    }
    return token;
}

TokenProvider::TokenProvider(ConnectionString credentials, std::chrono::seconds ttl, Clock clock)
    : m_credentials(std::move(credentials)), m_ttl(std::min(ttl, std::chrono::seconds(3600))),
      m_clock(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })) {}

Result<std::string> TokenProvider::token() {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(m_clock().time_since_epoch()).count();
    std::int64_t renew_margin = std::max<std::int64_t>(m_ttl.count() / 5, 1);
    if (m_token.empty() || now + renew_margin >= m_expiry) {
        SasParams p;
        std::string host = m_credentials.host_name;
        std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
        p.resource_uri = host; // docs/design/iothub.md §6.2: sr = lower(HostName) for service calls
        p.key_name = m_credentials.key_name;
        p.key = m_credentials.key;
        p.expiry = now + m_ttl.count();
        EDGESHIP_TRY_ASSIGN(m_token, make_sas_token(p));
        m_expiry = p.expiry;
        ++m_signed;
    }
    return m_token;
}

} // namespace edgeship::iothub
