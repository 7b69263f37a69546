#pragma once

// Pushing images (docs/design/registry.md §3.1, §3.4, §11.3-5): layers in parallel, each by where it is
// (a local file uploaded or mounted, a registry blob HEAD-skipped, mounted or streamed through from
// another registry), then the config, then the manifest, which is never PUT unless every blob is
// present. Internal.

#include "registry/detail/session.hpp"

#include <optional>
#include <string>
#include <vector>

namespace edgeship::registry::detail {

/// Layers in parallel (largest first), then the config, then the manifest under `manifest_ref`; the
/// digest the registry confirmed. The first failing blob stops the push before the manifest.
Result<oci::Digest> push_one(Shared& s, const oci::LocalImage& image, const std::string& repo,
                             const std::string& manifest_ref, Events& ev, TransferReport& report);

/// Reports every blob of `images` as present (the tag already names their manifest).
void report_up_to_date(const std::vector<const oci::LocalImage*>& images, Events& ev, TransferReport& report);

/// One layer into `repo`, by its source (blob_mount.cpp): a local file is uploaded (mounted first when
/// another repository of this registry is known to hold it); a registry blob in `repo` is HEAD-checked,
/// in another repository of this registry mounted, elsewhere streamed through a scratch file.
Result<BlobResult> push_layer(Conn& c, const std::string& repo, const oci::ImageLayer& layer, Events& ev);

/// HEAD, then POST ?mount=&from= (§2.5). nullopt when the registry opened an ordinary session instead
/// (202): that session is deleted, as there are no local bytes to send into it.
Result<std::optional<BlobResult>> try_mount(Conn& c, const std::string& repo, const oci::Descriptor& d,
                                            const std::string& from, Events& ev);

} // namespace edgeship::registry::detail
