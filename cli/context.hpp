#pragma once

#include "cli/io.hpp"
#include "core/env.hpp"
#include "core/result.hpp"
#include "core/settings.hpp"

#include <CLI/App.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace edgeship::iothub {
class HubClient;
}
namespace edgeship::registry {
class Clients;
}

namespace edgeship::cli {

struct RegistryFlags;

/// What a command run sees: the streams, the captured environment, the run's one configuration, the
/// console and the clients built from them on first use. Built by app.cpp; commands receive it by
/// reference and never touch globals.
struct Context {
    Io& io;
    core::Environment env;
    /// flags > environment > the solution's .env (set_solution_layer, once a command loads it) > the
    /// global .env > defaults; `-v` lists the values the run read.
    core::Config config;
    Console console;
    /// Set by a command's parse callback; app.cpp runs it after global settings are resolved.
    /// Parse tests install a hook instead of the real run function, so nothing executes.
    std::function<Result<void>()> action;
    /// The command tree, for help and completion walks. Owned by app.cpp.
    const CLI::App* root = nullptr;

    Context(Io& io_, core::Environment env_) : io(io_), env(std::move(env_)), console(io_, Verbosity::normal, false) {}

    /// The run's IoT Hub client, made by iothub::connect from `config` on the first call (the command's
    /// hub flags must be in `config` by then: see open_hub); later calls return the same client.
    Result<iothub::HubClient*> hub();

    /// The run's registry clients (registry_flags.hpp registry_clients), made on the first call from
    /// `flags` with the explicit -u credential bound to `explicit_host` alone and the solution's .env in
    /// `config` under the environment; later calls return the same clients whatever they pass.
    Result<registry::Clients*> registries(const RegistryFlags& flags, const std::string& explicit_host);

private:
    std::shared_ptr<iothub::HubClient> m_hub;
    std::shared_ptr<registry::Clients> m_registries;
};

/// Loads the .env of the solution in `dir` (solution::load_env: DOTENV_FILE or .env) into ctx.config as the
/// solution layer, named by its path in `-v` origins. A missing .env is no error (the layer stays empty);
/// one that does not parse is.
Result<void> use_solution_env(Context& ctx, const std::filesystem::path& dir);

/// A command's run function, or a test's capturing hook.
template <class Options> using Runner = std::function<Result<void>(const Options&, Context&)>;

/// Wires a subcommand's parse callback: when CLI11 selects `sub`, the parsed options are bound to
/// `run` and stored as the context's action (parse → immutable options → execute, as in Bear).
template <class Options>
void bind_action(CLI::App* sub, Context& ctx, std::shared_ptr<Options> opts, Runner<Options> run) {
    sub->callback([&ctx, opts, run = std::move(run)] {
        ctx.action = [&ctx, opts, run] { return run(*opts, ctx); };
    });
}

} // namespace edgeship::cli
