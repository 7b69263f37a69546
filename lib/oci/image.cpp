#include "oci/image.hpp"

#include "oci/media_types.hpp"

namespace edgeship::oci {

Result<std::filesystem::path> ImageLayer::require_file(std::string_view what) const {
    if (const auto* file = local_file()) {
        return *file;
    }
    return fail(std::string(what) + " " + descriptor.digest.short_str() + " stays in " +
                std::get<RemoteBlob>(source).str() + ": it is not on disk");
}

ImageLayer ImageLayer::from_blob(const LayerBlob& blob, ManifestFormat format) {
    ImageLayer l;
    bool oci = format == ManifestFormat::oci;
    bool gz = blob.compression == Compression::gzip;
    l.descriptor.media_type = std::string(gz ? (oci ? media_type::oci_layer_gzip : media_type::docker_layer_gzip)
                                             : (oci ? media_type::oci_layer : media_type::docker_layer));
    l.descriptor.digest = blob.digest;
    l.descriptor.size = static_cast<std::int64_t>(blob.size);
    l.diff_id = blob.diff_id;
    l.source = LocalFile{blob.path, std::nullopt};
    l.uncompressed_size = blob.uncompressed_size;
    return l;
}

namespace {

// Shared by assemble_image (fresh canonical config) and compress_layers (config bytes kept as they are).
Result<LocalImage> assemble(const ImageConfig& config, const Blob* existing_config, std::vector<ImageLayer> layers,
                            ManifestFormat format, const std::map<std::string, std::string>& annotations) {
    if (config.diff_ids.size() != layers.size()) {
        return fail("image config lists " + std::to_string(config.diff_ids.size()) + " diff_ids but the image has " +
                    std::to_string(layers.size()) + " layers");
    }
    for (std::size_t i = 0; i < layers.size(); ++i) {
        if (config.diff_ids[i] != layers[i].diff_id) {
            return fail("layer " + std::to_string(i) + " (" + layers[i].descriptor.digest.short_str() + "): DiffID " +
                        layers[i].diff_id.str() + " does not match config rootfs.diff_ids[" + std::to_string(i) +
                        "] " + config.diff_ids[i].str());
        }
        EDGESHIP_TRY_ASSIGN(layers[i].descriptor.media_type,
                            convert_layer_media_type(layers[i].descriptor.media_type, format));
    }
    LocalImage img;
    if (existing_config != nullptr) {
        img.config = *existing_config;
        img.config.descriptor.media_type = std::string(config_media_type(format));
    } else {
        EDGESHIP_TRY_ASSIGN(img.config, config.to_blob(format));
    }
    img.parsed_config = config;
    img.parsed_manifest.media_type = std::string(manifest_media_type(format));
    img.parsed_manifest.config = img.config.descriptor;
    for (const auto& l : layers) {
        img.parsed_manifest.layers.push_back(l.descriptor);
    }
    if (format == ManifestFormat::oci) {
        img.parsed_manifest.annotations = annotations;
    }
    EDGESHIP_TRY_ASSIGN(img.manifest, make_blob(img.parsed_manifest));
    img.manifest.descriptor.platform = config.platform();
    img.layers = std::move(layers);
    return img;
}

} // namespace

Result<LocalImage> assemble_image(const ImageConfig& config, std::vector<ImageLayer> layers, ManifestFormat format,
                                  const std::map<std::string, std::string>& annotations) {
    return assemble(config, nullptr, std::move(layers), format, annotations);
}

Result<LocalImage> assemble_image(const Blob& config, const ImageConfig& parsed, std::vector<ImageLayer> layers,
                                  ManifestFormat format, const std::map<std::string, std::string>& annotations) {
    return assemble(parsed, &config, std::move(layers), format, annotations);
}

Result<Blob> make_index(const std::vector<const LocalImage*>& images, ManifestFormat format,
                        const std::map<std::string, std::string>& annotations) {
    Index idx;
    idx.media_type = std::string(index_media_type(format));
    if (format == ManifestFormat::oci) {
        idx.annotations = annotations;
    }
    for (std::size_t i = 0; i < images.size(); ++i) {
        const auto& img = *images[i];
        if (img.format() != format) {
            return fail("index: image " + std::to_string(i) + " (" + img.platform().str() +
                        ") is in the other manifest format");
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (images[j]->platform() == img.platform()) {
                return fail("index: two images for platform " + img.platform().str());
            }
        }
        Descriptor d = img.manifest.descriptor;
        d.platform = img.platform();
        d.annotations.clear();
        idx.manifests.push_back(std::move(d));
    }
    return make_blob(idx);
}

Result<LocalImage> compress_layers(const LocalImage& image, const std::filesystem::path& out_dir, ManifestFormat format,
                                   const BlobWriterOptions& options) {
    std::vector<ImageLayer> layers;
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        const auto& l = image.layers[i];
        if (!media_type::is_tar_layer(l.descriptor.media_type)) {
            layers.push_back(l);
            continue;
        }
        BlobWriterOptions o = options;
        o.compression = Compression::gzip;
        o.expected_total = static_cast<std::uint64_t>(l.descriptor.size);
        EDGESHIP_TRY_ASSIGN(auto path, l.require_file("layer " + std::to_string(i)));
        auto blob = compress_tar_file(path, out_dir, o);
        if (!blob) {
            return unexpected(std::move(blob).error().context("compressing layer " + std::to_string(i)));
        }
        if (blob->diff_id != l.diff_id) {
            return fail("layer " + std::to_string(i) + " (" + path.string() + "): content hashes to " +
                        blob->diff_id.str() + ", expected DiffID " + l.diff_id.str());
        }
        layers.push_back(ImageLayer::from_blob(*blob, format));
    }
    return assemble(image.parsed_config, &image.config, std::move(layers), format, image.parsed_manifest.annotations);
}

} // namespace edgeship::oci
