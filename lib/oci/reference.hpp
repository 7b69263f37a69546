#pragma once

#include "core/result.hpp"
#include "oci/digest.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace edgeship::oci {

/// Docker Hub's canonical registry name and its API endpoint (docker.io is not an API host).
inline constexpr std::string_view k_docker_hub = "docker.io";
inline constexpr std::string_view k_docker_hub_api = "registry-1.docker.io";

/// An image reference `[registry[:port]/]repository[:tag][@sha256:…]`, normalized as Docker does:
/// no registry ⇒ docker.io; a one-component Docker Hub repository gets "library/"; no tag and no digest ⇒
/// tag "latest". Grammar: docs/design/registry.md §1 (distribution's reference grammar).
/// Value type; thread-safe to share.
struct Reference {
    std::string registry;         ///< "docker.io", "localhost:5000", "[::1]:5000", "myacr.azurecr.io"
    std::string repository;       ///< "library/ubuntu", "team/app"
    std::string tag;              ///< empty only when a digest is given without a tag
    std::optional<Digest> digest; ///< "@sha256:…" if given

    /// Parses and normalizes. Errors are one line `invalid reference "TEXT": reason` (upper-case
    /// repository, bad tag, bad digest, empty component, too long, bad port…).
    static Result<Reference> parse(std::string_view text);

    /// registry/repository, e.g. "docker.io/library/ubuntu".
    std::string name() const;
    /// The full normalized form: name[:tag][@digest].
    std::string str() const;
    /// Docker's short form used in `docker save` RepoTags: "ubuntu:22.04", "team/app:1", "localhost:5000/x:1".
    std::string familiar() const;
    /// Host[:port] to talk HTTP to: registry-1.docker.io for docker.io, else the registry itself.
    std::string api_host() const;
    /// What goes after /manifests/: the digest when present, else the tag.
    std::string manifest_ref() const;
    /// Same repository with another tag (digest dropped).
    Reference with_tag(std::string new_tag) const;
    /// Same repository pinned to a digest (tag kept for display).
    Reference with_digest(Digest d) const;

    friend bool operator==(const Reference&, const Reference&) = default;
};

/// True if `tag` matches `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}` (docs/design/registry.md §1).
bool is_valid_tag(std::string_view tag);
/// True if `repository` matches the path-component grammar (lower case, separators . _ __ -+, '/').
bool is_valid_repository(std::string_view repository);

} // namespace edgeship::oci
