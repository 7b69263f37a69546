// Credential resolution and the docker-credential-* helper protocol (docs/design/registry.md §5.7, §6).

#include "registry/credentials.hpp"

#include "core/subprocess.hpp"

#include "registry/keychain.hpp"

#include "registry/docker_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <csignal>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace edgeship::registry {

namespace {

constexpr std::string_view k_docker_hub_key = "https://index.docker.io/v1/";

// ---- running a helper --------------------------------------------------------------------------

struct ProcessOutput {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// The helper's path from the PATH of `env` (not our own): tests put a fake helper on a PATH they pass in.
std::optional<std::string> find_on_path(const std::string& name, const core::Environment* env) {
    auto found = core::find_program(name, env != nullptr ? *env : core::Environment{});
    return found ? std::optional<std::string>(found->string()) : std::nullopt;
}

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return m_fd; }
    void reset() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_fd = -1;
    }
    int m_fd = -1;
};

Result<ProcessOutput> run_helper(const std::string& program, const std::string& action, const std::string& input,
                                 const HelperOptions& options) {
    auto exe = find_on_path(program, options.env);
    if (!exe) {
        return fail(program + " not found on PATH (configured in docker config.json)", ExitCode::auth);
    }
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
        return fail(program + ": pipe: " + std::strerror(errno));
    }
    Fd in_r(in_pipe[0]), in_w(in_pipe[1]);
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        return fail(program + ": pipe: " + std::strerror(errno));
    }
    Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        return fail(program + ": pipe: " + std::strerror(errno));
    }
    Fd err_r(err_pipe[0]), err_w(err_pipe[1]);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_r.get(), 0);
    posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
    posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);

    std::vector<std::string> env_strings;
    if (options.env != nullptr) {
        for (const auto& [k, v] : *options.env) {
            env_strings.push_back(k + "=" + v);
        }
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::string arg0 = *exe;
    std::string arg1 = action;
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, exe->c_str(), &fa, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        return fail(program + ": cannot start: " + std::strerror(rc), ExitCode::auth);
    }
    in_r.reset();
    out_w.reset();
    err_w.reset();

    // Write stdin with SIGPIPE blocked (a helper that exits early must not kill us), then collect
    // stdout/stderr with poll() until both close or the deadline passes.
    sigset_t pipe_set, old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    std::string_view rest = input;
    while (!rest.empty()) {
        ssize_t n = ::write(in_w.get(), rest.data(), rest.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            break; // EPIPE: the helper did not read its input; its exit status tells the rest
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    in_w.reset();
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_set, nullptr);

    ProcessOutput result;
    auto deadline = std::chrono::steady_clock::now() + options.timeout;
    bool timed_out = false;
    while (out_r.get() >= 0 || err_r.get() >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd fds[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
        int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (n < 0 && errno != EINTR) {
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            char buf[4096];
            ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                std::string& sink = i == 0 ? result.out : result.err;
                if (sink.size() < (1U << 20)) {
                    sink.append(buf, static_cast<std::size_t>(got));
                }
            } else if (got == 0 || errno != EINTR) {
                (i == 0 ? out_r : err_r).reset();
            }
        }
    }
    int status = 0;
    while (!timed_out) {
        pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            break;
        }
        if (w < 0 && errno != EINTR) {
            return fail(program + ": waitpid: " + std::strerror(errno));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            timed_out = true;
            break;
        }
        ::usleep(10000);
    }
    if (timed_out) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return fail(program + " " + action + " did not finish within " +
                        std::to_string(options.timeout.count() / 1000) + " s (killed)",
                    ExitCode::auth);
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

bool says_not_found(const ProcessOutput& p) {
    // [credhelpers] credentials/error.go: errCredentialsNotFoundMessage = "credentials not found in native keychain"
    return p.out.find("credentials not found") != std::string::npos ||
           p.err.find("credentials not found") != std::string::npos;
}

std::string first_line(std::string text) {
    if (auto nl = text.find('\n'); nl != std::string::npos) {
        text.resize(nl);
    }
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    if (text.size() > 200) {
        text = text.substr(0, 200) + "…";
    }
    return text;
}

Error helper_failure(const std::string& program, const std::string& action, const ProcessOutput& p) {
    // A helper's own message names the problem ("error getting credentials - err: exit status 1 ...");
    // it never holds the secret, which only appears in a successful `get` reply.
    std::string msg = first_line(!p.err.empty() ? p.err : p.out);
    return Error(program + " " + action + " failed (exit " + std::to_string(p.exit_code) + ")" +
                     (msg.empty() ? std::string() : ": " + msg),
                 ExitCode::auth);
}

} // namespace

bool same_registry(std::string_view a, std::string_view b) {
    std::string na = normalize_registry_key(a);
    std::string nb = normalize_registry_key(b);
    return na == nb || (is_docker_hub(na) && is_docker_hub(nb));
}

bool is_docker_hub(std::string_view host) {
    std::string h = normalize_registry_key(host);
    return h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io";
}

std::string config_key(std::string_view host) {
    if (is_docker_hub(host)) {
        return std::string(k_docker_hub_key);
    }
    return std::string(host);
}

Credential make_credential(std::string username, std::string secret, std::string source) {
    Credential c;
    // §5.7: "<token>" (credential helpers) and the ACR all-zeros user (§5.6) mean the secret is a refresh token.
    if (username == "<token>" || username == k_acr_token_user) {
        c.kind = Credential::Kind::identity_token;
    } else {
        c.kind = Credential::Kind::basic;
    }
    c.username = std::move(username);
    c.secret = std::move(secret);
    c.source = std::move(source);
    return c;
}

Result<std::optional<HelperCredential>> helper_get(const std::string& suffix, const std::string& server,
                                                   const HelperOptions& options) {
    std::string program = "docker-credential-" + suffix;
    EDGESHIP_TRY_ASSIGN(auto p, run_helper(program, "get", server, options));
    if (p.exit_code != 0) {
        if (says_not_found(p)) {
            return std::optional<HelperCredential>{};
        }
        return unexpected(helper_failure(program, "get", p));
    }
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(p.out);
    } catch (const nlohmann::json::exception&) {
        // Never quote the output: it would hold the secret.
        return fail(program + " get: reply is not JSON {\"Username\",\"Secret\"}", ExitCode::auth);
    }
    if (!j.is_object()) {
        return fail(program + " get: reply is not a JSON object", ExitCode::auth);
    }
    HelperCredential c;
    if (auto it = j.find("Username"); it != j.end() && it->is_string()) {
        c.username = it->get<std::string>();
    }
    if (auto it = j.find("Secret"); it != j.end() && it->is_string()) {
        c.secret = it->get<std::string>();
    }
    if (c.secret.empty()) {
        return std::optional<HelperCredential>{};
    }
    return std::optional<HelperCredential>(std::move(c));
}

Result<void> helper_store(const std::string& suffix, const std::string& server, const HelperCredential& cred,
                          const HelperOptions& options) {
    std::string program = "docker-credential-" + suffix;
    nlohmann::json j = {{"ServerURL", server}, {"Username", cred.username}, {"Secret", cred.secret}};
    EDGESHIP_TRY_ASSIGN(auto p, run_helper(program, "store", j.dump(), options));
    if (p.exit_code != 0) {
        return unexpected(helper_failure(program, "store", p));
    }
    return {};
}

Result<bool> helper_erase(const std::string& suffix, const std::string& server, const HelperOptions& options) {
    std::string program = "docker-credential-" + suffix;
    EDGESHIP_TRY_ASSIGN(auto p, run_helper(program, "erase", server, options));
    if (p.exit_code != 0) {
        if (says_not_found(p)) {
            return false;
        }
        return unexpected(helper_failure(program, "erase", p));
    }
    return true;
}

Result<Credential> resolve_credential(const CredentialQuery& q) {
    static const core::Environment empty;
    const core::Environment& env = q.env != nullptr ? *q.env : empty;

    // 1. (An explicit --username credential is the keychain's: registry/keychain.hpp binds it to its host.)
    // 2. The IoT Edge solution convention: CONTAINER_REGISTRY_SERVER[_X] / _USERNAME[_X] / _PASSWORD[_X]
    //    (environment or the solution .env), only for the server they name.
    constexpr std::string_view k_server = "CONTAINER_REGISTRY_SERVER";
    for (auto it = env.lower_bound(k_server); it != env.end() && it->first.rfind(k_server, 0) == 0; ++it) {
        std::string suffix = it->first.substr(k_server.size());
        if (!suffix.empty() && suffix[0] != '_') {
            continue;
        }
        if (it->second.empty() || !same_registry(it->second, q.registry_host)) {
            continue;
        }
        std::string user_var = "CONTAINER_REGISTRY_USERNAME" + suffix;
        std::string pass_var = "CONTAINER_REGISTRY_PASSWORD" + suffix;
        const auto* user = core::find_env(env, user_var);
        if (user == nullptr || user->empty()) {
            continue; // the server is named but no user: anonymous/other sources (local registries)
        }
        const auto* pass = core::find_env(env, pass_var);
        if (pass == nullptr || pass->empty()) {
            return unexpected(Error(user_var + " is set for " + it->second + " but " + pass_var + " is empty", ExitCode::auth)
                                  .hint("set " + pass_var + " in the environment or the solution's .env"));
        }
        return make_credential(*user, *pass, "environment " + user_var);
    }

    // 3. docker config.json: credHelpers[host] > credsStore > auths[host].
    auto path = docker_config_path(env);
    if (!path) {
        return Credential{}; // no HOME, no DOCKER_CONFIG: nothing to read
    }
    EDGESHIP_TRY_ASSIGN(auto cfg, read_docker_config(*path));
    std::string key = config_key(q.registry_host);
    HelperOptions ho;
    ho.env = &env;
    std::vector<std::string> helpers;
    if (cfg.json.contains("credHelpers") && cfg.json["credHelpers"].is_object()) {
        for (const auto& [k, v] : cfg.json["credHelpers"].items()) {
            if (v.is_string() && same_registry(k, q.registry_host)) {
                helpers.push_back(v.get<std::string>());
                break;
            }
        }
    }
    if (cfg.json.contains("credsStore") && cfg.json["credsStore"].is_string()) {
        std::string store = cfg.json["credsStore"].get<std::string>();
        if (!store.empty() && std::find(helpers.begin(), helpers.end(), store) == helpers.end()) {
            helpers.push_back(store);
        }
    }
    for (const auto& suffix : helpers) {
        auto got = helper_get(suffix, key, ho);
        if (!got) {
            return unexpected(std::move(got).error().context("credentials for " + q.registry_host));
        }
        if (*got) {
            return make_credential((*got)->username, (*got)->secret, "credential helper docker-credential-" + suffix);
        }
    }
    auto entry = find_auth_entry(cfg, q.registry_host);
    if (!entry) {
        return unexpected(std::move(entry).error());
    }
    if (*entry) {
        const auto& e = **entry;
        std::string source = "docker config " + path->string();
        if (!e.registry_token.empty()) {
            Credential c;
            c.kind = Credential::Kind::registry_token;
            c.username = e.username;
            c.secret = e.registry_token;
            c.source = source;
            return c;
        }
        if (!e.identity_token.empty()) {
            Credential c;
            c.kind = Credential::Kind::identity_token;
            c.username = e.username.empty() ? std::string("<token>") : e.username;
            c.secret = e.identity_token;
            c.source = source;
            return c;
        }
        if (!e.username.empty() || !e.password.empty()) {
            return make_credential(e.username, e.password, source);
        }
    }
    return Credential{};
}

} // namespace edgeship::registry
