#pragma once

// Reading from a registry (docs/design/registry.md §2.6, §3.2-3.3): blobs downloaded with their digest
// verified and cut transfers resumed with Range, an image read without its layers (RemoteImage), whole
// images or indexes pulled into an OCI layout. Internal.

#include "registry/detail/session.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace edgeship::registry::detail {

/// Downloads a blob into `out_dir` through a BlobFileWriter (digest and size verified), resuming a cut
/// transfer with `Range: bytes=N-` (§2.6). Returns the committed path; adds the bytes received to
/// `*bytes_received` when given.
Result<std::filesystem::path> download_blob(Conn& c, const std::string& repo, const oci::Descriptor& d,
                                            const std::filesystem::path& out_dir, Events& ev,
                                            std::uint64_t* bytes_received);

/// A small blob (config) into memory, digest checked.
Result<std::string> fetch_small_blob(Conn& c, const std::string& repo, const oci::Descriptor& d);

/// `ref` resolved to `platform`'s manifest (through an index when it is one), with its config; every layer
/// is an oci::RemoteBlob in ref's registry and repository.
Result<RemoteImage> remote_image(Conn& c, const oci::Reference& ref, const oci::Platform& platform);

/// The index entry for `p` (os, architecture, and variant when `p` has one).
Result<oci::Descriptor> choose_platform(const oci::Index& index, const oci::Platform& p, const std::string& what);

/// Registry::pull_to_layout: blobs in parallel (largest first, those the layout holds skipped), config,
/// manifest, then index.json's tag last.
Result<TransferReport> pull_to_layout(Shared& s, const oci::Reference& ref, oci::OciLayout& layout,
                                      const std::optional<oci::Platform>& platform, const std::string& tag_arg,
                                      const BlobEventCallback& events);

} // namespace edgeship::registry::detail
