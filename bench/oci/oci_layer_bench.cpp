// Layer creation benchmark (issue 6, docs/design/registry.md §9.1–9.4): a file of float32 weights
// N(0, 0.02) — trained weights, nearly incompressible — turned into a gzip layer by lib/oci in one
// streaming pass (libarchive tar → sha256 → gzip → sha256 → file), beside the shell peers on the same
// file in the same run: `tar | gzip -1`, `tar | igzip -1` and `sha256sum`. Prints a table and ratios.
// Outputs go to the page cache (no fsync, like the shell pipelines); inputs are read once before timing.

#include "oci/layer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace edgeship;
using Clock = std::chrono::steady_clock;

struct Row {
    std::string name;
    std::vector<double> seconds;
    std::uint64_t out_bytes = 0;
    double mean() const {
        double s = 0;
        for (double x : seconds) {
            s += x;
        }
        return seconds.empty() ? 0 : s / static_cast<double>(seconds.size());
    }
    double best() const { return seconds.empty() ? 0 : *std::min_element(seconds.begin(), seconds.end()); }
};

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

bool have(const char* tool) {
    return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

void generate_weights(const fs::path& path, std::size_t mib) {
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.0f, 0.02f);
    std::ofstream out(path, std::ios::binary);
    std::vector<float> buf(1 << 18); // 1 MiB
    for (std::size_t i = 0; i < mib; ++i) {
        for (auto& f : buf) {
            f = dist(rng);
        }
        out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size() * sizeof(float)));
    }
}

void warm(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> buf(1 << 20);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    }
}

double time_it(const std::function<void()>& fn) {
    auto t0 = Clock::now();
    fn();
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

Row run_layer(const std::string& name, const fs::path& weights, const fs::path& out, oci::GzipEngine engine, int runs,
              std::string& digest) {
    Row row{name, {}, 0};
    for (int r = 0; r < runs; ++r) {
        fs::remove_all(out);
        fs::create_directories(out);
        oci::LayerOptions o;
        o.blob.gzip.engine = engine;
        o.blob.sync = false;
        o.blob.cancel = nullptr;
        Result<oci::LayerBlob> blob = fail("not run");
        row.seconds.push_back(time_it([&] { blob = oci::build_layer({oci::LayerEntry::file("models/weights.f32", weights)}, out, o); }));
        if (!blob) {
            std::cerr << "bench_oci_layer: error: " << blob.error().what() << "\n";
            std::exit(1);
        }
        row.out_bytes = blob->size;
        digest = blob->digest.str() + " (DiffID " + blob->diff_id.str() + ")";
    }
    return row;
}

Row run_shell(const std::string& name, const std::string& cmd, const fs::path& out_file, int runs) {
    Row row{name, {}, 0};
    for (int r = 0; r < runs; ++r) {
        std::error_code ec;
        fs::remove(out_file, ec);
        int rc = 0;
        row.seconds.push_back(time_it([&] { rc = std::system(cmd.c_str()); }));
        if (rc != 0) {
            std::cerr << "bench_oci_layer: error: `" << cmd << "` failed\n";
            std::exit(1);
        }
        row.out_bytes = fs::exists(out_file) ? fs::file_size(out_file) : 0;
    }
    return row;
}

} // namespace

int main(int argc, char** argv) {
    std::size_t mib = 256;
    int runs = 3;
    fs::path workdir;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--size-mib") {
            mib = std::stoul(argv[i + 1]);
        } else if (a == "--runs") {
            runs = std::stoi(argv[i + 1]);
        } else if (a == "--workdir") {
            workdir = argv[i + 1];
        } else {
            std::cerr << "usage: bench_oci_layer [--size-mib N] [--runs R] [--workdir DIR]\n";
            return 2;
        }
    }
    bool own_dir = workdir.empty();
    if (own_dir) {
        std::string tmpl = (fs::temp_directory_path() / "bench-oci-XXXXXX").string();
        workdir = ::mkdtemp(tmpl.data());
    }
    fs::create_directories(workdir / "in");
    auto weights = workdir / "in" / "weights.f32";
    std::cerr << "bench_oci_layer: generating " << mib << " MiB of float32 weights N(0, 0.02)…\n";
    generate_weights(weights, mib);
    warm(weights);

    std::vector<Row> rows;
    std::string isal_digest;
    std::string zlib_digest;
    rows.push_back(run_layer("edgeship layer (ISA-L -1, tar+2×sha256+gzip)", weights, workdir / "out-isal",
                             oci::GzipEngine::isal, runs, isal_digest));
    rows.push_back(run_layer("edgeship layer (zlib -1, tar+2×sha256+gzip)", weights, workdir / "out-zlib",
                             oci::GzipEngine::zlib, runs, zlib_digest));
    auto tgz = workdir / "peer.tar.gz";
    std::string in = quote(workdir / "in");
    rows.push_back(run_shell("tar | gzip -1", "tar -C " + in + " -cf - weights.f32 | gzip -1 > " + quote(tgz), tgz, runs));
    bool igzip = have("igzip");
    if (igzip) {
        rows.push_back(run_shell("tar | igzip -1", "tar -C " + in + " -cf - weights.f32 | igzip -1 -c > " + quote(tgz), tgz, runs));
    }
    rows.push_back(run_shell("sha256sum", "sha256sum " + quote(weights) + " > /dev/null", fs::path(), runs));

    const double size = static_cast<double>(mib);
    std::printf("layer creation, %zu MiB float32 weights, %d run(s), mean (best)\n", mib, runs);
    std::printf("%-46s %9s %9s %10s %14s\n", "command", "mean s", "best s", "MiB/s", "output bytes");
    for (const auto& r : rows) {
        std::printf("%-46s %9.3f %9.3f %10.1f %14llu\n", r.name.c_str(), r.mean(), r.best(), size / r.mean(),
                    static_cast<unsigned long long>(r.out_bytes));
    }
    auto by = [&](const std::string& prefix) -> const Row& {
        for (const auto& r : rows) {
            if (r.name.rfind(prefix, 0) == 0) {
                return r;
            }
        }
        return rows.front();
    };
    const auto& isal = by("edgeship layer (ISA-L");
    const auto& zlib = by("edgeship layer (zlib");
    std::printf("ratio edgeship(ISA-L) / (tar | gzip -1):  %.3f  (lower is better)\n", isal.mean() / by("tar | gzip -1").mean());
    if (igzip) {
        std::printf("ratio edgeship(ISA-L) / (tar | igzip -1): %.3f\n", isal.mean() / by("tar | igzip -1").mean());
    }
    std::printf("ratio edgeship(ISA-L) / sha256sum:        %.3f\n", isal.mean() / by("sha256sum").mean());
    std::printf("ratio edgeship ISA-L / edgeship zlib:     %.3f\n", isal.mean() / zlib.mean());
    std::printf("layer digest (ISA-L): %s\n", isal_digest.c_str());
    std::printf("layer digest (zlib):  %s\n", zlib_digest.c_str());
    if (own_dir) {
        fs::remove_all(workdir);
    }
    return 0;
}
