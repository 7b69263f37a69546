// Shared registry flags and the RegistryOptions every registry command builds from them
// (docs/design/registry.md §6 credentials, §11.8 transport security).

#include "cli/registry_flags.hpp"

#include "edgeship/version_info.hpp"
#include "registry/keychain.hpp"

#include <iterator>

namespace edgeship::cli {

void add_registry_connection_flags(CLI::App& app, RegistryFlags& f) {
    app.add_flag("--insecure", f.insecure,
                 "Use HTTPS without verifying the registry's certificate (only for test registries)");
    app.add_flag("--plain-http", f.plain_http, "Talk plain http:// to the registry (only for local test registries)");
    app.add_option("--ca-file", f.ca_file, "Trust this PEM CA bundle for the registry's TLS certificate")
        ->check(CLI::ExistingFile);
    app.add_option("-u,--username", f.username,
                   "Registry user name; the password is read from stdin with --password-stdin (there is no "
                   "--password flag: secrets never go in argv)");
    app.add_flag("--password-stdin", f.password_stdin,
                 "Read the password (or token) for --username from stdin, e.g. `az acr credential show ... | "
                 "edgeship login ... --password-stdin`");
}

void add_registry_flags(CLI::App& app, RegistryFlags& f) {
    add_registry_connection_flags(app, f);
    app.add_option("--parallel", f.parallel, "Blobs transferred at once (default 4)")->check(CLI::Range(1, 16));
}

Result<std::optional<std::string>> stdin_password(Context& ctx, const RegistryFlags& flags) {
    if (!flags.password_stdin) {
        if (!flags.username.empty()) {
            return unexpected(Error("--username needs --password-stdin (there is no --password flag)", ExitCode::usage)
                                  .hint("echo \"$PASSWORD\" | edgeship ... -u USER --password-stdin"));
        }
        return std::optional<std::string>{};
    }
    if (flags.username.empty()) {
        return unexpected(Error("--password-stdin needs --username", ExitCode::usage));
    }
    if (!flags.stdin_password) {
        std::string text(std::istreambuf_iterator<char>(ctx.io.in), std::istreambuf_iterator<char>{});
        // `docker login --password-stdin` strips the trailing newline that echo adds (and a CR from Windows pipes).
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
            text.pop_back();
        }
        if (text.empty()) {
            return unexpected(Error("--password-stdin: stdin was empty", ExitCode::usage));
        }
        flags.stdin_password = std::move(text);
    }
    return std::optional<std::string>(*flags.stdin_password);
}

Result<std::shared_ptr<registry::Clients>> registry_clients(Context& ctx, const RegistryFlags& flags,
                                                            const std::string& explicit_host,
                                                            const core::Environment* extra_env) {
    if (flags.insecure && flags.plain_http) {
        return unexpected(Error("--insecure and --plain-http exclude each other", ExitCode::usage)
                              .hint("--insecure keeps HTTPS without verification; --plain-http uses http://"));
    }
    if (!flags.ca_file.empty() && flags.plain_http) {
        return unexpected(Error("--ca-file has no effect with --plain-http", ExitCode::usage));
    }
    registry::ConnectionSettings s;
    s.transport = flags.plain_http ? registry::Transport::plain_http
                  : flags.insecure ? registry::Transport::https_insecure
                                   : registry::Transport::https;
    s.ca_file = flags.ca_file;
    s.parallel_blobs = flags.parallel;
    s.user_agent = http::default_user_agent(build_info::k_version);
    s.logger = ctx.console.logger();
    const auto* tmpdir = core::find_env(ctx.env, "TMPDIR");
    s.scratch_dir = tmpdir != nullptr && !tmpdir->empty() ? *tmpdir : "/tmp";

    EDGESHIP_TRY_ASSIGN(auto password, stdin_password(ctx, flags));
    std::optional<registry::ExplicitCredential> explicit_credential;
    if (password) {
        explicit_credential = registry::ExplicitCredential{explicit_host, flags.username, std::move(*password)};
    }
    static const core::Environment k_none;
    auto keychain = std::make_shared<const registry::Keychain>(
        registry::layered_environment(ctx.env, extra_env != nullptr ? *extra_env : k_none),
        std::move(explicit_credential));
    return std::make_shared<registry::Clients>(std::move(s), std::move(keychain));
}

Result<registry::RegistryOptions> registry_options(Context& ctx, const RegistryFlags& flags, const std::string& host,
                                                   const core::Environment* extra_env) {
    EDGESHIP_TRY_ASSIGN(auto clients, registry_clients(ctx, flags, host, extra_env));
    return clients->options(host);
}

} // namespace edgeship::cli
