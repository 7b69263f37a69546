// The transport syntax of image sources (oci/image_source.hpp).

#include "oci/image_source.hpp"

namespace edgeship::oci {

Result<ImageSource> ImageSource::parse(std::string_view text, std::string_view what) {
    ImageSource r;
    r.text = std::string(text);
    const std::string name(what);
    auto starts = [&](std::string_view p) { return text.substr(0, p.size()) == p; };
    if (starts("oci:")) {
        r.kind = Kind::oci_layout;
        std::string rest(text.substr(4));
        // oci:DIR[:TAG] — the tag is after the last ':' unless that part looks like a path
        auto colon = rest.rfind(':');
        if (colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
            r.tag = rest.substr(colon + 1);
            rest = rest.substr(0, colon);
        }
        if (rest.empty()) {
            return fail(name + " \"" + r.text + "\": empty layout directory (oci:DIR[:TAG])");
        }
        r.path = rest;
        return r;
    }
    if (starts("docker-archive:")) {
        r.kind = Kind::docker_archive;
        r.path = std::string(text.substr(15));
        if (r.path.empty()) {
            return fail(name + " \"" + r.text + "\": empty archive path (docker-archive:FILE)");
        }
        return r;
    }
    r.kind = Kind::registry;
    std::string_view ref_text = text;
    if (starts("docker://")) {
        ref_text = text.substr(9);
    } else {
        r.transport_given = false;
    }
    auto ref = Reference::parse(ref_text);
    if (!ref) {
        return unexpected(std::move(ref).error().context(name));
    }
    r.reference = *ref;
    return r;
}

} // namespace edgeship::oci
