#include "imagebuild/deps_layer.hpp"

#include "core/fs.hpp"
#include "core/sha256.hpp"
#include "core/subprocess.hpp"
#include "imagebuild/layer_cache.hpp"
#include "oci/gzip.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <glob.h>
#include <stdlib.h>

namespace edgeship::imagebuild {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_deps_format = "edgeship-deps-1";

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) {
        s.erase(s.begin());
    }
    return s;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        out.push_back(trim(text.substr(start, end - start)));
        start = end + 1;
    }
    return out;
}

// The tool's configuration that changes what it installs (registry, index, find-links, platform
// overrides): part of the cache key. Only hashed; never stored or printed.
nlohmann::json tool_environment(const core::Environment& env, const std::string& tool) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : env) {
        std::string lower = k;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if ((tool == "npm" && starts_with(lower, "npm_config_")) || (tool == "pip" && starts_with(k, "PIP_"))) {
            j[k] = core::sha256_hex(v);
        }
    }
    return j;
}

Result<std::string> tool_version(const fs::path& tool, const std::string& name, const DepsLayerRequest& r,
                                 const fs::path& scratch) {
    core::ChildRun run;
    run.argv = {tool.string(), "--version"};
    run.env = r.environment;
    run.stdout_file = scratch / "version.out";
    run.stderr_file = scratch / "version.err";
    run.timeout = std::chrono::seconds(120);
    run.cancel = r.cancel;
    EDGESHIP_TRY_ASSIGN(auto exit, core::run_child(run));
    auto out = core::read_file(run.stdout_file);
    if (!exit.ok() || !out) {
        return fail(tool.string() + " --version failed" +
                    (exit.exited ? " (exit " + std::to_string(exit.code) + ")" : std::string()));
    }
    std::string v = trim(*out);
    if (name == "pip") { // "pip 23.2.1 from /usr/lib/python3/dist-packages/pip (python 3.11)"
        const auto from = v.find(" from ");
        v = v.substr(0, from);
    } else {
        v = name + " " + v;
    }
    return v;
}

// npm's prebuilt binaries for every platform (onnxruntime-node ships darwin, win32 and linux, x64 and
// arm64, ~290 MB): only the target's <os>/<cpu> goes into the layer.
Result<void> prune_platform_dirs(const fs::path& root, const std::vector<std::string>& patterns, const oci::Platform& p) {
    const std::string cpu = npm_cpu(p);
    for (const auto& pattern : patterns) {
        glob_t g{};
        const std::string full = (root / pattern).string();
        const int rc = ::glob(full.c_str(), GLOB_ONLYDIR, nullptr, &g);
        std::vector<fs::path> matches;
        if (rc == 0) {
            for (std::size_t i = 0; i < g.gl_pathc; ++i) {
                matches.emplace_back(g.gl_pathv[i]);
            }
        }
        ::globfree(&g);
        for (const auto& m : matches) {
            std::error_code ec;
            for (const auto& os_dir : fs::directory_iterator(m, ec)) {
                if (!os_dir.is_directory()) {
                    continue;
                }
                if (os_dir.path().filename() != p.os) {
                    fs::remove_all(os_dir.path(), ec);
                    continue;
                }
                std::error_code ec2;
                for (const auto& cpu_dir : fs::directory_iterator(os_dir.path(), ec2)) {
                    if (cpu_dir.is_directory() && cpu_dir.path().filename() != cpu) {
                        std::error_code ec3;
                        fs::remove_all(cpu_dir.path(), ec3);
                    }
                }
            }
            if (ec) {
                return fail(m.string() + ": " + ec.message());
            }
        }
    }
    return {};
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
    std::string s;
    for (const auto& x : v) {
        s += (s.empty() ? "" : sep) + x;
    }
    return s;
}

} // namespace

std::string npm_cpu(const oci::Platform& p) {
    if (p.architecture == "amd64") {
        return "x64";
    }
    if (p.architecture == "arm64") {
        return "arm64";
    }
    if (p.architecture == "arm") {
        return "arm";
    }
    return "";
}

std::string wheel_arch(const oci::Platform& p) {
    if (p.architecture == "amd64") {
        return "x86_64";
    }
    if (p.architecture == "arm64") {
        return "aarch64";
    }
    return "";
}

std::vector<std::string> pip_platform_tags(const std::string& pattern, const std::string& arch) {
    std::string tag = pattern;
    if (auto pos = tag.find("{arch}"); pos != std::string::npos) {
        tag.replace(pos, 6, arch);
    }
    // pip matches --platform tags exactly: it does not widen manylinux_2_36 to the older glibc tags a
    // system with glibc 2.36 also runs (PEP 600), and most wheels carry manylinux_2_17/_2_28 or the
    // legacy manylinux2014 names. So every compatible tag is listed, newest first.
    const std::string prefix = "manylinux_2_";
    if (tag.rfind(prefix, 0) != 0) {
        return {tag};
    }
    const auto end = tag.find('_', prefix.size());
    if (end == std::string::npos) {
        return {tag};
    }
    const int newest = std::atoi(tag.substr(prefix.size(), end - prefix.size()).c_str());
    std::vector<std::string> tags;
    for (int minor = newest; minor >= 17; --minor) {
        tags.push_back(prefix + std::to_string(minor) + "_" + arch);
    }
    tags.push_back("manylinux2014_" + arch);
    if (arch == "x86_64" || arch == "i686") {
        tags.push_back("manylinux2010_" + arch);
        tags.push_back("manylinux1_" + arch);
    }
    return tags;
}

ToolFailure explain_npm_failure(const std::string& stderr_text, const std::string& platform, const std::string& dir) {
    std::string code;
    std::vector<std::string> said;
    for (auto line : lines_of(stderr_text)) {
        std::string rest;
        if (starts_with(line, "npm error")) {
            rest = trim(line.substr(9));
        } else if (starts_with(line, "npm ERR!")) {
            rest = trim(line.substr(8));
        } else {
            continue;
        }
        if (rest.empty() || starts_with(rest, "A complete log of this run") || starts_with(rest, "Log files were not written")) {
            continue;
        }
        if (starts_with(rest, "code ")) {
            code = trim(rest.substr(5));
            continue;
        }
        if (starts_with(rest, "errno ") || starts_with(rest, "syscall ")) {
            continue;
        }
        said.push_back(rest);
    }
    ToolFailure f;
    f.message = said.empty() ? (code.empty() ? std::string("npm failed") : "npm failed: " + code)
                             : said.front() + (said.size() > 1 && said.front().size() < 60 ? " " + said[1] : "");
    if (code == "EUSAGE" || f.message.find("in sync") != std::string::npos) {
        f.hint = "package.json and package-lock.json disagree: run 'npm install --package-lock-only --ignore-scripts' in " + dir +
                 " and commit the lockfile";
    } else if (code == "ETARGET" || code == "E404") {
        f.hint = "the package or version does not exist in the npm registry ('npm config get registry'); fix package.json, "
                 "then refresh the lockfile in " + dir;
    } else if (code == "EBADPLATFORM") {
        f.hint = "a package has no build for " + platform + ": choose another version or drop it for this platform";
    } else if (code == "ENOTFOUND" || code == "ECONNREFUSED" || code == "EAI_AGAIN" || code == "ETIMEDOUT" ||
               code == "ECONNRESET" || f.message.find("request to") != std::string::npos) {
        f.hint = "the npm registry is unreachable ('npm config get registry'); set npm_config_registry to a mirror, or "
                 "fill npm's cache on a connected machine";
    } else {
        f.hint = "run 'npm ci --omit=dev --ignore-scripts' in " + dir + " to see npm's full output";
    }
    return f;
}

ToolFailure explain_pip_failure(const std::string& stderr_text, const std::string& platform, const std::string& python_version) {
    std::vector<std::string> errors;
    bool network = false;
    for (const auto& line : lines_of(stderr_text)) {
        if (starts_with(line, "ERROR:")) {
            errors.push_back(trim(line.substr(6)));
        }
        if (line.find("NewConnectionError") != std::string::npos || line.find("Failed to establish") != std::string::npos ||
            line.find("Name or service not known") != std::string::npos || line.find("ProxyError") != std::string::npos) {
            network = true;
        }
    }
    ToolFailure f;
    // pip says "No matching distribution found for PKG" last: the line that names the package.
    auto named = std::find_if(errors.rbegin(), errors.rend(),
                              [](const std::string& e) { return e.find("No matching distribution found for") != std::string::npos; });
    if (named != errors.rend()) {
        const std::string pkg = trim(named->substr(named->find("for ") + 4));
        f.message = "no wheel of " + pkg + " for CPython " + python_version + " on " + platform;
        f.hint = network ? "the package index is unreachable (pip's index-url / PIP_INDEX_URL); use a mirror or a wheelhouse "
                           "(PIP_FIND_LINKS=DIR PIP_NO_INDEX=1)"
                         : "the package publishes no wheel for this platform and Python (pip installs wheels only: no code "
                           "runs at build time); pick a version that has one, or add the wheel to a wheelhouse "
                           "(PIP_FIND_LINKS=DIR)";
        return f;
    }
    f.message = errors.empty() ? std::string("pip failed") : errors.back();
    f.hint = network ? "the package index is unreachable (pip's index-url / PIP_INDEX_URL)"
                     : "run the pip command edgeship ran (-vv shows it) to see pip's full output";
    return f;
}

Result<DepsLayer> build_deps_layer(const DepsLayerRequest& r) {
    const DepsRecipe& recipe = *r.recipe;
    const std::string where = "dependencies layer (" + r.runtime + ", " + r.platform.str() + ")";
    auto failed = [&](const std::string& msg, const std::string& hint) {
        return unexpected(Error(where + ": " + msg).hint(hint));
    };
    const bool npm = recipe.tool == "npm";
    const std::string tool_name = npm ? r.tools.npm : r.tools.pip;
    const auto tool = core::find_program(tool_name, r.environment);
    if (!tool) {
        return failed(recipe.tool + " not found ('" + tool_name + "' is not an executable on PATH)",
                      npm ? "install Node.js and npm (Debian: apt-get install npm), or pass --npm PATH / set EDGESHIP_NPM"
                          : "install pip (Debian: apt-get install python3-pip), or pass --pip PATH / set EDGESHIP_PIP");
    }
    const std::string cpu = npm ? npm_cpu(r.platform) : wheel_arch(r.platform);
    if (cpu.empty()) {
        return failed(recipe.tool + " has no packages for " + r.platform.architecture, "build for amd64 or arm64v8");
    }
    if (!npm && r.python_version.empty()) {
        return failed("the base image's Python version is unknown (no PYTHON_VERSION in its Env, no usr/lib/python3.X in its layers)",
                      "use a base with Python 3 (python:3.11-slim-bookworm), or set PYTHON_VERSION in its config");
    }
    // The dependency files, read once: their bytes are the cache key and what the tool installs from.
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& name : recipe.files) {
        const fs::path p = r.context / name;
        auto text = core::read_file(p);
        if (!text) {
            std::string hint = npm && name == "package-lock.json"
                                   ? "the dependencies are installed with 'npm ci' from the lockfile: run 'npm install "
                                     "--package-lock-only --ignore-scripts' in " + r.context.string() + " and commit it"
                                   : "the runtime's image.deps.files lists it; restore it from 'edgeship init'";
            return failed(p.string() + ": missing", hint);
        }
        files.emplace_back(name, std::move(*text));
    }

    EDGESHIP_TRY_ASSIGN(auto scratch, core::TempDir::create(r.scratch_parent, ".edgeship-deps-"));
    EDGESHIP_TRY_ASSIGN(auto version, tool_version(*tool, recipe.tool, r, scratch.path()));

    nlohmann::json key_doc;
    key_doc["format"] = k_deps_format;
    key_doc["runtime"] = r.runtime;
    key_doc["tool"] = version;
    key_doc["platform"] = r.platform.str();
    key_doc["to"] = recipe.to;
    key_doc["platform_dirs"] = recipe.platform_dirs;
    key_doc["pip_platform"] = recipe.pip_platform;
    key_doc["python"] = r.python_version;
    key_doc["env"] = tool_environment(r.environment, recipe.tool);
    key_doc["epoch"] = oci::layer_epoch(r.layer);
    key_doc["gzip"] = {std::string(oci::to_string(r.layer.blob.gzip.engine)), r.layer.blob.gzip.level};
    for (const auto& [name, text] : files) {
        key_doc["files"][name] = core::sha256_hex(text);
    }
    DepsLayer out;
    out.key = core::sha256_hex(key_doc.dump());
    out.tool_version = version;
    const fs::path cache_blobs = r.cache_dir.empty() ? fs::path() : r.cache_dir / "blobs";
    if (!r.cache_dir.empty()) {
        if (auto hit = load_cached_layer(r.cache_dir, out.key)) {
            const fs::path path = cache_blobs / hit->digest.hex();
            std::error_code ec;
            const auto size = fs::file_size(path, ec);
            if (!ec && size == hit->size) {
                hit->path = path;
                out.blob = std::move(*hit);
                out.from_cache = true;
                r.log.debug(where + ": " + out.blob.digest.short_str() + " from the cache (" + version + ")");
                return out;
            }
        }
    }

    for (const auto& [name, text] : files) {
        EDGESHIP_TRY(core::write_file_atomic(scratch.path() / fs::path(name).filename(), text));
    }
    core::ChildRun run;
    run.env = r.environment;
    run.cwd = scratch.path();
    run.stdout_file = scratch.path() / "tool.out";
    run.stderr_file = scratch.path() / "tool.err";
    run.timeout = std::chrono::seconds(1800);
    run.cancel = r.cancel;
    fs::path installed;
    if (npm) {
        run.argv = {tool->string(), "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund",
                    "--os=" + r.platform.os, "--cpu=" + cpu, "--loglevel=error"};
        run.env["npm_config_update_notifier"] = "false";
        installed = scratch.path() / "node_modules";
    } else {
        installed = scratch.path() / "site";
        run.argv = {tool->string(), "install", "--target", installed.string()};
        for (const auto& tag : pip_platform_tags(recipe.pip_platform, cpu)) {
            run.argv.insert(run.argv.end(), {"--platform", tag});
        }
        run.argv.insert(run.argv.end(), {"--python-version", r.python_version, "--implementation", "cp", "--only-binary=:all:",
                                         "--no-compile", "--disable-pip-version-check", "--no-warn-script-location",
                                         "--quiet", "-r", (scratch.path() / fs::path(recipe.files.front()).filename()).string()});
        run.env["PIP_NO_INPUT"] = "1";
    }
    r.log.debug(where + ": running " + joined(run.argv, " ") + " in " + scratch.path().string());
    EDGESHIP_TRY_ASSIGN(auto exit, core::run_child(run));
    if (!exit.ok()) {
        const std::string err = core::read_file(run.stderr_file).value_or("");
        const ToolFailure f = npm ? explain_npm_failure(err, r.platform.str(), r.context.string())
                                  : explain_pip_failure(err, r.platform.str(), r.python_version);
        const std::string how = exit.timed_out ? " (timed out)"
                              : exit.signal != 0 ? " (killed by signal " + std::to_string(exit.signal) + ")"
                                                 : "";
        return failed((npm ? "npm ci" : "pip install") + how + ": " + f.message, f.hint);
    }
    std::error_code ec;
    if (!fs::is_directory(installed, ec)) {
        fs::create_directories(installed, ec); // nothing to install (no dependencies): an empty directory
    }
    if (npm) {
        EDGESHIP_TRY(prune_platform_dirs(installed, recipe.platform_dirs, r.platform));
    }
    EDGESHIP_TRY_ASSIGN(auto entries, oci::entries_from_directory(installed, recipe.to));
    const fs::path out_dir = r.cache_dir.empty() ? r.blobs_dir : cache_blobs;
    fs::create_directories(out_dir, ec);
    auto blob = oci::build_layer(std::move(entries), out_dir, r.layer);
    if (!blob) {
        return unexpected(std::move(blob).error().context(where));
    }
    out.blob = std::move(*blob);
    if (!r.cache_dir.empty()) {
        if (auto stored = store_cached_layer(r.cache_dir, out.key, out.blob); !stored) {
            r.log.debug(where + ": cache: " + stored.error().message());
        }
    }
    out.scratch.emplace(std::move(scratch));
    return out;
}

} // namespace edgeship::imagebuild
