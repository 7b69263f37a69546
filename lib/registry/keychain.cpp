// The keychain: an explicit credential bound to its host, every other host resolved on its own
// (registry/credentials.hpp), each host once.

#include "registry/keychain.hpp"

#include "registry/credentials.hpp"

namespace edgeship::registry {

Keychain::Keychain(core::Environment env, std::optional<ExplicitCredential> explicit_credential)
    : m_env(std::move(env)), m_explicit(std::move(explicit_credential)) {}

Result<Credential> Keychain::resolve(std::string_view host) const {
    std::lock_guard lock(m_mutex);
    if (auto it = m_resolved.find(host); it != m_resolved.end()) {
        return it->second;
    }
    Credential credential;
    if (m_explicit && same_registry(m_explicit->host, host)) {
        credential = make_credential(m_explicit->username, m_explicit->secret, "--username");
    } else {
        CredentialQuery q;
        q.registry_host = std::string(host);
        q.env = &m_env;
        EDGESHIP_TRY_ASSIGN(credential, resolve_credential(q));
    }
    m_resolved.emplace(std::string(host), credential);
    return credential;
}

core::Environment layered_environment(const core::Environment& over, const core::Environment& under) {
    core::Environment env = over;
    for (const auto& [k, v] : under) {
        env.emplace(k, v); // emplace keeps an existing key: `over` wins
    }
    return env;
}

} // namespace edgeship::registry
