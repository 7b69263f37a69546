// `edgeship logout REGISTRY`: remove the stored credential (credential helper `erase` and the config.json
// `auths` entry), keeping every other key of config.json (docs/design/registry.md §6).

#include "cli/registry_commands.hpp"

#include "registry/docker_config.hpp"

#include <nlohmann/json.hpp>

namespace edgeship::cli {

void register_logout(CLI::App& parent, Context& ctx, Runner<LogoutOptions> run) {
    auto opts = std::make_shared<LogoutOptions>();
    auto* sub = parent.add_subcommand("logout", "Remove a registry credential stored by login (or docker login)");
    sub->add_option("REGISTRY", opts->registry, "Registry host[:port]")->required();
    sub->add_flag("--json", opts->json, "Print {registry, removed} as JSON on stdout");
    sub->footer(R"(Edits $DOCKER_CONFIG/config.json or ~/.docker/config.json atomically (mode 0600), and asks the
configured credential helper to erase its entry. Logging out of a registry with no stored credential
is not an error.

Examples:
  edgeship logout myacr.azurecr.io
  edgeship logout localhost:5000 --json)");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_logout(const LogoutOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(auto host, registry_host_argument(opts.registry));
    auto removed = registry::erase_credential(ctx.env, host);
    if (!removed) {
        return unexpected(std::move(removed).error().context("logout " + host));
    }
    if (opts.json) {
        ctx.io.out << nlohmann::json{{"registry", host}, {"removed", *removed}}.dump(2) << '\n';
    }
    ctx.console.info(*removed ? "removed the credential for " + host : "no credential stored for " + host);
    return {};
}

} // namespace edgeship::cli
