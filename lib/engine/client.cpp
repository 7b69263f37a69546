#include "engine/client.hpp"

#include "http/url.hpp"

namespace edgeship::engine {

namespace {

std::string engine_message(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
        return j["message"].get<std::string>();
    }
    std::string s = body;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

std::string query(std::initializer_list<std::pair<std::string_view, std::string_view>> params) {
    std::string q;
    for (const auto& [k, v] : params) {
        q += (q.empty() ? "?" : "&") + std::string(k) + "=" + http::percent_encode(v);
    }
    return q;
}

} // namespace

Logs demultiplex_logs(std::string_view data) {
    Logs logs;
    std::size_t i = 0;
    bool framed = data.size() >= 8 && (data[0] == 0 || data[0] == 1 || data[0] == 2) && data[1] == 0 &&
                  data[2] == 0 && data[3] == 0;
    if (!framed) {
        logs.out = logs.combined = std::string(data);
        return logs;
    }
    while (i + 8 <= data.size()) {
        auto kind = static_cast<unsigned char>(data[i]);
        std::size_t size = (static_cast<std::size_t>(static_cast<unsigned char>(data[i + 4])) << 24) |
                           (static_cast<std::size_t>(static_cast<unsigned char>(data[i + 5])) << 16) |
                           (static_cast<std::size_t>(static_cast<unsigned char>(data[i + 6])) << 8) |
                           static_cast<std::size_t>(static_cast<unsigned char>(data[i + 7]));
        std::string_view chunk = data.substr(i + 8, std::min(size, data.size() - i - 8));
        (kind == 2 ? logs.err : logs.out).append(chunk);
        logs.combined.append(chunk);
        i += 8 + size;
    }
    return logs;
}

std::vector<std::string> progress_errors(std::string_view stream) {
    std::vector<std::string> errors;
    std::size_t pos = 0;
    while (pos < stream.size()) {
        auto nl = stream.find('\n', pos);
        std::string_view line = stream.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? stream.size() : nl + 1;
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_object()) {
            continue;
        }
        if (auto e = j.find("error"); e != j.end() && e->is_string() && !e->get<std::string>().empty()) {
            errors.push_back(e->get<std::string>());
        } else if (auto d = j.find("errorDetail"); d != j.end() && d->is_object() && d->contains("message") &&
                   (*d)["message"].is_string()) {
            errors.push_back((*d)["message"].get<std::string>());
        }
    }
    return errors;
}

Result<Client> Client::connect(const Endpoint& endpoint, ClientOptions options) {
    http::ClientOptions h;
    h.unix_socket = endpoint.socket;
    h.allow_http = http::AllowHttp::yes;
    h.user_agent = options.user_agent;
    h.request_timeout = options.request_timeout;
    h.connect_timeout = std::chrono::milliseconds(5000);
    h.logger = options.logger;
    h.cancel = options.cancel;
    h.retry.max_attempts = 1; // a local socket: an error is final, no backoff
    EDGESHIP_TRY_ASSIGN(auto http, http::Client::create(std::move(h)));
    Client c(endpoint, std::move(http));
    auto ping = c.call("GET", "/_ping");
    std::string where = "no container engine reachable at " + endpoint.url() + " (" +
                        (endpoint.origin == "default" ? std::string("found at a default place") : "from " + endpoint.origin) + ")";
    if (!ping) {
        if (ping.error().code() == ExitCode::interrupted) {
            return unexpected(std::move(ping).error());
        }
        return unexpected(Error(where + ": " + ping.error().what())
                              .hint("is the engine running? start it, or pass --engine unix:///PATH"));
    }
    if (!ping->ok()) {
        return fail(where + ": GET /_ping answered " + std::to_string(ping->status));
    }
    return c;
}

Result<http::Response> Client::call(const std::string& method, const std::string& path, const std::string& body,
                                    http::Headers headers) {
    http::Request req;
    req.method = method;
    req.url = "http://localhost/" + std::string(k_api_version) + path;
    req.body = body;
    if (!body.empty()) {
        headers.emplace_back("Content-Type", "application/json");
    }
    req.headers = std::move(headers);
    return m_http.send(req);
}

Error Client::engine_error(const std::string& what, const http::Response& r) const {
    std::string msg = engine_message(r.body);
    return Error(what + ": " + (msg.empty() ? "HTTP " + std::to_string(r.status) : msg));
}

Result<nlohmann::json> Client::version() {
    EDGESHIP_TRY_ASSIGN(auto r, call("GET", "/version"));
    if (!r.ok()) {
        return unexpected(engine_error("engine version", r));
    }
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object()) {
        return fail("engine version: the answer is not a JSON object");
    }
    return j;
}

Result<void> Client::pull(const std::string& image, const std::optional<RegistryCredential>& credential) {
    auto [repo, tag] = split_image(image);
    http::Request req;
    req.method = "POST";
    req.url = "http://localhost/" + std::string(k_api_version) + "/images/create" +
              (tag.empty() ? query({{"fromImage", repo}}) : query({{"fromImage", repo}, {"tag", tag}}));
    if (credential) {
        req.headers.emplace_back("X-Registry-Auth", registry_auth_header(*credential));
    }
    // The progress stream runs as long as the pull: streamed, so only a stall ends it, not a total limit.
    std::string progress;
    req.body_sink = [&progress](std::string_view chunk) -> Result<void> {
        progress.append(chunk);
        return {};
    };
    EDGESHIP_TRY_ASSIGN(auto r, m_http.send(req));
    if (!r.ok()) {
        return unexpected(engine_error("pulling " + image, r));
    }
    auto errors = progress_errors(progress);
    if (!errors.empty()) {
        std::string all;
        for (const auto& e : errors) {
            all += (all.empty() ? "" : "; ") + e;
        }
        return fail("pulling " + image + ": " + all);
    }
    return {};
}

Result<bool> Client::image_exists(const std::string& image) {
    EDGESHIP_TRY_ASSIGN(auto r, call("GET", "/images/" + http::percent_encode(image) + "/json"));
    if (r.status == 404) {
        return false;
    }
    if (!r.ok()) {
        return unexpected(engine_error("image " + image, r));
    }
    return true;
}

Result<void> Client::ensure_network(const std::string& name) {
    EDGESHIP_TRY_ASSIGN(auto r, call("GET", "/networks/" + http::percent_encode(name)));
    if (r.ok()) {
        return {};
    }
    if (r.status != 404) {
        return unexpected(engine_error("network " + name, r));
    }
    nlohmann::json body = {{"Name", name}, {"Driver", "bridge"}, {"CheckDuplicate", true}};
    EDGESHIP_TRY_ASSIGN(auto c, call("POST", "/networks/create", body.dump()));
    if (!c.ok() && c.status != 409) {
        return unexpected(engine_error("creating network " + name, c)
                              .hint("an engine without a bridge (dockerd --bridge=none) needs --network host"));
    }
    return {};
}

Result<std::string> Client::create(const std::string& name, const nlohmann::json& body) {
    EDGESHIP_TRY_ASSIGN(auto r, call("POST", "/containers/create" + query({{"name", name}}), body.dump()));
    if (!r.ok()) {
        return unexpected(engine_error("the engine refused the container", r));
    }
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("Id") || !j["Id"].is_string()) {
        return fail("creating container " + name + ": no Id in the answer");
    }
    return j["Id"].get<std::string>();
}

Result<void> Client::start(const std::string& id) {
    EDGESHIP_TRY_ASSIGN(auto r, call("POST", "/containers/" + id + "/start"));
    if (!r.ok() && r.status != 304) {
        return unexpected(engine_error("the engine could not start it", r));
    }
    return {};
}

Result<nlohmann::json> Client::inspect(const std::string& id) {
    EDGESHIP_TRY_ASSIGN(auto r, call("GET", "/containers/" + id + "/json"));
    if (!r.ok()) {
        return unexpected(engine_error("inspecting container " + id, r));
    }
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object()) {
        return fail("inspecting container " + id + ": the answer is not a JSON object");
    }
    return j;
}

Result<void> Client::stop(const std::string& id, std::chrono::seconds grace) {
    EDGESHIP_TRY_ASSIGN(auto r, call("POST", "/containers/" + id + "/stop" + query({{"t", std::to_string(grace.count())}})));
    if (!r.ok() && r.status != 304 && r.status != 404) {
        return unexpected(engine_error("stopping container " + id, r));
    }
    return {};
}

Result<void> Client::remove(const std::string& id) {
    EDGESHIP_TRY_ASSIGN(auto r, call("DELETE", "/containers/" + id + query({{"force", "1"}, {"v", "1"}})));
    if (!r.ok() && r.status != 404) {
        return unexpected(engine_error("removing container " + id, r));
    }
    return {};
}

Result<Logs> Client::logs(const std::string& id, unsigned tail) {
    std::string t = tail == 0 ? "all" : std::to_string(tail);
    EDGESHIP_TRY_ASSIGN(auto r, call("GET", "/containers/" + id + "/logs" + query({{"stdout", "1"}, {"stderr", "1"}, {"tail", t}})));
    if (!r.ok()) {
        return unexpected(engine_error("logs of container " + id, r));
    }
    return demultiplex_logs(r.body);
}

Result<std::vector<ContainerSummary>> Client::list(const std::string& label) {
    nlohmann::json filters = {{"label", {label}}};
    EDGESHIP_TRY_ASSIGN(auto r, call("GET", "/containers/json" + query({{"all", "1"}, {"filters", filters.dump()}})));
    if (!r.ok()) {
        return unexpected(engine_error("listing containers", r));
    }
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_array()) {
        return fail("listing containers: the answer is not a JSON array");
    }
    std::vector<ContainerSummary> out;
    for (const auto& c : j) {
        if (!c.is_object()) {
            continue;
        }
        ContainerSummary s;
        s.id = c.value("Id", "");
        if (auto names = c.find("Names"); names != c.end() && names->is_array() && !names->empty() &&
                                          (*names)[0].is_string()) {
            s.name = (*names)[0].get<std::string>();
            if (s.name.starts_with("/")) {
                s.name.erase(0, 1);
            }
        }
        s.state = c.value("State", "");
        if (auto l = c.find("Labels"); l != c.end() && l->is_object()) {
            for (const auto& [k, v] : l->items()) {
                if (v.is_string()) {
                    s.labels[k] = v.get<std::string>();
                }
            }
        }
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace edgeship::engine
