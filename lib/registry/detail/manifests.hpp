#pragma once

// Manifests (docs/design/registry.md §3): GET with all four Accept types and the digest checked, PUT with
// Docker-Content-Digest compared to the bytes sent, and the HEAD that finds an unchanged re-push. Internal.

#include "registry/detail/session.hpp"

#include <optional>
#include <string>

namespace edgeship::registry::detail {

/// GET /v2/<repo>/manifests/<ref> with all four Accept types (§3.2): the bytes and their media type (from
/// Content-Type, else sniffed). Checks the bytes against `expected` (a reference by digest) and against
/// Docker-Content-Digest.
Result<oci::Blob> fetch_manifest(Conn& c, const std::string& repo, const std::string& ref,
                                 const std::optional<oci::Digest>& expected);

/// PUT /v2/<repo>/manifests/<ref> (§3.1, §11.5): the digest of the bytes sent, which must equal both their
/// descriptor's and the registry's Docker-Content-Digest.
Result<oci::Digest> put_manifest(Conn& c, const std::string& repo, const std::string& ref, const oci::Blob& m);

/// Whether `repo:ref` already names the manifest `digest` (docs/design/registry.md §3.2: HEAD answers
/// Docker-Content-Digest). A re-push of an unchanged image then costs one request instead of a HEAD per
/// blob and a manifest PUT — as crane does (go-containerregistry remote.Write checks the existing
/// manifest first). Blobs need no HEAD: the registry refused that manifest unless they were present.
/// Anything but a 200 with the same digest (404, no header, another digest) means "push as usual".

Result<bool> manifest_present(Shared& s, const std::string& repo, const std::string& ref, const oci::Digest& digest);

} // namespace edgeship::registry::detail
