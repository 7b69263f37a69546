#include "manifest/create_options.hpp"

#include <cctype>
#include <cstdio>

namespace edgeship::manifest {

std::vector<std::string> split_chunks(const std::string& text, std::size_t chunk) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t start = i;
        std::size_t points = 0;
        while (i < text.size() && points < chunk) {
            unsigned char c = static_cast<unsigned char>(text[i]);
            std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
            i = std::min(text.size(), i + len);
            ++points;
        }
        out.push_back(text.substr(start, i - start));
    }
    return out;
}

namespace {
bool is_chunk_key(const std::string& k) {
    return k.size() == 15 && k.rfind("createOptions", 0) == 0 && std::isdigit(static_cast<unsigned char>(k[13])) &&
           std::isdigit(static_cast<unsigned char>(k[14]));
}
} // namespace

std::string chunk_key(std::size_t index) {
    if (index == 0) {
        return "createOptions";
    }
    std::string digits = std::to_string(index);
    return "createOptions" + (digits.size() < 2 ? "0" + digits : digits);
}

Result<void> convert_create_options(nlohmann::ordered_json& settings, const std::string& module) {
    if (!settings.is_object() || !settings.contains("createOptions")) {
        return {};
    }
    const auto& co = settings["createOptions"];
    if (co.is_string()) {
        for (const auto& [k, v] : settings.items()) {
            if (is_chunk_key(k)) {
                return {}; // already chunked by hand: kept as written, checked by validate
            }
        }
    }
    // §3 step 1: objects serialized like Python json.dumps(separators=(',',':')) with ensure_ascii
    std::string text = co.is_string() ? co.get<std::string>() : co.dump(-1, ' ', true);
    auto chunks = split_chunks(text);
    if (chunks.size() > k_create_options_max_chunks) {
        return fail("Size of createOptions of " + module + " is too big (" + std::to_string(text.size()) +
                    " characters in " + std::to_string(chunks.size()) +
                    " chunks). The maximum size of createOptions is 4K (8 chunks of 512)",
                    ExitCode::validation);
    }
    // drop stale chunk keys, then write the new run in place of createOptions (order kept)
    nlohmann::ordered_json rebuilt = nlohmann::ordered_json::object();
    for (auto& [k, v] : settings.items()) {
        if (k == "createOptions") {
            if (chunks.empty()) {
                rebuilt[k] = "";
            }
            for (std::size_t i = 0; i < chunks.size(); ++i) {
                rebuilt[chunk_key(i)] = chunks[i];
            }
        } else if (is_chunk_key(k)) {
            continue;
        } else {
            rebuilt[k] = std::move(v);
        }
    }
    settings = std::move(rebuilt);
    return {};
}

} // namespace edgeship::manifest
