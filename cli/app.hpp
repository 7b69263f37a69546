#pragma once

#include "cli/context.hpp"
#include "cli/io.hpp"
#include "core/env.hpp"

#include <CLI/App.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::cli {

/// Flags every command accepts, resolved into settings before the command runs.
struct GlobalOptions {
    int verbose = 0;
    bool quiet = false;
    std::string color;    ///< empty = not given on the command line
    std::string env_file; ///< empty = ./.env when present
};

/// The process entry point: captures argv/envp, installs the SIGINT handler, runs, returns the exit
/// code. The only place exceptions are caught.
int main(int argc, char** argv, char** envp);

/// In-process entry used by main() and by tests: `args` excludes the program name.
int run(const std::vector<std::string>& args, Io& io, core::Environment env);

/// The root command with every subcommand registered with its real runner.
std::unique_ptr<CLI::App> make_app(Context& ctx, GlobalOptions& globals);
/// The same with only the command named `only` registered (every command when `only` names none):
/// what `run` builds when the command line names one command (start-up time).
std::unique_ptr<CLI::App> make_app(Context& ctx, GlobalOptions& globals, std::string_view only);

/// Edit-distance suggestion among `candidates` for a mistyped `word`, or "" when nothing is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

} // namespace edgeship::cli
