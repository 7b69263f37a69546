#include "oci/gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#if EDGESHIP_OCI_HAVE_ISAL
#include <isa-l.h>
#endif

namespace edgeship::oci {
namespace {

constexpr std::size_t k_out_chunk = 256 * 1024;
// Input handed to one engine call: both engines count in 32-bit fields.
constexpr std::size_t k_max_in = 64u << 20;

// Fixed gzip header: magic, CM=deflate, FLG=0, MTIME=0, XFL=0, OS=255 (unknown) — docs/design/registry.md
// §8.2: the header is set explicitly so the digest depends on the data, the engine and the level only.
constexpr std::array<unsigned char, 10> k_gzip_header = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};

std::string_view header_view() {
    return {reinterpret_cast<const char*>(k_gzip_header.data()), k_gzip_header.size()};
}

} // namespace

bool isal_available() { return EDGESHIP_OCI_HAVE_ISAL != 0; }
GzipEngine default_gzip_engine() { return isal_available() ? GzipEngine::isal : GzipEngine::zlib; }
std::string_view to_string(GzipEngine engine) { return engine == GzipEngine::isal ? "isal" : "zlib"; }

bool looks_like_gzip(std::string_view head) {
    return head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
           static_cast<unsigned char>(head[1]) == 0x8b;
}

// ---------------------------------------------------------------------------------------------------
// Compressors

struct GzipCompressor::Impl {
    virtual ~Impl() = default;
    virtual Result<void> write(std::string_view in, const ByteSink& out) = 0;
    virtual Result<void> finish(const ByteSink& out) = 0;
    bool header_written = false;
    std::vector<unsigned char> out_buf = std::vector<unsigned char>(k_out_chunk);

    Result<void> ensure_header(const ByteSink& out) {
        if (!header_written) {
            header_written = true;
            return out(header_view());
        }
        return {};
    }
};

namespace {

class ZlibCompressor final : public GzipCompressor::Impl {
public:
    explicit ZlibCompressor(int level) : m_level(level) {}
    ~ZlibCompressor() override {
        if (m_init) {
            deflateEnd(&m_z);
        }
    }
    Result<void> init() {
        // Raw deflate (negative window bits): header and trailer are written here, identical for
        // both engines.
        if (deflateInit2(&m_z, m_level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            return fail("zlib: cannot initialise deflate");
        }
        m_init = true;
        return {};
    }
    Result<void> write(std::string_view in, const ByteSink& out) override {
        EDGESHIP_TRY(ensure_header(out));
        while (!in.empty()) {
            auto piece = in.substr(0, k_max_in);
            in.remove_prefix(piece.size());
            m_crc = crc32(m_crc, reinterpret_cast<const Bytef*>(piece.data()), static_cast<uInt>(piece.size()));
            m_size += piece.size();
            m_z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
            m_z.avail_in = static_cast<uInt>(piece.size());
            EDGESHIP_TRY(pump(Z_NO_FLUSH, out));
        }
        return {};
    }
    Result<void> finish(const ByteSink& out) override {
        EDGESHIP_TRY(ensure_header(out));
        m_z.next_in = nullptr;
        m_z.avail_in = 0;
        EDGESHIP_TRY(pump(Z_FINISH, out));
        unsigned char trailer[8];
        auto put32 = [&](unsigned char* p, std::uint32_t v) {
            for (int i = 0; i < 4; ++i) {
                p[i] = static_cast<unsigned char>(v >> (8 * i));
            }
        };
        put32(trailer, static_cast<std::uint32_t>(m_crc));
        put32(trailer + 4, static_cast<std::uint32_t>(m_size & 0xffffffffu));
        return out(std::string_view(reinterpret_cast<const char*>(trailer), 8));
    }

private:
    Result<void> pump(int flush, const ByteSink& out) {
        for (;;) {
            m_z.next_out = out_buf.data();
            m_z.avail_out = static_cast<uInt>(out_buf.size());
            int rc = deflate(&m_z, flush);
            if (rc == Z_STREAM_ERROR) {
                return fail("zlib: deflate failed");
            }
            std::size_t produced = out_buf.size() - m_z.avail_out;
            if (produced > 0) {
                EDGESHIP_TRY(out(std::string_view(reinterpret_cast<const char*>(out_buf.data()), produced)));
            }
            if (flush == Z_FINISH) {
                if (rc == Z_STREAM_END) {
                    return {};
                }
            } else if (m_z.avail_in == 0 && m_z.avail_out != 0) {
                return {};
            }
        }
    }
    int m_level;
    bool m_init = false;
    z_stream m_z{};
    uLong m_crc = crc32(0L, Z_NULL, 0);
    std::uint64_t m_size = 0;
};

#if EDGESHIP_OCI_HAVE_ISAL
// ISA-L igzip streaming (docs/design/registry.md §8.6): IGZIP_GZIP_NO_HDR so ISA-L writes only the trailer
// after our explicit header; a caller-owned level buffer for levels ≥ 1.
class IsalCompressor final : public GzipCompressor::Impl {
public:
    explicit IsalCompressor(int level) {
        m_stream = std::make_unique<isal_zstream>();
        isal_deflate_init(m_stream.get());
        m_stream->level = static_cast<std::uint32_t>(level);
        std::size_t buf = 0;
        switch (level) {
        case 1:
            buf = ISAL_DEF_LVL1_DEFAULT;
            break;
        case 2:
            buf = ISAL_DEF_LVL2_DEFAULT;
            break;
        case 3:
            buf = ISAL_DEF_LVL3_DEFAULT;
            break;
        default:
            buf = 0;
        }
        m_level_buf.resize(buf);
        m_stream->level_buf = buf ? m_level_buf.data() : nullptr;
        m_stream->level_buf_size = static_cast<std::uint32_t>(buf);
        m_stream->gzip_flag = IGZIP_GZIP_NO_HDR;
        m_stream->flush = NO_FLUSH;
        m_stream->end_of_stream = 0;
    }
    // isal_deflate's output depends on how the input is split into calls, so input is re-cut into
    // fixed k_block pieces: the blob then depends on the bytes only, not on the caller's write sizes.
    Result<void> write(std::string_view in, const ByteSink& out) override {
        EDGESHIP_TRY(ensure_header(out));
        while (!in.empty()) {
            if (m_stage.empty() && in.size() >= k_block) {
                EDGESHIP_TRY(compress_block(in.substr(0, k_block), out));
                in.remove_prefix(k_block);
                continue;
            }
            auto take = std::min(k_block - m_stage.size(), in.size());
            m_stage.append(in.substr(0, take));
            in.remove_prefix(take);
            if (m_stage.size() == k_block) {
                EDGESHIP_TRY(compress_block(m_stage, out));
                m_stage.clear();
            }
        }
        return {};
    }
    Result<void> finish(const ByteSink& out) override {
        EDGESHIP_TRY(ensure_header(out));
        m_stream->next_in = reinterpret_cast<std::uint8_t*>(m_stage.data());
        m_stream->avail_in = static_cast<std::uint32_t>(m_stage.size());
        m_stream->end_of_stream = 1;
        while (m_stream->internal_state.state != ZSTATE_END) {
            EDGESHIP_TRY(step(out));
        }
        return {};
    }

private:
    static constexpr std::size_t k_block = 1u << 20;

    Result<void> compress_block(std::string_view block, const ByteSink& out) {
        m_stream->next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(block.data()));
        m_stream->avail_in = static_cast<std::uint32_t>(block.size());
        do {
            EDGESHIP_TRY(step(out));
        } while (m_stream->avail_in > 0 || m_stream->avail_out == 0);
        return {};
    }

    Result<void> step(const ByteSink& out) {
        m_stream->next_out = out_buf.data();
        m_stream->avail_out = static_cast<std::uint32_t>(out_buf.size());
        int rc = isal_deflate(m_stream.get());
        if (rc != COMP_OK) {
            return fail("ISA-L: isal_deflate failed (code " + std::to_string(rc) + ")");
        }
        std::size_t produced = out_buf.size() - m_stream->avail_out;
        if (produced > 0) {
            EDGESHIP_TRY(out(std::string_view(reinterpret_cast<const char*>(out_buf.data()), produced)));
        }
        return {};
    }
    std::unique_ptr<isal_zstream> m_stream;
    std::vector<std::uint8_t> m_level_buf;
    std::string m_stage;
};
#endif

} // namespace

GzipCompressor::GzipCompressor(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
GzipCompressor::GzipCompressor(GzipCompressor&&) noexcept = default;
GzipCompressor& GzipCompressor::operator=(GzipCompressor&&) noexcept = default;
GzipCompressor::~GzipCompressor() = default;

Result<GzipCompressor> GzipCompressor::create(const GzipOptions& options) {
    if (options.engine == GzipEngine::isal) {
#if EDGESHIP_OCI_HAVE_ISAL
        if (options.level < 0 || options.level > 3) {
            return fail("gzip level " + std::to_string(options.level) + " is not supported by ISA-L (use 0-3)");
        }
        return GzipCompressor(std::make_unique<IsalCompressor>(options.level));
#else
        return fail("gzip engine isal requested, but edgeship was built without libisal (install libisal-dev)");
#endif
    }
    if (options.level < 1 || options.level > 9) {
        return fail("gzip level " + std::to_string(options.level) + " is not supported by zlib (use 1-9)");
    }
    auto z = std::make_unique<ZlibCompressor>(options.level);
    EDGESHIP_TRY(z->init());
    return GzipCompressor(std::move(z));
}

Result<void> GzipCompressor::write(std::string_view input, const ByteSink& out) { return m_impl->write(input, out); }
Result<void> GzipCompressor::finish(const ByteSink& out) { return m_impl->finish(out); }

// ---------------------------------------------------------------------------------------------------
// Decompressors

struct GzipDecompressor::Impl {
    virtual ~Impl() = default;
    virtual Result<void> write(std::string_view in, const ByteSink& out) = 0;
    virtual bool member_complete() const = 0;
    std::uint64_t total_in = 0;
    std::uint64_t total_out = 0;
    bool seen_input = false;
    std::vector<unsigned char> out_buf = std::vector<unsigned char>(k_out_chunk);
};

namespace {

std::string truncated_message(std::uint64_t in) {
    return "truncated gzip stream (input ended after " + std::to_string(in) + " compressed bytes)";
}

class ZlibDecompressor final : public GzipDecompressor::Impl {
public:
    ~ZlibDecompressor() override {
        if (m_init) {
            inflateEnd(&m_z);
        }
    }
    Result<void> init() {
        if (inflateInit2(&m_z, 15 + 16) != Z_OK) {
            return fail("zlib: cannot initialise inflate");
        }
        m_init = true;
        return {};
    }
    Result<void> write(std::string_view in, const ByteSink& out) override {
        while (!in.empty()) {
            if (m_member_done) {
                // A further member must start with the magic; anything else is trailing garbage.
                if (static_cast<unsigned char>(in[0]) != 0x1f) {
                    return fail("corrupt gzip stream: unexpected data after the end of the stream");
                }
                inflateReset(&m_z);
                m_member_done = false;
            }
            auto piece = in.substr(0, k_max_in);
            m_z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
            m_z.avail_in = static_cast<uInt>(piece.size());
            for (;;) {
                m_z.next_out = out_buf.data();
                m_z.avail_out = static_cast<uInt>(out_buf.size());
                int rc = inflate(&m_z, Z_NO_FLUSH);
                std::size_t produced = out_buf.size() - m_z.avail_out;
                if (produced > 0) {
                    total_out += produced;
                    EDGESHIP_TRY(out(std::string_view(reinterpret_cast<const char*>(out_buf.data()), produced)));
                }
                if (rc == Z_STREAM_END) {
                    m_member_done = true;
                    break;
                }
                if (rc == Z_BUF_ERROR && m_z.avail_in == 0) {
                    break;
                }
                if (rc != Z_OK) {
                    return fail(std::string("corrupt gzip stream: ") + (m_z.msg ? m_z.msg : "inflate error"));
                }
                if (m_z.avail_in == 0 && m_z.avail_out != 0) {
                    break;
                }
            }
            std::size_t used = piece.size() - m_z.avail_in;
            total_in += used;
            in.remove_prefix(used);
        }
        return {};
    }
    bool member_complete() const override { return m_member_done; }

private:
    z_stream m_z{};
    bool m_init = false;
    bool m_member_done = false;
};

#if EDGESHIP_OCI_HAVE_ISAL
class IsalDecompressor final : public GzipDecompressor::Impl {
public:
    IsalDecompressor() : m_state(std::make_unique<inflate_state>()) { reset(); }
    Result<void> write(std::string_view in, const ByteSink& out) override {
        while (!in.empty()) {
            if (m_member_done) {
                if (static_cast<unsigned char>(in[0]) != 0x1f) {
                    return fail("corrupt gzip stream: unexpected data after the end of the stream");
                }
                reset();
            }
            auto piece = in.substr(0, k_max_in);
            m_state->next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(piece.data()));
            m_state->avail_in = static_cast<std::uint32_t>(piece.size());
            for (;;) {
                m_state->next_out = out_buf.data();
                m_state->avail_out = static_cast<std::uint32_t>(out_buf.size());
                int rc = isal_inflate(m_state.get());
                if (rc < 0) {
                    return fail(rc == ISAL_INCORRECT_CHECKSUM ? std::string("corrupt gzip stream: CRC mismatch")
                                                              : "corrupt gzip stream (ISA-L code " +
                                                                    std::to_string(rc) + ")");
                }
                std::size_t produced = out_buf.size() - m_state->avail_out;
                if (produced > 0) {
                    total_out += produced;
                    EDGESHIP_TRY(out(std::string_view(reinterpret_cast<const char*>(out_buf.data()), produced)));
                }
                if (m_state->block_state == ISAL_BLOCK_FINISH) {
                    m_member_done = true;
                    break;
                }
                if (m_state->avail_in == 0 && m_state->avail_out != 0) {
                    break;
                }
            }
            std::size_t used = piece.size() - m_state->avail_in;
            total_in += used;
            in.remove_prefix(used);
        }
        return {};
    }
    bool member_complete() const override { return m_member_done; }

private:
    void reset() {
        isal_inflate_init(m_state.get());
        m_state->crc_flag = ISAL_GZIP; // parse the header, verify CRC-32 and size in the trailer
        m_member_done = false;
    }
    std::unique_ptr<inflate_state> m_state;
    bool m_member_done = false;
};
#endif

} // namespace

GzipDecompressor::GzipDecompressor(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
GzipDecompressor::GzipDecompressor(GzipDecompressor&&) noexcept = default;
GzipDecompressor& GzipDecompressor::operator=(GzipDecompressor&&) noexcept = default;
GzipDecompressor::~GzipDecompressor() = default;

Result<GzipDecompressor> GzipDecompressor::create(GzipEngine engine) {
#if EDGESHIP_OCI_HAVE_ISAL
    if (engine == GzipEngine::isal) {
        return GzipDecompressor(std::make_unique<IsalDecompressor>());
    }
#else
    (void)engine;
#endif
    auto z = std::make_unique<ZlibDecompressor>();
    EDGESHIP_TRY(z->init());
    return GzipDecompressor(std::move(z));
}

Result<void> GzipDecompressor::write(std::string_view compressed, const ByteSink& out) {
    if (!compressed.empty()) {
        m_impl->seen_input = true;
    }
    return m_impl->write(compressed, out);
}

Result<void> GzipDecompressor::finish() {
    if (!m_impl->seen_input) {
        return fail("truncated gzip stream (empty input)");
    }
    if (!m_impl->member_complete()) {
        return fail(truncated_message(m_impl->total_in));
    }
    return {};
}

std::uint64_t GzipDecompressor::total_in() const { return m_impl->total_in; }
std::uint64_t GzipDecompressor::total_out() const { return m_impl->total_out; }

} // namespace edgeship::oci
