# unit_registry runs the transfer client against an in-process fake registry (fake_registry.cpp).
target_sources(unit_registry PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/registry/fake_registry.cpp")
target_link_libraries(unit_registry PRIVATE nlohmann_json::nlohmann_json Threads::Threads)
