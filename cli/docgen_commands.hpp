#pragma once

// Documentation generated from the live command tree (issue 8): man pages and the Markdown command
// reference. Like `__complete`, everything is read from the CLI11 App that make_app() builds, so a
// command added to command_table() gets its pages with no per-command work and the docs cannot drift.

#include "cli/context.hpp"

#include <CLI/App.hpp>

#include <string>
#include <vector>

namespace edgeship::cli {

/// One generated file: a name relative to the output directory and its full content.
struct DocPage {
    std::string file_name;
    std::string content;
};

/// Man pages (roff, man(7) macros, ASCII only): `edgeship.1` for the root and `edgeship-<path>.1` for
/// every visible command and subcommand (hidden commands, whose group is empty, are skipped).
/// `version` goes in the page footer; no date, so the output is reproducible.
std::vector<DocPage> man_pages(const CLI::App& root, const std::string& version);

/// The Markdown command reference: one `<command>.md` per top-level command (its subcommands as
/// sections) and a `README.md` index. Contains no version, so it only changes when the tree does.
std::vector<DocPage> reference_pages(const CLI::App& root);

/// Full paths ("edgeship module add") of visible commands whose help footer has no "Examples:"
/// section listing at least one `edgeship` command line. Empty when every command is documented.
std::vector<std::string> commands_without_examples(const CLI::App& root);

/// Full paths of every visible command and subcommand, depth first in help order.
std::vector<std::string> command_paths(const CLI::App& root);

// __docgen (hidden) ------------------------------------------------------------------------------
struct DocgenOptions {
    std::string format;     ///< "man" or "markdown"
    std::string output_dir; ///< created when missing; existing files with other names are left alone
};
void register_docgen(CLI::App& parent, Context& ctx, Runner<DocgenOptions> run);
Result<void> run_docgen(const DocgenOptions& opts, Context& ctx);

} // namespace edgeship::cli
