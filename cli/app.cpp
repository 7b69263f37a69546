#include "cli/app.hpp"

#include "cli/build_commands.hpp"
#include "cli/commands.hpp"
#include "cli/convert_commands.hpp"
#include "cli/docgen_commands.hpp"
#include "cli/iothub_commands.hpp"
#include "cli/optimize_commands.hpp"
#include "cli/registry_commands.hpp"
#include "cli/settings_catalog.hpp"
#include "cli/run_commands.hpp"
#include "cli/ship_commands.hpp"
#include "cli/solution_commands.hpp"
#include "cli/transfer_commands.hpp"
#include "core/cancel.hpp"
#include "core/exit_code.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <unistd.h>

namespace edgeship::cli {

namespace {

constexpr const char* k_root_footer = R"(Examples:
  edgeship inspect model.onnx            describe a model (inputs, outputs, opsets, size, sha256)
  edgeship inspect model.onnx --json     the same as JSON, for scripts
  edgeship check model.onnx              exit 3 when the ONNX checker or shape inference fails
  edgeship completion bash > /etc/bash_completion.d/edgeship

Settings precedence: flags > environment (EDGESHIP_*) > the solution's .env > .env file > defaults;
-v shows the origin of each value used.

Exit codes:
  0 success   1 failure   2 usage error   3 validation failed
  4 authentication/authorization failed   130 interrupted

Documentation: docs/cli.md and one page per command in docs/.)";

using Registrar = void (*)(CLI::App&, Context&);

// The command table: the single list of commands, in help order (the pipeline's order: ship first, then
// its steps as commands, then the hub and shell helpers).
const std::vector<std::pair<const char*, Registrar>>& command_table() {
    static const std::vector<std::pair<const char*, Registrar>> table = {
        {"ship", [](CLI::App& a, Context& c) { register_ship(a, c, run_ship); }},
        {"convert", [](CLI::App& a, Context& c) { register_convert(a, c, run_convert); }},
        {"optimize", [](CLI::App& a, Context& c) { register_optimize(a, c, run_optimize); }},
        {"inspect", [](CLI::App& a, Context& c) { register_inspect(a, c, run_inspect); }},
        {"check", [](CLI::App& a, Context& c) { register_check(a, c, run_check); }},
        {"init", [](CLI::App& a, Context& c) { register_init(a, c, run_init); }},
        {"module", [](CLI::App& a, Context& c) { register_module(a, c, run_module_add); }},
        {"gen", [](CLI::App& a, Context& c) { register_gen(a, c, run_gen); }},
        {"validate", [](CLI::App& a, Context& c) { register_validate(a, c, run_validate); }},
        {"build", [](CLI::App& a, Context& c) { register_build(a, c, run_build); }},
        {"push", [](CLI::App& a, Context& c) { register_push(a, c, run_push); }},
        {"pull", [](CLI::App& a, Context& c) { register_pull(a, c, run_pull); }},
        {"run", [](CLI::App& a, Context& c) { register_run(a, c, run_run); }},
        {"export", [](CLI::App& a, Context& c) { register_export(a, c, run_export); }},
        {"login", [](CLI::App& a, Context& c) { register_login(a, c, run_login); }},
        {"logout", [](CLI::App& a, Context& c) { register_logout(a, c, run_logout); }},
        {"deploy", [](CLI::App& a, Context& c) { register_deploy(a, c, run_deploy); }},
        {"deployment", [](CLI::App& a, Context& c) { register_deployment(a, c, deployment_runners()); }},
        {"status", [](CLI::App& a, Context& c) { register_status(a, c, run_status); }},
        {"device", [](CLI::App& a, Context& c) { register_device(a, c, device_runners()); }},
        {"completion", [](CLI::App& a, Context& c) { register_completion(a, c, run_completion); }},
        {"version", [](CLI::App& a, Context& c) { register_version(a, c, run_version); }},
        {"__docgen", [](CLI::App& a, Context& c) { register_docgen(a, c, run_docgen); }}, // hidden
    };
    return table;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        prev[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

// The first word that is not a global option or its value: the command the user meant.
std::string first_command_word(const std::vector<std::string>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--") {
            return i + 1 < args.size() ? args[i + 1] : "";
        }
        if (a.starts_with("-")) {
            if ((a == "--color" || a == "--env-file") && i + 1 < args.size()) {
                ++i;
            }
            continue;
        }
        return a;
    }
    return "";
}

Error usage_error(std::string message, std::string hint) {
    return Error(std::move(message), ExitCode::usage).hint(std::move(hint));
}

// Applies global options: verbosity, colour, .env, settings layering. Runs before the command.
Result<void> apply_globals(Context& ctx, const GlobalOptions& g) {
    if (g.quiet && g.verbose > 0) {
        return unexpected(usage_error("-q and -v cannot be combined", "choose one of them"));
    }
    core::Environment dotenv;
    std::string dotenv_name = ".env";
    if (!g.env_file.empty()) {
        auto loaded = core::load_dotenv(g.env_file);
        if (!loaded) {
            return unexpected(std::move(loaded).error().context("reading --env-file"));
        }
        dotenv = std::move(*loaded);
        dotenv_name = g.env_file;
    } else if (std::error_code ec; std::filesystem::is_regular_file(".env", ec)) {
        auto loaded = core::load_dotenv(".env");
        if (!loaded) {
            return unexpected(std::move(loaded).error().context("reading .env"));
        }
        dotenv = std::move(*loaded);
    }
    std::map<std::string, std::string> flags;
    if (!g.color.empty()) {
        flags["color"] = g.color;
    }
    ctx.config = core::Config::resolve(settings_catalog(), flags, ctx.env, dotenv, dotenv_name);
    std::string color = ctx.config.get("color").value_or("auto");
    if (color != "auto" && color != "always" && color != "never") {
        const auto* v = ctx.config.find("color");
        return unexpected(usage_error("color: invalid value '" + color + "' (from " + v->source + ")",
                                      "use auto, always or never"));
    }
    Verbosity v = g.quiet ? Verbosity::quiet
                          : (g.verbose >= 2 ? Verbosity::trace : (g.verbose == 1 ? Verbosity::debug : Verbosity::normal));
    ctx.console = Console(ctx.io, v, colour_enabled(ctx.env, ctx.io.stderr_tty, color));
    return {};
}

// -v: where every value the run used came from, once the command has read what it needs.
void describe_config(Context& ctx) {
    for (const auto& line : ctx.config.describe()) {
        ctx.console.debug(line);
    }
}

std::vector<std::string> visible_command_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
        names.push_back(sub->get_name());
    }
    return names;
}

// The subcommand a parse error happened in, for "run 'edgeship X --help'".
std::string selected_path(const CLI::App& app) {
    std::string path = "edgeship";
    const CLI::App* cur = &app;
    for (;;) {
        auto subs = cur->get_subcommands();
        if (subs.empty()) {
            break;
        }
        cur = subs.front();
        path += " " + cur->get_name();
    }
    return path;
}

} // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_d = std::string::npos;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (c.starts_with(word) && !word.empty()) {
            d = std::min<std::size_t>(d, 1);
        }
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
    return best_d <= limit ? best : "";
}

std::unique_ptr<CLI::App> make_app(Context& ctx, GlobalOptions& g) { return make_app(ctx, g, {}); }

std::unique_ptr<CLI::App> make_app(Context& ctx, GlobalOptions& g, std::string_view only) {
    auto app = std::make_unique<CLI::App>(
        "edgeship: take a trained model to a running Azure IoT Edge module.", "edgeship");
    app->footer(k_root_footer);
    app->set_help_all_flag("--help-all", "Show help for every command");
    app->set_version_flag("--version", version_line(), "Print the version and exit");
    app->require_subcommand(1);
    app->fallthrough(true); // global flags may follow the command
    app->add_flag("-v,--verbose", g.verbose, "More output on stderr: -v debug lines, -vv traces (secrets redacted)");
    app->add_flag("-q,--quiet", g.quiet, "Hide progress and info lines (never results or errors)");
    app->add_option("--color", g.color, "Colour on stderr: auto, always, never (env EDGESHIP_COLOR; NO_COLOR honoured)");
    app->add_option("--env-file", g.env_file, "Read settings from this .env file (default: ./.env when present)");
    const auto& table = command_table();
    const bool one = !only.empty() && std::any_of(table.begin(), table.end(), [&](const auto& row) { return only == row.first; });
    for (const auto& [name, reg] : table) {
        if (!one || only == name) {
            reg(*app, ctx);
        }
    }
    ctx.root = app.get();
    return app;
}

namespace {

// The one command a command line runs, when registering only that command is safe: building every
// command's options was ~0.7 ms of a ~9 ms up-to-date `push` (issue 6's warm re-push target). Root help,
// --help-all, completion and the docs generator read the whole tree, so they still get every command.
std::string lazy_command(const std::vector<std::string>& args) {
    if (args.empty() || args.front() == "__complete") {
        return "";
    }
    if (std::find(args.begin(), args.end(), "--help-all") != args.end()) {
        return "";
    }
    std::string word = first_command_word(args);
    return word == "completion" || word == "__docgen" ? "" : word;
}

} // namespace

int run(const std::vector<std::string>& args, Io& io, core::Environment env) {
    Context ctx(io, std::move(env));
    GlobalOptions globals;
    // Until the settings are resolved (after parsing), usage errors are coloured by the environment alone.
    const auto* env_colour = core::find_env(ctx.env, "EDGESHIP_COLOR");
    ctx.console = Console(io, Verbosity::normal, colour_enabled(ctx.env, io.stderr_tty, env_colour ? *env_colour : "auto"));
    try {
        auto app = make_app(ctx, globals, lazy_command(args));

        if (!args.empty() && args.front() == "__complete") {
            std::vector<std::string> words(args.begin() + 1, args.end());
            for (const auto& cand : complete_words(*app, words)) {
                io.out << cand << '\n';
            }
            return to_int(ExitCode::ok);
        }

        // "did you mean": CLI11 2.1 only says the word was not expected (close_match.cpp idea).
        std::string word = first_command_word(args);
        auto known = app->get_subcommands([&word](const CLI::App* s) { return s->check_name(word); });
        if (!word.empty() && known.empty()) {
            std::string hint = "run 'edgeship --help' for the list of commands";
            if (auto m = closest_match(word, visible_command_names(*app)); !m.empty()) {
                hint = "did you mean '" + m + "'?";
            }
            ctx.console.error(usage_error("unknown command '" + word + "'", hint));
            return to_int(ExitCode::usage);
        }

        std::vector<std::string> reversed(args.rbegin(), args.rend());
        try {
            app->parse(reversed);
        } catch (const CLI::CallForHelp&) {
            io.out << app->help();
            return to_int(ExitCode::ok);
        } catch (const CLI::CallForAllHelp&) {
            io.out << app->help("", CLI::AppFormatMode::All);
            return to_int(ExitCode::ok);
        } catch (const CLI::CallForVersion& e) {
            io.out << e.what() << '\n';
            return to_int(ExitCode::ok);
        } catch (const CLI::ParseError& e) {
            // CLI11 exits 100–127 on its own; every parse error is a usage error here (exit 2).
            std::string path = selected_path(*app);
            std::string msg = e.what();
            if (args.empty() || word.empty()) {
                msg = "a command is required";
            }
            ctx.console.error(usage_error(msg, "run '" + path + " --help'"));
            return to_int(ExitCode::usage);
        }

        if (auto r = apply_globals(ctx, globals); !r) {
            ctx.console.error(r.error());
            return to_int(r.error().code());
        }
        if (!ctx.action) {
            describe_config(ctx);
            return to_int(ExitCode::ok);
        }
        Result<void> result = ctx.action();
        io.out.flush();
        describe_config(ctx);
        if (!result) {
            ctx.console.error(result.error());
            return to_int(result.error().code());
        }
        if (core::CancelToken::global().cancelled()) {
            ctx.console.error(core::cancelled_error());
            return to_int(ExitCode::interrupted);
        }
        return to_int(ExitCode::ok);
    } catch (const std::exception& e) {
        io.err << "edgeship: internal error: " << e.what() << '\n';
        return to_int(ExitCode::failure);
    } catch (...) {
        io.err << "edgeship: internal error: unknown exception\n";
        return to_int(ExitCode::failure);
    }
}

namespace {
extern "C" void on_sigint(int) {
    auto& token = core::CancelToken::global();
    if (token.cancelled()) {
        ::_exit(to_int(ExitCode::interrupted)); // second Ctrl-C: leave now
    }
    token.cancel();
}
} // namespace

int main(int argc, char** argv, char** envp) {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    Io io = real_io();
    return run(args, io, core::environment_from(envp));
}

} // namespace edgeship::cli
