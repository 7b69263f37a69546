#include "model/framework_bridge.hpp"

#include "core/cancel.hpp"
#include "core/fs.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace edgeship::model {

namespace fs = std::filesystem;

namespace {

bool is_executable(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

// The interpreter's path: as given when it contains '/', else the first executable match on PATH.
Result<std::string> find_interpreter(const std::string& python, const core::Environment& env) {
    auto missing = [&](const std::string& what) {
        return unexpected(
            Error(what).hint("install Python 3 with the framework (Debian: apt-get install python3-sklearn "
                             "python3-torch), or pass --python PATH / set EDGESHIP_PYTHON"));
    };
    if (python.empty()) {
        return missing("no Python interpreter given");
    }
    if (python.find('/') != std::string::npos) {
        if (!is_executable(python)) {
            return missing("Python interpreter " + python + " not found or not executable");
        }
        return python;
    }
    std::string path_var = "/usr/local/bin:/usr/bin:/bin";
    if (const std::string* p = core::find_env(env, "PATH"); p != nullptr) {
        path_var = *p;
    }
    std::size_t start = 0;
    while (start <= path_var.size()) {
        std::size_t end = path_var.find(':', start);
        if (end == std::string::npos) {
            end = path_var.size();
        }
        std::string dir = path_var.substr(start, end - start);
        fs::path candidate = fs::path(dir.empty() ? "." : dir) / python;
        if (is_executable(candidate)) {
            return candidate.string();
        }
        start = end + 1;
    }
    return missing("Python interpreter '" + python + "' not found on PATH");
}

// The line of a child's stderr that says what went wrong: the last line of a Python traceback
// ("ValueError: …"), else the first non-empty line that is not a warning.
std::string meaningful_line(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        std::string line = text.substr(start, end - start);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
            line.pop_back();
        }
        std::size_t lead = line.find_first_not_of(" \t");
        if (lead != std::string::npos) {
            lines.push_back(line.substr(lead));
        }
        start = end + 1;
    }
    if (lines.empty()) {
        return "";
    }
    if (text.find("Traceback (most recent call last)") != std::string::npos) {
        return lines.back();
    }
    for (const auto& l : lines) {
        if (l.find("Warning:") == std::string::npos && l.find("warnings.warn") == std::string::npos) {
            return l;
        }
    }
    return lines.front();
}

std::string tail_of_file(const fs::path& p, std::size_t max_bytes) {
    auto r = core::read_file(p);
    if (!r) {
        return "";
    }
    std::string s = std::move(*r);
    if (s.size() > max_bytes) {
        s = s.substr(s.size() - max_bytes);
    }
    return s;
}

struct ChildExit {
    bool timed_out = false;
    bool exited = false;
    int code = 0;   ///< exit code when exited
    int signal = 0; ///< terminating signal otherwise
};

void kill_group(pid_t pid) {
    ::kill(-pid, SIGTERM);
    for (int i = 0; i < 100; ++i) { // up to 2 s for a clean exit, then SIGKILL
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(-pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

// Spawns argv in its own process group with stdin from /dev/null and stdout/stderr to files, and
// waits at most `timeout` (polling, so Ctrl-C is honoured).
Result<ChildExit> run_child(const std::vector<std::string>& argv, const core::Environment& env,
                            const fs::path& out, const fs::path& err, std::chrono::seconds timeout) {
    std::vector<std::string> env_strings;
    env_strings.reserve(env.size() + 1);
    for (const auto& [k, v] : env) {
        if (k != "PYTHONDONTWRITEBYTECODE") {
            env_strings.push_back(k + "=" + v);
        }
    }
    env_strings.push_back("PYTHONDONTWRITEBYTECODE=1");
    std::vector<char*> envp;
    for (auto& s : env_strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> cargv;
    for (auto& a : args) {
        cargv.push_back(a.data());
    }
    cargv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, cargv[0], &actions, &attr, cargv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        return fail("cannot run " + argv[0] + ": " + std::strerror(rc));
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::milliseconds(5);
    while (true) {
        int status = 0;
        pid_t w = ::waitpid(pid, &status, WNOHANG);
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
            return fail(std::string("waiting for the Python bridge: ") + std::strerror(errno));
        }
        if (core::CancelToken::global().cancelled()) {
            kill_group(pid);
            return unexpected(core::cancelled_error());
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            kill_group(pid);
            ChildExit e;
            e.timed_out = true;
            return e;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

} // namespace

Result<ScratchDir> ScratchDir::create(const core::Environment& env) {
    std::string base = "/tmp";
    if (const std::string* t = core::find_env(env, "TMPDIR"); t != nullptr && !t->empty()) {
        base = *t;
    }
    std::string tmpl = base + "/edgeship-bridge-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
        return fail("cannot create a temporary directory in " + base + ": " + std::strerror(errno));
    }
    return ScratchDir(tmpl);
}

ScratchDir::ScratchDir(ScratchDir&& o) noexcept : m_path(std::move(o.m_path)) {
    o.m_path.clear();
}

ScratchDir::~ScratchDir() {
    if (!m_path.empty()) {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
}

std::string resolve_python(const std::string& flag, const core::Environment& env) {
    if (!flag.empty()) {
        return flag;
    }
    if (const std::string* p = core::find_env(env, "EDGESHIP_PYTHON"); p != nullptr && !p->empty()) {
        return *p;
    }
    return "python3";
}

Result<nlohmann::json> run_bridge(const PythonOptions& python, std::string_view mode,
                                  const nlohmann::json& request, const core::Logger& log) {
    EDGESHIP_TRY_ASSIGN(std::string interpreter, find_interpreter(python.python, python.env));
    EDGESHIP_TRY_ASSIGN(ScratchDir dir, ScratchDir::create(python.env));
    const fs::path script = dir.path() / "edgeship_bridge.py";
    const fs::path req = dir.path() / "request.json";
    const fs::path res = dir.path() / "result.json";
    const fs::path out = dir.path() / "stdout.txt";
    const fs::path err = dir.path() / "stderr.txt";
    EDGESHIP_TRY(core::write_file_atomic(script, bridge_script()));
    EDGESHIP_TRY(core::write_file_atomic(req, request.dump()));

    log.debug("running the Python bridge (" + std::string(mode) + ") with " + interpreter);
    const auto started = std::chrono::steady_clock::now();
    EDGESHIP_TRY_ASSIGN(ChildExit exit, run_child({interpreter, "-B", script.string(), std::string(mode),
                                                   req.string(), res.string()},
                                                  python.env, out, err, python.timeout));
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
            .count();
    log.debug("the Python bridge (" + std::string(mode) + ") took " + std::to_string(ms) + " ms");
    const std::string err_text = tail_of_file(err, 64 * 1024);
    if (!err_text.empty()) {
        log.trace("python stderr:\n" + err_text);
    }
    if (exit.timed_out) {
        return unexpected(Error("the Python bridge (" + interpreter + ") did not finish within " +
                                std::to_string(python.timeout.count()) + " s and was stopped")
                              .hint("raise the limit with --bridge-timeout SECONDS"));
    }
    std::error_code ec;
    if (!fs::exists(res, ec)) {
        std::string why = meaningful_line(err_text);
        std::string status = exit.exited ? "exited with status " + std::to_string(exit.code)
                                         : "was killed by signal " + std::to_string(exit.signal);
        return unexpected(
            Error("the Python bridge (" + interpreter + ") " + status + (why.empty() ? "" : ": " + why))
                .hint("check that " + interpreter +
                      " is a working Python 3 (edgeship -vv shows its stderr)"));
    }
    nlohmann::json answer;
    try {
        answer = nlohmann::json::parse(tail_of_file(res, SIZE_MAX));
    } catch (const std::exception& e) {
        return fail(std::string("the Python bridge wrote an unreadable answer: ") + e.what());
    }
    if (!answer.is_object() || !answer.contains("ok")) {
        return fail("the Python bridge wrote an unexpected answer");
    }
    if (!answer.value("ok", false)) {
        std::string kind = answer.value("kind", "");
        std::string message = answer.value("message", "the Python bridge failed");
        if (kind == "internal") {
            message = "the Python bridge failed: " + message;
        }
        Error e(message, kind == "usage" ? ExitCode::usage : ExitCode::failure);
        std::string hint = answer.value("hint", "");
        if (!hint.empty()) {
            e.hint(hint);
        }
        return unexpected(std::move(e));
    }
    return answer["result"];
}

Result<PickleProbe> probe_model_file(const PythonOptions& python, const fs::path& path,
                                     const core::Logger& log) {
    std::error_code ec;
    fs::path abs = fs::absolute(path, ec);
    EDGESHIP_TRY_ASSIGN(nlohmann::json r,
                        run_bridge(python, "probe", {{"path", (ec ? path : abs).string()}}, log));
    PickleProbe p;
    try {
        p.container = r.value("container", "unknown");
        p.torchscript = r.value("torchscript", false);
        p.looks_like_state_dict = r.value("looks_like_state_dict", false);
        for (const auto& g : r.value("globals", nlohmann::json::array())) {
            p.globals.push_back(g.get<std::string>());
        }
        if (r.contains("error") && r["error"].is_string()) {
            p.error = r["error"].get<std::string>();
        }
    } catch (const std::exception& e) {
        return fail(std::string("the Python bridge's probe answer is malformed: ") + e.what());
    }
    return p;
}

std::string describe_globals(const std::vector<std::string>& globals, std::size_t max_items) {
    // Name the classes that matter (the model's), not the array and tensor plumbing every pickle has.
    static const char* plumbing[] = {"numpy.",       "builtins.",    "__builtin__.",  "copyreg.",
                                     "_codecs.",     "collections.", "torch._utils.", "joblib.numpy_pickle.",
                                     "_reconstruct", "scipy.sparse."};
    std::vector<std::string> shown;
    for (const auto& g : globals) {
        bool skip = false;
        for (const char* p : plumbing) {
            skip = skip || g.starts_with(p);
        }
        skip = skip || (g.starts_with("torch.") && g.ends_with("Storage"));
        if (!skip) {
            shown.push_back(g);
        }
    }
    if (shown.empty()) {
        shown = globals;
    }
    std::string s;
    for (std::size_t i = 0; i < shown.size(); ++i) {
        if (i == max_items) {
            s += ", …";
            break;
        }
        s += (i ? ", " : "") + shown[i];
    }
    return s;
}

Result<void> require_pickle_trust(const fs::path& path, const PickleProbe& probe,
                                  const FrameworkOptions& options) {
    if (options.trust == PickleTrust::trusted) {
        return {};
    }
    if (options.confirm && options.confirm(path, probe)) {
        return {};
    }
    std::string what =
        probe.globals.empty() ? "" : " (it would import " + describe_globals(probe.globals) + ")";
    return unexpected(Error("refusing to load " + path.string() +
                            ": it is a Python pickle, and loading a pickle runs "
                            "any code it contains" +
                            what)
                          .hint("pass --trust-pickle if you trust where the file came from"));
}

} // namespace edgeship::model
