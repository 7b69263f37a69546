// Rollout polling cost over a fleet: the query API (one request per page, what `deployment status` and
// `--wait` do) against a peer that reads every device's $edgeAgent twin (one request per device).
// Prints one JSON object per mode. Driven by run_bench.py, which starts the double and reads its
// server-side timings.
//
// Usage: bench_iothub --mode query|twin --deployment ID --cycles N --page-size P
// Environment: IOTHUB_CONNECTION_STRING, EDGESHIP_IOTHUB_ENDPOINT, EDGESHIP_IOTHUB_CA_FILE.

#include "iothub/deployments.hpp"
#include "iothub/rollout.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

using namespace edgeship;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name); // a benchmark driver, not the library: reading the environment is fine here
    return v != nullptr ? v : "";
}

int die(const std::string& msg) {
    std::cerr << "bench_iothub: " << msg << '\n';
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    std::string mode = "query";
    std::string deployment = "bench";
    int cycles = 5;
    int page_size = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        std::string v = argv[i + 1];
        if (a == "--mode") {
            mode = v;
        } else if (a == "--deployment") {
            deployment = v;
        } else if (a == "--cycles") {
            cycles = std::stoi(v);
        } else if (a == "--page-size") {
            page_size = std::stoi(v);
        } else {
            return die("unknown argument " + a);
        }
    }
    auto cs = iothub::parse_connection_string(env("IOTHUB_CONNECTION_STRING"));
    if (!cs) {
        return die(cs.error().what());
    }
    iothub::HubOptions ho;
    ho.credentials = *cs;
    ho.endpoint = env("EDGESHIP_IOTHUB_ENDPOINT");
    // S3 budgets: the bench measures the request pattern, not the client-side pacing an S1 hub needs.
    ho.budgets = iothub::budgets_for(iothub::Tier::s3, 10);
    http::ClientOptions co;
    co.tls.ca_file = env("EDGESHIP_IOTHUB_CA_FILE");
    co.user_agent = http::default_user_agent("bench");
    co.retry.max_attempts = 1;
    auto hub = iothub::HubClient::create(ho, co);
    if (!hub) {
        return die(hub.error().what());
    }

    // The peer needs the device list once (not counted per cycle).
    std::vector<std::string> devices;
    if (mode == "twin") {
        auto n = hub->query(iothub::fleet_query(deployment), 1000, [&](const nlohmann::json& t) -> Result<void> {
            devices.push_back(t.value("deviceId", ""));
            return {};
        });
        if (!n) {
            return die(n.error().what());
        }
    }

    std::vector<double> ms;
    std::vector<std::size_t> requests;
    std::size_t targeted = 0;
    std::size_t succeeded = 0;
    for (int c = 0; c < cycles; ++c) {
        auto before = hub->requests_sent();
        auto t0 = std::chrono::steady_clock::now();
        iothub::FleetSummary s;
        if (mode == "query") {
            // What `deployment status` does: the configuration, then one query request per page.
            auto cfg = hub->get_configuration(deployment);
            if (!cfg) {
                return die(cfg.error().what());
            }
            auto polled = iothub::poll_deployment(*hub, deployment, page_size);
            if (!polled) {
                return die(polled.error().what());
            }
            s = *polled;
        } else {
            std::vector<iothub::DeviceRollout> all;
            for (const auto& d : devices) {
                auto twin = hub->get_module_twin(d, "$edgeAgent");
                if (!twin) {
                    return die(twin.error().what());
                }
                all.push_back(iothub::evaluate_twin(*twin, deployment));
            }
            s = iothub::summarize(deployment, all);
        }
        auto t1 = std::chrono::steady_clock::now();
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        requests.push_back(hub->requests_sent() - before);
        targeted = s.targeted;
        succeeded = s.succeeded;
    }
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    double median = sorted.empty() ? 0 : sorted[sorted.size() / 2];
    double total = 0;
    for (double v : ms) {
        total += v;
    }
    std::printf("{\"mode\":\"%s\",\"cycles\":%d,\"page_size\":%d,\"targeted\":%zu,\"succeeded\":%zu,"
                "\"requests_per_cycle\":%zu,\"median_ms_per_cycle\":%.2f,\"total_ms\":%.2f}\n",
                mode.c_str(), cycles, page_size, targeted, succeeded, requests.empty() ? 0 : requests.back(), median,
                total);
    return 0;
}
