// oci_tool: a test-only driver of lib/oci for the e2e oracle tests (tests/e2e/oci_skopeo.sh) and the
// benchmark. Not shipped: `edgeship build/push/pull/export` are the user-facing commands.
//
//   oci_tool build --dir SRC [--image-dir app] [--file SRC=PATH_IN_IMAGE]… [--epoch N] [--engine isal|zlib]
//                  [--format oci|docker] [--platform linux/amd64] [--env K=V]… [--cmd ARG]… [--port P]…
//                  [--workdir DIR] [--label K=V]… [--oci-layout DIR --tag T] [--archive FILE --repo-tag R]
//   oci_tool read-oci DIR [TAG] [--deep] [--platform P]
//   oci_tool read-archive FILE [--repo-tag R]
//   oci_tool archive-to-oci FILE DIR TAG [--format oci|docker]
//   oci_tool oci-to-archive DIR TAG FILE [--repo-tag R]
//   oci_tool scan LAYER_FILE
// Results are JSON on stdout; errors one line "oci_tool: error: …" on stderr with lib/oci's exit code.

#include "oci/docker_archive.hpp"
#include "oci/image.hpp"
#include "oci/layer.hpp"
#include "oci/layer_reader.hpp"
#include "oci/layout.hpp"
#include "oci/reference.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace edgeship;
using namespace edgeship::oci;
namespace fs = std::filesystem;
using nlohmann::json;

struct Args {
    std::vector<std::string> positional;
    std::multimap<std::string, std::string> opts;
    std::string get(const std::string& k, const std::string& def = "") const {
        auto it = opts.find(k);
        return it == opts.end() ? def : it->second;
    }
    std::vector<std::string> all(const std::string& k) const {
        std::vector<std::string> out;
        auto [b, e] = opts.equal_range(k);
        for (auto it = b; it != e; ++it) {
            out.push_back(it->second);
        }
        return out;
    }
    bool has(const std::string& k) const { return opts.count(k) != 0; }
};

Args parse_args(int argc, char** argv, int start) {
    Args a;
    for (int i = start; i < argc; ++i) {
        std::string s = argv[i];
        if (s == "--deep") {
            a.opts.emplace(s, "1");
        } else if (s.rfind("--", 0) == 0 && i + 1 < argc) {
            a.opts.emplace(s, argv[++i]);
        } else {
            a.positional.push_back(s);
        }
    }
    return a;
}

json describe(const LocalImage& img) {
    json layers = json::array();
    for (const auto& l : img.layers) {
        json j = {{"digest", l.descriptor.digest.str()},
                  {"size", l.descriptor.size},
                  {"media_type", l.descriptor.media_type},
                  {"diff_id", l.diff_id.str()}};
        if (l.uncompressed_size) {
            j["uncompressed_size"] = *l.uncompressed_size;
        }
        layers.push_back(j);
    }
    json diff_ids = json::array();
    for (const auto& d : img.parsed_config.diff_ids) {
        diff_ids.push_back(d.str());
    }
    return {{"manifest_digest", img.manifest.descriptor.digest.str()},
            {"manifest_media_type", img.manifest.descriptor.media_type},
            {"manifest_size", img.manifest.descriptor.size},
            {"config_digest", img.config.descriptor.digest.str()},
            {"config_size", img.config.descriptor.size},
            {"platform", img.platform().str()},
            {"layers", layers},
            {"diff_ids", diff_ids}};
}

ManifestFormat format_of(const Args& a) { return a.get("--format", "oci") == "docker" ? ManifestFormat::docker : ManifestFormat::oci; }

Result<json> cmd_build(const Args& a) {
    if (!a.has("--dir")) {
        return fail("build: --dir is required", ExitCode::usage);
    }
    LayerOptions lo;
    if (a.has("--epoch")) {
        EDGESHIP_TRY_ASSIGN(lo.source_date_epoch, parse_source_date_epoch(a.get("--epoch")));
    }
    lo.blob.gzip.engine = a.get("--engine", "isal") == "zlib" ? GzipEngine::zlib : default_gzip_engine();
    auto format = format_of(a);
    std::optional<OciLayout> layout;
    fs::path blobs;
    std::optional<fs::path> scratch;
    if (a.has("--oci-layout")) {
        EDGESHIP_TRY_ASSIGN(auto l, OciLayout::create(a.get("--oci-layout")));
        layout.emplace(std::move(l));
        blobs = layout->blobs_dir();
    } else {
        scratch = fs::path(a.get("--archive")).parent_path() / ".oci_tool-blobs";
        fs::create_directories(*scratch);
        blobs = *scratch;
    }
    EDGESHIP_TRY_ASSIGN(auto entries, entries_from_directory(a.get("--dir"), a.get("--image-dir", "app")));
    EDGESHIP_TRY_ASSIGN(auto app, build_layer(entries, blobs, lo));
    std::vector<ImageLayer> layers{ImageLayer::from_blob(app, format)};
    ImageConfig cfg;
    std::string created = format_rfc3339(layer_epoch(lo));
    cfg.created = created;
    EDGESHIP_TRY_ASSIGN(auto platform, Platform::parse(a.get("--platform", "linux/amd64")));
    cfg.set_platform(platform);
    cfg.append_layer(app.diff_id, {created, "oci_tool: app layer", "", "", false});
    // Extra single-file layers ("--file SRC=models/model.onnx"): the model layer of an IoT Edge module.
    for (const auto& spec : a.all("--file")) {
        auto eq = spec.find('=');
        if (eq == std::string::npos) {
            return fail("--file wants SRC=PATH_IN_IMAGE", ExitCode::usage);
        }
        EDGESHIP_TRY_ASSIGN(auto blob, build_layer({LayerEntry::file(spec.substr(eq + 1), spec.substr(0, eq))}, blobs, lo));
        layers.push_back(ImageLayer::from_blob(blob, format));
        cfg.append_layer(blob.diff_id, {created, "oci_tool: " + spec.substr(eq + 1), "", "", false});
    }
    for (const auto& kv : a.all("--env")) {
        auto eq = kv.find('=');
        cfg.config.set_env(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    }
    for (const auto& kv : a.all("--label")) {
        auto eq = kv.find('=');
        cfg.config.labels[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    for (const auto& p : a.all("--port")) {
        EDGESHIP_TRY(cfg.config.expose(p));
    }
    if (a.has("--cmd")) {
        cfg.config.cmd = a.all("--cmd");
    }
    cfg.config.working_dir = a.get("--workdir", "");
    EDGESHIP_TRY_ASSIGN(auto img, assemble_image(cfg, layers, format));
    if (layout) {
        EDGESHIP_TRY(layout->write_image(img));
        EDGESHIP_TRY(layout->set_tag(img.manifest.descriptor, a.get("--tag", "latest")));
    }
    if (a.has("--archive")) {
        DockerArchiveWriteOptions wo;
        if (a.has("--repo-tag")) {
            wo.repo_tags.push_back(a.get("--repo-tag"));
        }
        EDGESHIP_TRY(write_docker_archive(img, a.get("--archive"), wo));
    }
    if (scratch) {
        fs::remove_all(*scratch);
    }
    return describe(img);
}

Result<json> cmd_read_oci(const Args& a) {
    if (a.positional.empty()) {
        return fail("read-oci DIR [TAG]", ExitCode::usage);
    }
    EDGESHIP_TRY_ASSIGN(auto layout, OciLayout::open(a.positional[0]));
    LoadOptions o;
    o.verify_diff_ids = a.has("--deep");
    if (a.has("--platform")) {
        EDGESHIP_TRY_ASSIGN(o.platform, Platform::parse(a.get("--platform")));
    }
    EDGESHIP_TRY_ASSIGN(auto img, layout.load_image(a.positional.size() > 1 ? a.positional[1] : "", o));
    auto j = describe(img);
    j["tags"] = layout.tags();
    return j;
}

Result<json> cmd_read_archive(const Args& a) {
    if (a.positional.empty()) {
        return fail("read-archive FILE", ExitCode::usage);
    }
    fs::path staging = fs::path(a.positional[0]).parent_path() / ".oci_tool-staging";
    fs::create_directories(staging);
    DockerArchiveReadOptions o;
    o.repo_tag = a.get("--repo-tag");
    auto r = read_docker_archive(a.positional[0], staging, o);
    if (!r) {
        fs::remove_all(staging);
        return unexpected(std::move(r).error());
    }
    auto j = describe(r->image);
    j["repo_tags"] = r->repo_tags;
    fs::remove_all(staging);
    return j;
}

Result<json> cmd_archive_to_oci(const Args& a) {
    if (a.positional.size() < 3) {
        return fail("archive-to-oci FILE DIR TAG", ExitCode::usage);
    }
    EDGESHIP_TRY_ASSIGN(auto layout, OciLayout::create(a.positional[1]));
    fs::path staging = layout.dir() / ".staging";
    fs::create_directories(staging);
    EDGESHIP_TRY_ASSIGN(auto read, read_docker_archive(a.positional[0], staging));
    EDGESHIP_TRY_ASSIGN(auto img, compress_layers(read.image, layout.blobs_dir(), format_of(a), BlobWriterOptions{}));
    EDGESHIP_TRY(layout.write_image(img));
    EDGESHIP_TRY(layout.set_tag(img.manifest.descriptor, a.positional[2]));
    fs::remove_all(staging);
    return describe(img);
}

Result<json> cmd_oci_to_archive(const Args& a) {
    if (a.positional.size() < 3) {
        return fail("oci-to-archive DIR TAG FILE", ExitCode::usage);
    }
    EDGESHIP_TRY_ASSIGN(auto layout, OciLayout::open(a.positional[0]));
    EDGESHIP_TRY_ASSIGN(auto img, layout.load_image(a.positional[1]));
    DockerArchiveWriteOptions wo;
    if (a.has("--repo-tag")) {
        EDGESHIP_TRY_ASSIGN(auto ref, Reference::parse(a.get("--repo-tag")));
        wo.repo_tags.push_back(ref.familiar());
    }
    EDGESHIP_TRY(write_docker_archive(img, a.positional[2], wo));
    return describe(img);
}

Result<json> cmd_scan(const Args& a) {
    if (a.positional.empty()) {
        return fail("scan LAYER", ExitCode::usage);
    }
    EDGESHIP_TRY_ASSIGN(auto s, scan_layer(a.positional[0], a.positional[0], ScanOptions{}));
    json entries = json::array();
    for (const auto& e : s.entries) {
        entries.push_back({{"path", e.path}, {"mode", e.mode}, {"size", e.size}, {"mtime", e.mtime}, {"link", e.link_target}});
    }
    return json{{"digest", s.digest.str()},
                {"diff_id", s.diff_id.str()},
                {"size", s.size},
                {"uncompressed_size", s.uncompressed_size},
                {"entries", entries}};
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: oci_tool build|read-oci|read-archive|archive-to-oci|oci-to-archive|scan …\n";
        return 2;
    }
    std::string cmd = argv[1];
    auto args = parse_args(argc, argv, 2);
    Result<json> r = fail("unknown command " + cmd, ExitCode::usage);
    if (cmd == "build") {
        r = cmd_build(args);
    } else if (cmd == "read-oci") {
        r = cmd_read_oci(args);
    } else if (cmd == "read-archive") {
        r = cmd_read_archive(args);
    } else if (cmd == "archive-to-oci") {
        r = cmd_archive_to_oci(args);
    } else if (cmd == "oci-to-archive") {
        r = cmd_oci_to_archive(args);
    } else if (cmd == "scan") {
        r = cmd_scan(args);
    }
    if (!r) {
        std::cerr << "oci_tool: error: " << r.error().what() << "\n";
        return to_int(r.error().code());
    }
    std::cout << r->dump(2) << "\n";
    return 0;
}
