#pragma once

// Shared by unit_imagebuild and unit_cli's build tests: a scaffolded example solution and a tiny
// runtime base image (an OCI layout with a multi-platform index) built with lib/oci.

#include "core/env.hpp"
#include "oci/image.hpp"
#include "oci/layer.hpp"
#include "oci/layout.hpp"
#include "solution/scaffold.hpp"
#include "test_support.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace edgeship::test {

inline std::filesystem::path example_model() { return source_dir() / "examples/predictive-maintenance/model.onnx"; }

/// `edgeship init DIR --module scoring --model <example> --platforms …` through the library.
inline std::filesystem::path make_solution(const std::filesystem::path& dir, const std::vector<std::string>& platforms,
                                           const std::string& runtime = "python-onnxruntime") {
    solution::InitOptions o;
    o.dir = dir;
    o.module.name = "scoring";
    o.module.model = example_model();
    o.module.runtime = runtime;
    o.module.platforms = platforms;
    auto plan = solution::plan_init(o, templates::TemplateSource());
    if (!plan) {
        throw std::runtime_error(plan.error().what());
    }
    if (auto r = solution::apply_plan(*plan); !r) {
        throw std::runtime_error(r.error().what());
    }
    return dir;
}

/// A runtime base image for one platform (a "python" and an onnxruntime marker, an Env and a label).
inline oci::LocalImage make_base_image(const std::filesystem::path& blobs, const std::string& arch,
                                       const std::string& variant = "", bool with_runtime = true) {
    if (!with_runtime) { // a bare Debian-like base: no python, no node, no version in its Env
        oci::LayerOptions bare;
        bare.blob.cancel = nullptr;
        bare.blob.sync = false;
        auto l = oci::build_layer({oci::LayerEntry::bytes("etc/os-release", "ID=test\n"),
                                   oci::LayerEntry::bytes("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")},
                                  blobs, bare)
                     .value();
        oci::ImageConfig cfg;
        cfg.architecture = arch;
        cfg.variant = variant;
        cfg.append_layer(l.diff_id, {"", "ADD rootfs", "", "", false});
        return oci::assemble_image(cfg, {oci::ImageLayer::from_blob(l, oci::ManifestFormat::oci)}, oci::ManifestFormat::oci).value();
    }
    oci::LayerOptions lo;
    lo.blob.cancel = nullptr;
    lo.blob.sync = false;
    auto l1 = oci::build_layer({oci::LayerEntry::bytes("usr/local/bin/python", "#!/bin/sh\necho " + arch + "\n", 0755),
                                oci::LayerEntry::bytes("usr/local/bin/node", "#!/bin/sh\necho " + arch + "\n", 0755),
                                oci::LayerEntry::bytes("etc/os-release", "ID=test\n")},
                               blobs, lo)
                  .value();
    auto l2 = oci::build_layer(
                  {oci::LayerEntry::bytes("usr/local/lib/python3.11/site-packages/onnxruntime/__init__.py", "# " + arch + "\n")},
                  blobs, lo)
                  .value();
    oci::ImageConfig cfg;
    cfg.architecture = arch;
    cfg.variant = variant;
    cfg.created = oci::format_rfc3339(1000);
    cfg.config.set_env("PATH", "/usr/local/bin:/usr/bin:/bin");
    cfg.config.set_env("LANG", "C.UTF-8");
    cfg.config.set_env("PYTHON_VERSION", "3.11.9"); // what the official python and node images say
    cfg.config.set_env("NODE_VERSION", "20.18.0");
    cfg.config.cmd = std::vector<std::string>{"python3"};
    cfg.config.labels["org.example.base"] = "yes";
    cfg.config.labels["org.opencontainers.image.description"] = "the base";
    cfg.append_layer(l1.diff_id, {cfg.created, "ADD rootfs", "", "", false});
    cfg.append_layer(l2.diff_id, {cfg.created, "RUN pip install onnxruntime", "", "", false});
    return oci::assemble_image(cfg,
                               {oci::ImageLayer::from_blob(l1, oci::ManifestFormat::oci),
                                oci::ImageLayer::from_blob(l2, oci::ManifestFormat::oci)},
                               oci::ManifestFormat::oci)
        .value();
}

/// An OCI layout at `dir` tagged `tag` with an index over the given architectures ("amd64", "arm64").
inline void make_base_layout(const std::filesystem::path& dir, const std::vector<std::string>& archs,
                             const std::string& tag = "3.11", bool with_runtime = true) {
    auto layout = oci::OciLayout::create(dir).value();
    std::vector<oci::LocalImage> images;
    for (const auto& a : archs) {
        images.push_back(make_base_image(layout.blobs_dir(), a, a == "arm64" ? "v8" : "", with_runtime));
        layout.write_image(images.back()).value();
    }
    std::vector<const oci::LocalImage*> ptrs;
    for (const auto& i : images) {
        ptrs.push_back(&i);
    }
    auto index = oci::make_index(ptrs, oci::ManifestFormat::oci).value();
    layout.write_blob(index).value();
    layout.set_tag(index.descriptor, tag).value();
}

/// The environment of a build with tests/tools/fake-deps (stand-ins for npm and pip3 that install one
/// small file each, so unit tests build the dependencies layer without the network; the real tools run
/// in tests/container and tests/e2e), a cache under `dir` and, with `fail_with`, tools that fail with it.
inline core::Environment fake_tools_env(const std::filesystem::path& dir, const std::string& fail_with = "") {
    std::filesystem::create_directories(dir);
    const auto tools = source_dir() / "tests/tools/fake-deps";
    core::Environment env{{"PATH", "/usr/bin:/bin"},
                          {"EDGESHIP_NPM", (tools / "npm").string()},
                          {"EDGESHIP_PIP", (tools / "pip3").string()},
                          {"FAKE_DEPS_LOG", (dir / "tool.log").string()},
                          {"XDG_CACHE_HOME", (dir / "cache").string()},
                          {"HOME", dir.string()}};
    if (!fail_with.empty()) {
        env["FAKE_DEPS_FAIL"] = fail_with;
    }
    return env;
}

/// The calls the fake tools logged.
inline std::vector<std::string> fake_tool_calls(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    std::ifstream in(dir / "tool.log");
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(line);
    }
    return out;
}

struct TarMember {
    std::string path;
    char type = '0'; ///< '0' file, '5' directory, '2' symlink
    unsigned mode = 0;
    long long uid = -1, gid = -1;
    long long mtime = 0;
    std::string content;
};

/// Every member of a (gzip) tar, read with libarchive.
inline std::vector<TarMember> read_tar(const std::filesystem::path& file) {
    std::vector<TarMember> out;
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    if (archive_read_open_filename(a, file.c_str(), 65536) != ARCHIVE_OK) {
        archive_read_free(a);
        throw std::runtime_error("cannot open " + file.string());
    }
    struct archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        TarMember m;
        m.path = archive_entry_pathname(e);
        auto t = archive_entry_filetype(e);
        m.type = t == AE_IFDIR ? '5' : t == AE_IFLNK ? '2' : '0';
        m.mode = archive_entry_perm(e);
        m.uid = archive_entry_uid(e);
        m.gid = archive_entry_gid(e);
        m.mtime = archive_entry_mtime(e);
        char buf[65536];
        la_ssize_t n;
        while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
            m.content.append(buf, static_cast<std::size_t>(n));
        }
        out.push_back(std::move(m));
    }
    archive_read_free(a);
    return out;
}

inline std::vector<std::string> member_paths(const std::vector<TarMember>& members) {
    std::vector<std::string> out;
    for (const auto& m : members) {
        out.push_back(m.path);
    }
    return out;
}

inline std::size_t count_regular_files(const std::filesystem::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) {
        return 0;
    }
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        n += e.is_regular_file() ? 1 : 0;
    }
    return n;
}

} // namespace edgeship::test
