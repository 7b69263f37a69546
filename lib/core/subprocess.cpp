#include "core/subprocess.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace edgeship::core {

namespace fs = std::filesystem;

namespace {

bool is_executable(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

// SIGTERM to the group, SIGKILL after 2 s: a tool (npm spawns node children) gets to clean up.
void stop_group(pid_t pid) {
    ::kill(-pid, SIGTERM);
    for (int i = 0; i < 100; ++i) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            ::kill(-pid, SIGKILL); // stragglers of the group
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(-pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

} // namespace

std::optional<fs::path> find_program(const std::string& program, const Environment& env) {
    if (program.empty()) {
        return std::nullopt;
    }
    if (program.find('/') != std::string::npos) {
        return is_executable(program) ? std::optional<fs::path>(program) : std::nullopt;
    }
    std::string path_var = "/usr/local/bin:/usr/bin:/bin";
    if (const std::string* p = find_env(env, "PATH"); p != nullptr) {
        path_var = *p;
    }
    std::size_t start = 0;
    while (start <= path_var.size()) {
        std::size_t end = path_var.find(':', start);
        if (end == std::string::npos) {
            end = path_var.size();
        }
        const std::string dir = path_var.substr(start, end - start);
        fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
        if (is_executable(candidate)) {
            return candidate;
        }
        start = end + 1;
    }
    return std::nullopt;
}

Result<ChildExit> run_child(const ChildRun& run) {
    if (run.argv.empty()) {
        return fail("run_child: no program");
    }
    std::vector<std::string> env_strings;
    env_strings.reserve(run.env.size());
    for (const auto& [k, v] : run.env) {
        env_strings.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> args = run.argv;
    std::vector<char*> cargv;
    for (auto& a : args) {
        cargv.push_back(a.data());
    }
    cargv.push_back(nullptr);

    const std::string out = run.stdout_file.empty() ? std::string("/dev/null") : run.stdout_file.string();
    const std::string err = run.stderr_file.empty() ? std::string("/dev/null") : run.stderr_file.string();
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!run.cwd.empty()) {
        posix_spawn_file_actions_addchdir_np(&actions, run.cwd.c_str());
    }
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, cargv[0], &actions, &attr, cargv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        return fail("cannot run " + run.argv[0] + ": " + std::strerror(rc));
    }
    const auto deadline = std::chrono::steady_clock::now() + run.timeout;
    auto pause = std::chrono::milliseconds(2);
    while (true) {
        int status = 0;
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            ChildExit e;
            if (WIFEXITED(status)) {
                e.exited = true;
                e.code = WEXITSTATUS(status);
            } else if (WIFSIGNALED(status)) {
                e.signal = WTERMSIG(status);
            }
            return e;
        }
        if (w < 0 && errno != EINTR) {
            return fail("waiting for " + run.argv[0] + ": " + std::strerror(errno));
        }
        if (run.cancel != nullptr && run.cancel->cancelled()) {
            stop_group(pid);
            return unexpected(cancelled_error());
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            stop_group(pid);
            ChildExit e;
            e.timed_out = true;
            return e;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

std::vector<std::string> tail_lines(std::string_view text, std::size_t max_lines) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
            line.remove_suffix(1);
        }
        if (!line.empty()) {
            lines.emplace_back(line);
        }
    }
    if (lines.size() > max_lines) {
        lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(max_lines));
    }
    return lines;
}

std::vector<std::string> tail_lines(const fs::path& file, std::size_t max_lines) {
    std::ifstream in(file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return tail_lines(std::string_view(text), max_lines);
}

} // namespace edgeship::core
