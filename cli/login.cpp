// `edgeship login REGISTRY`: verify a credential with an authenticated GET /v2/, then store it in docker
// config.json or its credential helper (docs/design/registry.md §5, §6). Nothing is stored when the
// registry or its token server refuses it (exit 4).

#include "cli/registry_commands.hpp"

#include "registry/credentials.hpp"
#include "registry/docker_config.hpp"
#include "registry/login.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace edgeship::cli {

Result<std::string> registry_host_argument(const std::string& text) {
    std::string host = registry::normalize_registry_key(text);
    bool ok = !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
    });
    if (!ok) {
        return unexpected(Error("REGISTRY '" + text + "': expected a registry host[:port], e.g. myacr.azurecr.io",
                                ExitCode::usage));
    }
    return host;
}

void register_login(CLI::App& parent, Context& ctx, Runner<LoginOptions> run) {
    auto opts = std::make_shared<LoginOptions>();
    auto* sub = parent.add_subcommand(
        "login", "Check a registry credential and store it in docker config.json (or its credential helper)");
    sub->add_option("REGISTRY", opts->registry, "Registry host[:port], e.g. myacr.azurecr.io or localhost:5000")
        ->required();
    add_registry_connection_flags(*sub, opts->flags);
    sub->add_flag("--json", opts->json, "Print {registry, username, scheme, stored_in} as JSON on stdout");
    sub->footer(R"(The password is read from stdin (--password-stdin); there is no --password flag, so it never
appears in the process list or shell history. Without -u, the credential already known for REGISTRY
(CONTAINER_REGISTRY_* environment, docker config.json) is checked and nothing is written.
Credentials are stored where docker keeps them: $DOCKER_CONFIG/config.json or ~/.docker/config.json
(mode 0600), or the credsStore/credHelpers helper configured there. See docs/registry-auth.md.

Examples:
  az acr credential show -n myacr --query "passwords[0].value" -o tsv | \
      edgeship login myacr.azurecr.io -u myacr --password-stdin
  az acr login -n myacr --expose-token --query accessToken -o tsv | \
      edgeship login myacr.azurecr.io -u 00000000-0000-0000-0000-000000000000 --password-stdin
  printf '%s' "$PASS" | edgeship login localhost:5000 --plain-http -u testuser --password-stdin

Exit codes: 0 stored, 2 usage, 4 credential refused (nothing stored), 1 registry unreachable.)");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_login(const LoginOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(auto host, registry_host_argument(opts.registry));
    auto options = registry_options(ctx, opts.flags, host);
    if (!options) {
        return unexpected(std::move(options).error().context("login " + host));
    }
    const auto& cred = options->credential;
    if (cred.kind == registry::Credential::Kind::anonymous) {
        return unexpected(Error("login " + host + ": no credential given", ExitCode::usage)
                              .hint("echo \"$PASSWORD\" | edgeship login " + host + " -u USER --password-stdin"));
    }
    if (cred.kind == registry::Credential::Kind::registry_token) {
        // A registrytoken in config.json is already a stored Bearer token; verifying it is all login can do.
        ctx.console.debug("login " + host + ": checking the registry token from " + cred.source);
    }
    auto check = registry::verify_login(*options);
    if (!check) {
        return unexpected(std::move(check).error());
    }
    if (!check->authenticated) {
        ctx.console.warning("registry " + host + " did not ask for credentials; storing them anyway");
    }
    // Store only what the user typed or put in the environment; config.json/helper credentials are stored already.
    bool from_user = cred.source == "--username" || cred.source.rfind("environment ", 0) == 0;
    std::string stored_in;
    if (from_user) {
        auto stored = registry::store_credential(ctx.env, host, cred.username, cred.secret);
        if (!stored) {
            return unexpected(std::move(stored).error().context("login " + host + ": storing the credential"));
        }
        stored_in = stored->location;
    } else {
        stored_in = cred.source;
    }
    std::string user = cred.kind == registry::Credential::Kind::identity_token && cred.username == "<token>"
                           ? std::string("identity token")
                           : cred.username;
    if (opts.json) {
        nlohmann::json j = {{"registry", host},
                            {"username", user},
                            {"scheme", check->scheme},
                            {"authenticated", check->authenticated},
                            {"stored", from_user},
                            {"stored_in", stored_in}};
        ctx.io.out << j.dump(2) << '\n';
    }
    ctx.console.info("login succeeded: " + user + " @ " + host + (from_user ? " (stored in " : " (already in ") +
                     stored_in + ")");
    return {};
}

} // namespace edgeship::cli
