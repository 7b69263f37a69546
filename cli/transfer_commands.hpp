#pragma once

// `edgeship push` and `edgeship pull`: images between OCI layouts / docker-archives and registries
// (lib/registry/client.hpp; docs/design/registry.md §11).

#include "cli/context.hpp"
#include "cli/registry_flags.hpp"
#include "core/result.hpp"

#include <CLI/App.hpp>

#include <string>

namespace edgeship::cli {

struct PushOptions {
    std::string source;      ///< oci:DIR[:TAG] | docker-archive:FILE
    std::string destination; ///< host[:port]/repo:tag
    std::string platform;    ///< one platform of a multi-platform layout tag (default: the whole index)
    unsigned chunk_mib = 0;  ///< --chunk-size: PATCH chunks of this many MiB (≥ 8); 0 = one streamed PATCH
    bool json = false;
    RegistryFlags registry;
};
void register_push(CLI::App& parent, Context& ctx, Runner<PushOptions> run);
Result<void> run_push(const PushOptions& opts, Context& ctx);

struct PullOptions {
    std::string reference;  ///< host[:port]/repo[:tag][@digest]
    std::string oci_layout; ///< --oci-layout DIR (created when missing)
    std::string platform;   ///< --platform: one image of an index (default: every platform)
    std::string tag;        ///< --tag: the layout tag (default: the reference's tag)
    bool json = false;
    RegistryFlags registry;
};
void register_pull(CLI::App& parent, Context& ctx, Runner<PullOptions> run);
Result<void> run_pull(const PullOptions& opts, Context& ctx);

} // namespace edgeship::cli
