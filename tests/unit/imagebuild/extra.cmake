# unit_imagebuild reads built layers back with libarchive, independently of lib/oci's writer.
target_link_libraries(unit_imagebuild PRIVATE LibArchive::LibArchive nlohmann_json::nlohmann_json)
