#pragma once

// Registry credential commands (issue 6): `login` verifies a credential against a registry and stores it
// in docker config.json (or its credential helper); `logout` removes it. Shared flags: cli/registry_flags.hpp.

#include "cli/context.hpp"
#include "cli/registry_flags.hpp"
#include "core/result.hpp"

#include <CLI/App.hpp>

#include <string>

namespace edgeship::cli {

struct LoginOptions {
    std::string registry; ///< host[:port], a URL such as https://myacr.azurecr.io is accepted
    RegistryFlags flags;
    bool json = false;
};
void register_login(CLI::App& parent, Context& ctx, Runner<LoginOptions> run);
Result<void> run_login(const LoginOptions& opts, Context& ctx);

struct LogoutOptions {
    std::string registry;
    bool json = false;
};
void register_logout(CLI::App& parent, Context& ctx, Runner<LogoutOptions> run);
Result<void> run_logout(const LogoutOptions& opts, Context& ctx);

/// "myacr.azurecr.io" from "https://myacr.azurecr.io/" or "myacr.azurecr.io"; usage error when empty or
/// when it holds characters a host[:port] cannot.
Result<std::string> registry_host_argument(const std::string& text);

} // namespace edgeship::cli
