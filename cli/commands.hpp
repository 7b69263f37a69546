#pragma once

// Every command: an Options struct, register_<cmd>() binding flags into it, run_<cmd>() doing the
// work through the library (CLI11's subcom_in_files pattern). register_* takes the runner so parse
// tests can capture the options without executing anything.

#include "cli/context.hpp"

#include <CLI/App.hpp>

#include <string>
#include <vector>

namespace edgeship::cli {

// version ---------------------------------------------------------------------------------------
struct VersionOptions {
    bool json = false;
};
void register_version(CLI::App& parent, Context& ctx, Runner<VersionOptions> run);
Result<void> run_version(const VersionOptions& opts, Context& ctx);
/// The one-line version text also used by --version.
std::string version_line();

// inspect ---------------------------------------------------------------------------------------
struct InspectOptions {
    std::string model;
    bool json = false;
    bool strict_shapes = false;
};
void register_inspect(CLI::App& parent, Context& ctx, Runner<InspectOptions> run);
Result<void> run_inspect(const InspectOptions& opts, Context& ctx);

// check -----------------------------------------------------------------------------------------
struct CheckOptions {
    std::string model;
    bool json = false;
    bool strict_shapes = false;
};
void register_check(CLI::App& parent, Context& ctx, Runner<CheckOptions> run);
Result<void> run_check(const CheckOptions& opts, Context& ctx);

// completion ------------------------------------------------------------------------------------
struct CompletionOptions {
    std::string shell;
};
void register_completion(CLI::App& parent, Context& ctx, Runner<CompletionOptions> run);
Result<void> run_completion(const CompletionOptions& opts, Context& ctx);

/// Hidden `edgeship __complete WORDS…` (handled in app.cpp before parsing, since every word after it
/// is data, even "--foo"): candidates for completing `words` (the words after the program name; the last one is the word
/// being completed, possibly empty) against the tree rooted at `root`.
std::vector<std::string> complete_words(const CLI::App& root, const std::vector<std::string>& words);

} // namespace edgeship::cli
