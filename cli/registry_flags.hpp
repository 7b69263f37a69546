#pragma once

// Flags shared by every registry command (login, push, pull, build --push, ...): TLS choice, CA bundle,
// --username with --password-stdin, parallelism; and the one function that turns them into
// registry::RegistryOptions (credential resolved, logger and user agent set).
// docs/design/registry.md §6, §11.8.

#include "cli/context.hpp"
#include "core/env.hpp"
#include "core/result.hpp"
#include "registry/client.hpp"
#include "registry/clients.hpp"

#include <CLI/App.hpp>

#include <memory>
#include <optional>
#include <string>

namespace edgeship::cli {

struct RegistryFlags {
    bool insecure = false;   ///< --insecure: HTTPS without certificate verification
    bool plain_http = false; ///< --plain-http: http://
    std::string ca_file;     ///< --ca-file: PEM bundle to trust
    std::string username;    ///< --username/-u
    bool password_stdin = false; ///< --password-stdin
    int parallel = 4;        ///< --parallel: blobs at once
    /// The password once read from stdin, so a command touching two registries reads stdin once.
    /// Filled by registry_options; never printed.
    mutable std::optional<std::string> stdin_password;
};

/// Adds --insecure, --plain-http, --ca-file, --username/-u, --password-stdin and --parallel to `app`.
/// There is deliberately no --password flag: secrets never go in argv (STYLE.md §7).
void add_registry_flags(CLI::App& app, RegistryFlags& flags);

/// Same, without --parallel (for commands that move no blobs, e.g. login).
void add_registry_connection_flags(CLI::App& app, RegistryFlags& flags);

/// The password from --password-stdin (read once, trailing newline removed), or nullopt without the
/// flag. Errors: empty input, --password-stdin without --username (usage, exit 2).
Result<std::optional<std::string>> stdin_password(Context& ctx, const RegistryFlags& flags);

/// The registry clients of one command run (registry/clients.hpp): transport from --insecure/--plain-http
/// (both together: usage error), --ca-file, --parallel, user agent and a logger writing through
/// ctx.console, over a registry::Keychain whose explicit credential (--username with --password-stdin)
/// belongs to `explicit_host` alone: every other host (a base image's registry, a mounted layer's source)
/// gets its own credential from CONTAINER_REGISTRY_* > docker config.json > anonymous. `extra_env` (the
/// solution .env a command loaded) is layered under the process environment.
Result<std::shared_ptr<registry::Clients>> registry_clients(Context& ctx, const RegistryFlags& flags,
                                                            const std::string& explicit_host,
                                                            const core::Environment* extra_env = nullptr);

/// registry_clients(ctx, flags, host, extra_env)->options(host): for a command that talks to one registry.
Result<registry::RegistryOptions> registry_options(Context& ctx, const RegistryFlags& flags, const std::string& host,
                                                   const core::Environment* extra_env = nullptr);

} // namespace edgeship::cli
