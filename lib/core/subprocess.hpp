#pragma once
// Running a tool the user has (python, npm, pip): found on the PATH of the environment the CLI captured
// (the library never calls getenv), spawned in its own process group with stdin from /dev/null and
// stdout/stderr into files, waited for with a timeout while honouring Ctrl-C (the whole group is
// stopped: SIGTERM, then SIGKILL after a grace period).

#include "core/cancel.hpp"
#include "core/env.hpp"
#include "core/result.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::core {

/// `program` as given when it contains '/', else the first executable regular file named so on
/// env's PATH (default /usr/local/bin:/usr/bin:/bin). nullopt when there is none.
std::optional<std::filesystem::path> find_program(const std::string& program, const Environment& env);

struct ChildRun {
    std::vector<std::string> argv;          ///< argv[0] is a path (see find_program)
    Environment env;                        ///< the child's whole environment
    std::filesystem::path cwd;              ///< empty: the caller's
    std::filesystem::path stdout_file;      ///< created 0600; empty: /dev/null
    std::filesystem::path stderr_file;      ///< created 0600; empty: /dev/null
    std::chrono::seconds timeout{3600};
    const CancelToken* cancel = &CancelToken::global();
};

struct ChildExit {
    bool exited = false; ///< normal exit; `code` is its status
    int code = -1;
    int signal = 0;      ///< killed by this signal
    bool timed_out = false;
    bool ok() const { return exited && code == 0; }
};

/// Runs and waits. Errors: cannot spawn (exit 1, naming argv[0]), cancelled (130). A non-zero exit,
/// a signal or the timeout are results, not errors: the caller names the step.
Result<ChildExit> run_child(const ChildRun& run);

/// The last `max_lines` non-empty lines of a text file (a child's stderr), for error messages.
std::vector<std::string> tail_lines(const std::filesystem::path& file, std::size_t max_lines);
/// The same for text already in memory (a container's log).
std::vector<std::string> tail_lines(std::string_view text, std::size_t max_lines);

} // namespace edgeship::core
