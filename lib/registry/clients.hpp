#pragma once

// Registry clients by host, built from one keychain and one set of connection settings
// (go-containerregistry's remote options + keychain). Every command that talks to registries (push,
// pull, login, build, export, ship) asks this cache for a host's client: the credential comes from the
// keychain, so a layer or base that lives in another registry is always read with that registry's own
// credential, and each host is connected (and authenticated) once per run.

#include "core/cancel.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "http/retry.hpp"
#include "registry/client.hpp"
#include "registry/keychain.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace edgeship::registry {

/// Everything about reaching a registry except the host and the credential.
struct ConnectionSettings {
    Transport transport = Transport::https;
    std::string ca_file;
    int parallel_blobs = 4;
    std::uint64_t chunk_size = 0;
    std::string user_agent;
    std::string scratch_dir;
    core::Logger logger;
    const core::CancelToken* cancel = &core::CancelToken::global();
};

class Clients {
public:
    Clients(ConnectionSettings settings, std::shared_ptr<const Keychain> keychain);
    Clients(const Clients&) = delete;
    Clients& operator=(const Clients&) = delete;

    /// Options for `host`: the settings, the keychain's credential for that host, and
    /// options_for_host answering for any other host the same way.
    Result<RegistryOptions> options(const std::string& host) const;

    /// The client for `host`, connected on first use and kept for the life of this cache. Thread-safe.
    Result<Registry*> get(const std::string& host);

    const Keychain& keychain() const { return *m_keychain; }
    const ConnectionSettings& settings() const { return m_settings; }

private:
    ConnectionSettings m_settings;
    std::shared_ptr<const Keychain> m_keychain;
    std::mutex m_mutex;
    std::map<std::string, std::unique_ptr<Registry>> m_connected;
};

} // namespace edgeship::registry
