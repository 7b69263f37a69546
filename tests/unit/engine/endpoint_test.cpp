// Engine endpoint discovery (lib/engine/endpoint.hpp) and the Engine API stream helpers (client.hpp).

#include "engine/client.hpp"
#include "engine/endpoint.hpp"

#include <gtest/gtest.h>

#include <set>

namespace edgeship::engine {
namespace {

SocketProbe only(std::set<std::string> sockets) {
    return [sockets](const std::filesystem::path& p) { return sockets.count(p.string()) > 0; };
}

TEST(EngineEndpoint, FlagWinsOverDockerHost) {
    core::Environment env{{"DOCKER_HOST", "unix:///env.sock"}};
    auto e = discover_endpoint("unix:///flag.sock", env, only({}));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->socket, "/flag.sock");
    EXPECT_EQ(e->origin, "--engine");
    EXPECT_EQ(e->url(), "unix:///flag.sock");
}

TEST(EngineEndpoint, DockerHostWinsOverDefaults) {
    core::Environment env{{"DOCKER_HOST", "unix:///env.sock"}};
    auto e = discover_endpoint("", env, only({"/var/run/docker.sock"}));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->socket, "/env.sock");
    EXPECT_EQ(e->origin, "DOCKER_HOST");
}

TEST(EngineEndpoint, TcpIsRefusedSayingWhy) {
    auto e = discover_endpoint("", {{"DOCKER_HOST", "tcp://10.0.0.1:2376"}}, only({"/var/run/docker.sock"}));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().message(), "DOCKER_HOST tcp://10.0.0.1:2376: tcp:// engines are not supported (edgeship run "
                                   "talks to a local engine over its unix socket)");
    EXPECT_FALSE(discover_endpoint("unix://relative.sock", {}, only({})));
    EXPECT_EQ(discover_endpoint("/abs.sock", {}, only({}))->socket, "/abs.sock");
}

TEST(EngineEndpoint, DefaultsInOrderDockerThenPodman) {
    core::Environment env{{"XDG_RUNTIME_DIR", "/run/user/1000"}};
    EXPECT_EQ(default_sockets(env), (std::vector<std::string>{"/var/run/docker.sock", "/run/user/1000/podman/podman.sock",
                                                              "/run/podman/podman.sock"}));
    EXPECT_EQ(discover_endpoint("", env, only({"/run/user/1000/podman/podman.sock", "/run/podman/podman.sock"}))->socket,
              "/run/user/1000/podman/podman.sock");
    EXPECT_EQ(discover_endpoint("", {}, only({"/run/podman/podman.sock"}))->socket, "/run/podman/podman.sock");
    EXPECT_EQ(discover_endpoint("", env, only({"/var/run/docker.sock", "/run/podman/podman.sock"}))->origin, "default");
}

TEST(EngineEndpoint, NoneFoundListsWhereItLooked) {
    auto e = discover_endpoint("", {{"XDG_RUNTIME_DIR", "/run/user/7"}}, only({}));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().message(), "no container engine reachable: no --engine, DOCKER_HOST is not set, and no socket at "
                                   "/var/run/docker.sock, /run/user/7/podman/podman.sock, /run/podman/podman.sock");
    EXPECT_FALSE(e.error().hint_text().empty());
}

TEST(EngineEndpoint, RealProbeTellsSocketsFromFiles) {
    EXPECT_FALSE(is_socket("/nonexistent/docker.sock"));
    EXPECT_FALSE(is_socket("/"));
}

std::string frame(char stream, std::string_view payload) {
    std::string f{stream, 0, 0, 0};
    auto n = payload.size();
    f += static_cast<char>((n >> 24) & 0xff);
    f += static_cast<char>((n >> 16) & 0xff);
    f += static_cast<char>((n >> 8) & 0xff);
    f += static_cast<char>(n & 0xff);
    return f + std::string(payload);
}

TEST(EngineLogs, DemultiplexesFrames) {
    std::string big(300, 'x');
    auto logs = demultiplex_logs(frame(1, "out1\n") + frame(2, "err1\n") + frame(1, big));
    EXPECT_EQ(logs.out, "out1\n" + big);
    EXPECT_EQ(logs.err, "err1\n");
    EXPECT_EQ(logs.combined, "out1\nerr1\n" + big);
}

TEST(EngineLogs, TtyOutputIsKeptRaw) {
    auto logs = demultiplex_logs("hello from a tty\n");
    EXPECT_EQ(logs.combined, "hello from a tty\n");
    EXPECT_TRUE(demultiplex_logs("").combined.empty());
}

TEST(EngineProgress, FindsErrorObjectsInTheStream) {
    std::string stream = R"({"status":"Pulling from app","id":"1.0"})"
                         "\n"
                         R"({"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"})"
                         "\n"
                         R"({"errorDetail":{"message":"only detail"}})"
                         "\nnot json\n";
    EXPECT_EQ(progress_errors(stream), (std::vector<std::string>{"manifest unknown", "only detail"}));
    EXPECT_TRUE(progress_errors(R"({"status":"Downloaded newer image"})").empty());
}

} // namespace
} // namespace edgeship::engine
