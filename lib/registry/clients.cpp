// Registry clients by host over one keychain (registry/clients.hpp).

#include "registry/clients.hpp"

namespace edgeship::registry {

namespace {

Result<RegistryOptions> options_for(const ConnectionSettings& s, const std::shared_ptr<const Keychain>& keychain,
                                    const std::string& host) {
    RegistryOptions o;
    o.host = host;
    o.transport = s.transport;
    o.ca_file = s.ca_file;
    o.parallel_blobs = s.parallel_blobs;
    o.chunk_size = s.chunk_size;
    o.user_agent = s.user_agent;
    o.scratch_dir = s.scratch_dir;
    o.logger = s.logger;
    o.cancel = s.cancel;
    auto credential = keychain->resolve(host);
    if (!credential) {
        return unexpected(std::move(credential).error().context("registry " + host));
    }
    o.credential = std::move(*credential);
    if (o.credential.kind != Credential::Kind::anonymous) {
        s.logger.debug("registry " + host + ": credential for " +
                       (o.credential.username.empty() ? std::string("token") : o.credential.username) + " from " +
                       o.credential.source);
    } else {
        s.logger.debug("registry " + host + ": no credential found, anonymous");
    }
    // A layer that stays in another registry is read with that registry's own credential.
    o.options_for_host = [s, keychain](const std::string& other) { return options_for(s, keychain, other); };
    return o;
}

} // namespace

Clients::Clients(ConnectionSettings settings, std::shared_ptr<const Keychain> keychain)
    : m_settings(std::move(settings)), m_keychain(std::move(keychain)) {}

Result<RegistryOptions> Clients::options(const std::string& host) const {
    return options_for(m_settings, m_keychain, host);
}

Result<Registry*> Clients::get(const std::string& host) {
    std::lock_guard lock(m_mutex);
    if (auto it = m_connected.find(host); it != m_connected.end()) {
        return it->second.get();
    }
    EDGESHIP_TRY_ASSIGN(auto options, this->options(host));
    EDGESHIP_TRY_ASSIGN(auto reg, Registry::connect(std::move(options)));
    auto* p = reg.get();
    m_connected.emplace(host, std::move(reg));
    return p;
}

} // namespace edgeship::registry
