#include "cli/commands.hpp"

#include "edgeship/version_info.hpp"

#include <CLI/Version.hpp>
#include <archive.h>
#include <curl/curl.h>
#include <google/protobuf/stubs/common.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <sys/utsname.h>

namespace edgeship::cli {

namespace {

// Versions are read from the libraries only when asked, so start-up does no work (issue #2).
nlohmann::ordered_json dependency_versions() {
    nlohmann::ordered_json deps;
    deps["cli11"] = CLI11_VERSION;
    deps["nlohmann_json"] = std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_PATCH);
    deps["onnx"] = build_info::k_onnx_version;
    deps["protobuf"] = google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION);
    deps["openssl"] = OpenSSL_version(OPENSSL_VERSION);
    deps["libcurl"] = curl_version_info(CURLVERSION_NOW)->version;
    deps["libarchive"] = archive_version_string();
    return deps;
}

std::string platform() {
    struct utsname u {};
    if (::uname(&u) != 0) {
        return "unknown";
    }
    return std::string(u.sysname) + "/" + u.machine;
}

} // namespace

std::string version_line() {
    return std::string("edgeship ") + build_info::k_version + " (" + build_info::k_git_commit + ")";
}

void register_version(CLI::App& parent, Context& ctx, Runner<VersionOptions> run) {
    auto opts = std::make_shared<VersionOptions>();
    auto* sub = parent.add_subcommand("version", "Print the version, git commit and dependency versions");
    sub->add_flag("--json", opts->json, "Print JSON: version, git_commit, platform, dependencies");
    sub->footer("Examples:\n  edgeship version\n  edgeship version --json | jq -r .git_commit");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_version(const VersionOptions& opts, Context& ctx) {
    if (opts.json) {
        nlohmann::ordered_json j;
        j["version"] = build_info::k_version;
        j["git_commit"] = build_info::k_git_commit;
        j["platform"] = platform();
        j["dependencies"] = dependency_versions();
        ctx.io.out << j.dump(2) << '\n';
        return {};
    }
    ctx.io.out << version_line() << '\n';
    const auto deps = dependency_versions();
    for (auto it = deps.begin(); it != deps.end(); ++it) {
        ctx.io.out << "  " << it.key() << ' ' << it.value().get<std::string>() << '\n';
    }
    return {};
}

} // namespace edgeship::cli
