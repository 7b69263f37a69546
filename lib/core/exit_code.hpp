#pragma once

/// Process exit codes, documented in docs/cli.md and `edgeship --help`.
/// Kept in one place so commands, the CLI and the docs cannot drift (ninja's exit_status.h).
namespace edgeship {

enum class ExitCode : int {
    ok = 0,           ///< success, including --dry-run and "nothing to do"
    failure = 1,      ///< any failure not listed below
    usage = 2,        ///< bad command line (CLI11's own 100–127 codes are remapped to this)
    validation = 3,   ///< a check ran and found problems, listed on stdout
    auth = 4,         ///< authentication or authorization needed or denied
    interrupted = 130 ///< SIGINT / Ctrl-C
};

constexpr int to_int(ExitCode code) { return static_cast<int>(code); }

} // namespace edgeship
