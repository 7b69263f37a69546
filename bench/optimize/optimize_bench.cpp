// Times `optimize_file` with --fp16 and --quantize dynamic-int8 next to the I/O floor: the same process
// loading and saving the model through model::load_model / model::save_model with no pass in between.
// Prints one line per mode with the best wall time of --repeat runs, throughput in MB/s of float32
// weights, and the ratio to the floor. Asserts nothing about timing (benchmarks are not tests).
//   optimize_bench MODEL.onnx WORKDIR [--repeat N]

#include "model/onnx_model.hpp"
#include "optimize/optimize.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>

namespace {

using namespace edgeship;
using Clock = std::chrono::steady_clock;

double best_seconds(int repeat, const std::function<bool()>& run) {
    double best = 1e300;
    for (int k = 0; k < repeat; ++k) {
        auto t0 = Clock::now();
        if (!run()) {
            std::exit(1);
        }
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    return best;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: optimize_bench MODEL.onnx WORKDIR [--repeat N]\n";
        return 2;
    }
    std::filesystem::path model = argv[1], work = argv[2];
    int repeat = 3;
    if (argc >= 5 && std::string(argv[3]) == "--repeat") {
        repeat = std::max(1, std::atoi(argv[4]));
    }
    std::filesystem::create_directories(work);
    auto loaded = model::load_model(model);
    if (!loaded) {
        std::cerr << "optimize_bench: " << loaded.error().what() << '\n';
        return 1;
    }
    auto [count, bytes] = optimize::parameter_stats(loaded->proto);
    double mb = static_cast<double>(bytes) / 1e6;
    std::printf("model %s: %.1f MB file, %.1f MB of weights (%llu parameters), best of %d\n", model.c_str(),
                static_cast<double>(loaded->file_size) / 1e6, mb, static_cast<unsigned long long>(count), repeat);
    loaded = {};

    double floor = best_seconds(repeat, [&] {
        auto m = model::load_model(model);
        if (!m) {
            std::cerr << m.error().what() << '\n';
            return false;
        }
        auto saved = model::save_model(m->proto, work / "floor.onnx");
        if (!saved) {
            std::cerr << saved.error().what() << '\n';
        }
        return static_cast<bool>(saved);
    });
    std::printf("%-22s %8.3f s  %8.1f MB/s  ratio 1.00\n", "io floor (load+save)", floor, mb / floor);

    auto time_mode = [&](const char* name, const optimize::OptimizeOptions& options, const char* out) {
        double t = best_seconds(repeat, [&] {
            auto r = optimize::optimize_file(model, work / out, options, {});
            if (!r) {
                std::cerr << r.error().what() << '\n';
            }
            return static_cast<bool>(r);
        });
        auto out_size = std::filesystem::file_size(work / out);
        std::printf("%-22s %8.3f s  %8.1f MB/s  ratio %.2f  (output %.1f MB)\n", name, t, mb / t, t / floor,
                    static_cast<double>(out_size) / 1e6);
    };
    optimize::OptimizeOptions fp16;
    fp16.fp16 = optimize::Fp16Options{};
    time_mode("--fp16", fp16, "fp16.onnx");
    optimize::OptimizeOptions dyn;
    dyn.quantize = optimize::QuantizeMode::dynamic_int8;
    time_mode("--quantize dynamic-int8", dyn, "int8.onnx");
    return 0;
}
