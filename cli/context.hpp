#pragma once

#include "cli/io.hpp"
#include "core/env.hpp"
#include "core/result.hpp"
#include "core/settings.hpp"

#include <CLI/App.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace edgeship::cli {

/// What a command run sees: the streams, the captured environment, the layered settings and the
/// console. Built by app.cpp; commands receive it by reference and never touch globals.
struct Context {
    Io& io;
    core::Environment env;
    core::Settings settings;
    Console console;
    /// Set by a command's parse callback; app.cpp runs it after global settings are resolved.
    /// Parse tests install a hook instead of the real run function, so nothing executes.
    std::function<Result<void>()> action;
    /// The command tree, for help and completion walks. Owned by app.cpp.
    const CLI::App* root = nullptr;

    Context(Io& io_, core::Environment env_) : io(io_), env(std::move(env_)), console(io_, Verbosity::normal, false) {}
};

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
