# unit_oci reads layers back with libarchive and checks gzip with zlib, independently of lib/oci.
find_package(ZLIB REQUIRED)
target_link_libraries(unit_oci PRIVATE LibArchive::LibArchive ZLIB::ZLIB nlohmann_json::nlohmann_json)
