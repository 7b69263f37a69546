#pragma once

// Runs the IoT Hub test double from a C++ test: `harness.py serve` in a child process whose stdin is a
// pipe; closing the pipe (destructor) stops the double. The environment it prints (connection string,
// endpoint, CA file) is returned by env(). Bounded: start-up waits at most 30 s.

#include "core/env.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace edgeship::test {

class DoubleProcess {
public:
    DoubleProcess(const std::filesystem::path& source_dir, const std::filesystem::path& work_dir,
                  const nlohmann::json& scenario) {
        auto scenario_path = work_dir / "scenario.json";
        auto env_path = work_dir / "double-env.json";
        std::ofstream(scenario_path) << scenario.dump();
        std::string cmd = "/usr/bin/python3 '" + (source_dir / "tests/iothub_double/harness.py").string() +
                          "' serve --scenario '" + scenario_path.string() + "' --env-out '" + env_path.string() + "'";
        m_pipe = ::popen(cmd.c_str(), "w");
        if (m_pipe == nullptr) {
            throw std::runtime_error("popen failed");
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!std::filesystem::exists(env_path)) {
            if (std::chrono::steady_clock::now() > deadline) {
                ::pclose(m_pipe);
                throw std::runtime_error("the IoT Hub double did not start");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::ifstream in(env_path);
        auto j = nlohmann::json::parse(in);
        for (auto it = j.begin(); it != j.end(); ++it) {
            m_env[it.key()] = it.value().get<std::string>();
        }
    }
    ~DoubleProcess() {
        if (m_pipe != nullptr) {
            ::pclose(m_pipe); // EOF on the harness's stdin: it stops the double and exits
        }
    }
    DoubleProcess(const DoubleProcess&) = delete;
    DoubleProcess& operator=(const DoubleProcess&) = delete;

    /// IOTHUB_CONNECTION_STRING, EDGESHIP_IOTHUB_ENDPOINT, EDGESHIP_IOTHUB_CA_FILE, EDGESHIP_DOUBLE_URL.
    const core::Environment& env() const { return m_env; }

private:
    FILE* m_pipe = nullptr;
    core::Environment m_env;
};

} // namespace edgeship::test
