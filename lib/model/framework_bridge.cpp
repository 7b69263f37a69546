#include "model/framework_bridge.hpp"

#include "core/cancel.hpp"
#include "core/fs.hpp"
#include "core/subprocess.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace edgeship::model {

namespace fs = std::filesystem;

namespace {

// The interpreter's path: as given when it contains '/', else the first match on PATH.
Result<std::string> find_interpreter(const std::string& python, const core::Environment& env) {
    auto missing = [&](const std::string& what) {
        return unexpected(
            Error(what).hint("install Python 3 with the framework (Debian: apt-get install python3-sklearn "
                             "python3-torch), or pass --python PATH / set EDGESHIP_PYTHON"));
    };
    if (python.empty()) {
        return missing("no Python interpreter given");
    }
    if (auto found = core::find_program(python, env)) {
        return found->string();
    }
    if (python.find('/') != std::string::npos) {
        return missing("Python interpreter " + python + " not found or not executable");
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

} // namespace

Result<ScratchDir> scratch_dir(const core::Environment& env) {
    std::string base = "/tmp";
    if (const std::string* t = core::find_env(env, "TMPDIR"); t != nullptr && !t->empty()) {
        base = *t;
    }
    return core::TempDir::create(base, "edgeship-bridge-");
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
    EDGESHIP_TRY_ASSIGN(ScratchDir dir, scratch_dir(python.env));
    const fs::path script = dir.path() / "edgeship_bridge.py";
    const fs::path req = dir.path() / "request.json";
    const fs::path res = dir.path() / "result.json";
    const fs::path out = dir.path() / "stdout.txt";
    const fs::path err = dir.path() / "stderr.txt";
    EDGESHIP_TRY(core::write_file_atomic(script, bridge_script()));
    EDGESHIP_TRY(core::write_file_atomic(req, request.dump()));

    log.debug("running the Python bridge (" + std::string(mode) + ") with " + interpreter);
    const auto started = std::chrono::steady_clock::now();
    core::ChildRun run;
    run.argv = {interpreter, "-B", script.string(), std::string(mode), req.string(), res.string()};
    run.env = python.env;
    run.env["PYTHONDONTWRITEBYTECODE"] = "1"; // nothing written beside the user's model or code
    run.stdout_file = out;
    run.stderr_file = err;
    run.timeout = python.timeout;
    EDGESHIP_TRY_ASSIGN(core::ChildExit exit, core::run_child(run));
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
