#pragma once
// Image commands (issue 6): `build` (module images without a Docker daemon: base + model layer + app
// layer, into an OCI layout, a docker-archive or a registry) and `export` (one module as a docker-archive
// for an air-gapped gateway). Same pattern as commands.hpp. The library is lib/imagebuild.

#include "imagebuild/deps_layer.hpp"
#include "cli/context.hpp"
#include "cli/registry_flags.hpp"

#include <CLI/App.hpp>

#include <string>
#include <vector>

namespace edgeship::cli {

// build -----------------------------------------------------------------------------------------
/// --npm, --pip, --base-registry: the tools of the dependencies layer and where default bases come
/// from (settings npm, pip, base_registry: flag > environment > .env > default).
struct ImageToolFlags {
    std::string npm;
    std::string pip;
    std::string base_registry;
};
void add_image_tool_flags(CLI::App* sub, ImageToolFlags& flags);
/// The resolved tools and base registry for imagebuild::BuildImagesRequest.
struct ImageTools {
    imagebuild::DepsTools tools;
    std::string base_registry;
};
ImageTools resolve_image_tools(Context& ctx, const ImageToolFlags& flags);

struct BuildOptions {
    std::vector<std::string> modules; ///< folders under modules/; empty = all
    std::string solution = ".";
    std::vector<std::string> platforms; ///< empty = module.json's (without .debug)
    std::string base;                   ///< --base REF for every module/platform
    std::string model;                  ///< --model FILE replaces the module's model
    bool push = false;
    std::string oci_layout;
    std::string archive;
    std::string format = "oci";
    std::string template_dir;
    bool json = false;
    RegistryFlags registry;
    ImageToolFlags tools;
};
void register_build(CLI::App& parent, Context& ctx, Runner<BuildOptions> run);
Result<void> run_build(const BuildOptions& opts, Context& ctx);

// export ----------------------------------------------------------------------------------------
struct ExportOptions {
    std::string module;
    std::string archive;
    std::string platform; ///< default: DEFAULT_PLATFORM from .env/environment, else amd64
    std::string solution = ".";
    std::string base;
    std::string model;
    std::string template_dir;
    bool json = false;
    RegistryFlags registry;
    ImageToolFlags tools;
};
void register_export(CLI::App& parent, Context& ctx, Runner<ExportOptions> run);
Result<void> run_export(const ExportOptions& opts, Context& ctx);

} // namespace edgeship::cli
