#include "pipeline/ship.hpp"

#include "core/fs.hpp"
#include "core/sha256.hpp"
#include "solution/generate.hpp"

#include <algorithm>
#include <system_error>

namespace edgeship::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_stamp_file = "ship.json";
constexpr const char* k_work_name = ".edgeship";
constexpr const char* k_onnx_name = "model.onnx";

bool is_solution(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "deployment.template.json", ec);
}

fs::path module_model(const ShipOptions& o) { return o.solution / "modules" / o.module / "model" / k_onnx_name; }

bool module_exists(const ShipOptions& o) {
    std::error_code ec;
    return fs::is_regular_file(o.solution / "modules" / o.module / "module.json", ec);
}

std::string file_sha_or_empty(const fs::path& p) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
        return "";
    }
    auto sha = core::sha256_file(p);
    return sha ? *sha : "";
}

Result<void> need(const auto& fn, const char* what) {
    if (!fn) {
        return fail(std::string("no implementation for ") + what + " is wired in this build");
    }
    return {};
}

// Streams `from` into `to` atomically (the model may be large).
Result<void> copy_atomic(const fs::path& from, const fs::path& to) {
    EDGESHIP_TRY_ASSIGN(auto bytes, core::read_file(from));
    return core::write_file_atomic(to, bytes);
}

// "host/repo:tag" → ("repo", "tag") for plan lines; best effort (plans only).
std::pair<std::string, std::string> repo_and_tag(const std::string& reference) {
    std::string rest = reference;
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        auto first = rest.substr(0, slash);
        if (first.find_first_of(".:") != std::string::npos || first == "localhost") {
            rest = rest.substr(slash + 1);
        }
    }
    std::string tag = "latest";
    if (auto colon = rest.rfind(':'); colon != std::string::npos) {
        tag = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
    }
    return {rest, tag};
}

// Every module image of a manifest ($edgeAgent modules.*.settings.image).
Result<std::vector<std::string>> manifest_images(const fs::path& manifest) {
    EDGESHIP_TRY_ASSIGN(auto text, core::read_file(manifest));
    std::vector<std::string> images;
    try {
        auto j = nlohmann::json::parse(text);
        const auto& mc = j.contains("content") ? j["content"]["modulesContent"] : j["modulesContent"];
        const auto& modules = mc.at("$edgeAgent").at("properties.desired").at("modules");
        for (const auto& [name, m] : modules.items()) {
            images.push_back(m.at("settings").at("image").get<std::string>());
        }
    } catch (const nlohmann::json::exception& e) {
        return fail(manifest.string() + ": cannot read the module images: " + e.what(), ExitCode::validation);
    }
    return images;
}

Result<void> check_runs_image(const fs::path& manifest, const std::string& reference) {
    EDGESHIP_TRY_ASSIGN(auto images, manifest_images(manifest));
    if (std::find(images.begin(), images.end(), reference) != images.end()) {
        return {};
    }
    std::string list;
    for (const auto& i : images) {
        list += (list.empty() ? "" : ", ") + i;
    }
    return unexpected(Error(manifest.string() + ": no module runs the image just pushed (" + reference +
                                "); its modules run: " + (list.empty() ? "nothing" : list),
                            ExitCode::validation)
                          .hint("refer to the module's image as ${MODULES.<folder>} in deployment.template.json"));
}

std::string plural(std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

} // namespace

// Stamp -----------------------------------------------------------------------------------------------

ShipStamp read_stamp(const fs::path& work_dir) {
    ShipStamp s;
    auto text = core::read_file(work_dir / k_stamp_file);
    if (!text) {
        return s;
    }
    try {
        auto j = nlohmann::json::parse(*text);
        s.source_sha256 = j.value("source_sha256", "");
        s.convert_fingerprint = j.value("convert_fingerprint", "");
        s.onnx_sha256 = j.value("onnx_sha256", "");
        for (const auto& i : j.value("images", nlohmann::json::array())) {
            s.images.push_back({i.value("platform", ""), i.value("reference", ""), i.value("digest", ""),
                                i.value("fingerprint", "")});
        }
    } catch (const nlohmann::json::exception&) {
        return ShipStamp{}; // unreadable stamp: everything is redone
    }
    return s;
}

Result<void> write_stamp(const fs::path& work_dir, const ShipStamp& s) {
    nlohmann::ordered_json j;
    j["source_sha256"] = s.source_sha256;
    j["convert_fingerprint"] = s.convert_fingerprint;
    j["onnx_sha256"] = s.onnx_sha256;
    j["images"] = nlohmann::ordered_json::array();
    for (const auto& i : s.images) {
        j["images"].push_back(
            {{"platform", i.platform}, {"reference", i.reference}, {"digest", i.digest}, {"fingerprint", i.fingerprint}});
    }
    std::error_code ec;
    fs::create_directories(work_dir, ec);
    if (ec) {
        return fail(work_dir.string() + ": cannot create directory: " + ec.message());
    }
    return core::write_file_atomic(work_dir / k_stamp_file, j.dump(2) + "\n");
}

fs::path work_dir_for(const fs::path& solution) {
    if (is_solution(solution)) {
        return solution / k_work_name;
    }
    fs::path abs = solution.lexically_normal();
    if (abs.filename().empty()) {
        abs = abs.parent_path();
    }
    return abs.parent_path() / ("." + abs.filename().string() + k_work_name);
}

Result<std::string> tree_sha256(const fs::path& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it->path().filename() == k_work_name) {
            it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(ec)) {
            files.push_back(fs::relative(it->path(), dir, ec));
        }
    }
    if (ec) {
        return fail(dir.string() + ": cannot read: " + ec.message());
    }
    std::sort(files.begin(), files.end());
    core::Sha256 h;
    for (const auto& f : files) {
        EDGESHIP_TRY_ASSIGN(auto sha, core::sha256_file(dir / f));
        h.update(f.generic_string());
        h.update(std::string_view("\0", 1));
        h.update(sha);
        h.update("\n");
    }
    return h.hex_digest();
}

// Steps -----------------------------------------------------------------------------------------------

namespace {

class ShipSteps {
public:
    ShipSteps(ShipOptions o, ShipActions a, std::shared_ptr<ShipState> s)
        : m_o(std::move(o)), m_a(std::move(a)), m_s(std::move(s)) {}

    Result<StepResult> convert(Mode mode) {
        StepResult r;
        auto& s = *m_s;
        r.inputs.push_back({"model", m_o.model.string(), ""});
        EDGESHIP_TRY_ASSIGN(s.model_digest, core::sha256_file(m_o.model));
        r.inputs.back().digest = "sha256:" + s.model_digest;
        EDGESHIP_TRY(need(m_a.is_onnx, "ONNX detection"));
        s.work_dir = work_dir_for(m_o.solution);
        if (m_a.is_onnx(m_o.model)) {
            s.onnx = m_o.model;
            s.onnx_sha256 = s.model_digest;
            r.status = StepStatus::skipped;
            r.summary = "already ONNX: " + m_o.model.string();
            r.outputs.push_back({"onnx", s.onnx.string(), "sha256:" + s.onnx_sha256});
            return r;
        }
        fs::path out = s.work_dir / k_onnx_name;
        auto stamp = read_stamp(s.work_dir);
        if (!stamp.onnx_sha256.empty() && stamp.source_sha256 == s.model_digest &&
            stamp.convert_fingerprint == m_o.convert_fingerprint && file_sha_or_empty(out) == stamp.onnx_sha256) {
            s.onnx = out;
            s.onnx_sha256 = stamp.onnx_sha256;
            r.status = StepStatus::skipped;
            r.summary = "up to date: " + out.string() + " was converted from the same model with the same flags";
            r.outputs.push_back({"onnx", out.string(), "sha256:" + s.onnx_sha256});
            return r;
        }
        if (mode == Mode::plan) {
            r.status = StepStatus::planned;
            r.summary = "would convert " + m_o.model.string() + " to " + out.string();
            r.outputs.push_back({"onnx", out.string(), ""});
            r.operations.push_back({"file", "write", out.string(), std::string("ONNX model and the stamp ") + k_stamp_file});
            s.onnx = out;
            return r;
        }
        EDGESHIP_TRY(need(m_a.convert, "convert"));
        std::error_code ec;
        fs::create_directories(s.work_dir, ec);
        if (ec) {
            return fail(s.work_dir.string() + ": cannot create directory: " + ec.message());
        }
        EDGESHIP_TRY_ASSIGN(auto outcome, m_a.convert(m_o.model, out));
        s.onnx = out;
        s.onnx_sha256 = outcome.onnx_sha256;
        s.converted = true;
        stamp.source_sha256 = s.model_digest;
        stamp.convert_fingerprint = m_o.convert_fingerprint;
        stamp.onnx_sha256 = s.onnx_sha256;
        EDGESHIP_TRY(write_stamp(s.work_dir, stamp));
        r.summary = "converted " + m_o.model.string() + " (" + outcome.source_format + ") to " + out.string();
        r.outputs.push_back({"onnx", out.string(), "sha256:" + s.onnx_sha256});
        return r;
    }

    Result<StepResult> check(Mode mode) {
        StepResult r;
        r.inputs.push_back({"onnx", m_s->onnx.string(), m_s->onnx_sha256.empty() ? "" : "sha256:" + m_s->onnx_sha256});
        if (mode == Mode::plan) {
            r.status = StepStatus::planned;
            r.summary = "would run the ONNX checker and shape inference on " + m_s->onnx.string();
            return r;
        }
        EDGESHIP_TRY(need(m_a.check, "check"));
        EDGESHIP_TRY(m_a.check(m_s->onnx));
        r.summary = m_s->onnx.string() + ": ok";
        return r;
    }

    Result<StepResult> solution(Mode mode) {
        StepResult r;
        auto& s = *m_s;
        r.inputs.push_back({"onnx", s.onnx.string(), s.onnx_sha256.empty() ? "" : "sha256:" + s.onnx_sha256});
        r.outputs.push_back({"solution", m_o.solution.string(), ""});
        const fs::path target = module_model(m_o);
        const fs::path module_dir = target.parent_path().parent_path(); // modules/<m>
        const fs::path signature = module_dir / "app" / "signature.json";
        if (is_solution(m_o.solution) && module_exists(m_o)) {
            std::string current = file_sha_or_empty(target);
            if (!s.onnx_sha256.empty() && current == s.onnx_sha256) {
                r.status = StepStatus::skipped;
                r.summary = "module " + m_o.module + " already serves this model";
                r.outputs.push_back({"model", target.string(), "sha256:" + current});
                return r;
            }
            r.outputs.push_back({"model", target.string(), s.onnx_sha256.empty() ? "" : "sha256:" + s.onnx_sha256});
            if (mode == Mode::plan) {
                r.status = StepStatus::planned;
                r.summary = "would replace the model of module " + m_o.module;
                r.operations.push_back({"file", "write", target.string(), "copy of " + s.onnx.string()});
                if (m_a.refresh_signature) {
                    r.operations.push_back({"file", "write", signature.string(), "when the model's signature changed"});
                }
                return r;
            }
            // The generated scoring code refuses a model whose inputs differ from its signature.json: a
            // retrained model with a new signature brings the file along (its app layer changes). Refreshed
            // before the model is copied, so a failure here leaves the old model and a re-run (which
            // compares the model only) still does both.
            bool signature_changed = false;
            if (m_a.refresh_signature) {
                EDGESHIP_TRY_ASSIGN(signature_changed, m_a.refresh_signature(module_dir, s.onnx));
            }
            EDGESHIP_TRY(copy_atomic(s.onnx, target));
            r.summary = "replaced the model of module " + m_o.module;
            if (signature_changed) {
                r.summary += " (the model's signature changed: app/signature.json regenerated)";
                r.outputs.push_back({"signature", signature.string(), ""});
            }
            return r;
        }
        ScaffoldRequest req;
        req.solution = m_o.solution;
        req.module = m_o.module;
        req.model = s.onnx;
        req.runtime = m_o.runtime;
        req.platforms = m_o.platforms;
        req.registry = m_o.image_target == ImageTarget::registry ? m_o.registry : "localhost:5000";
        req.kind = is_solution(m_o.solution) ? ScaffoldRequest::Kind::module_add : ScaffoldRequest::Kind::init;
        const std::string verb = req.kind == ScaffoldRequest::Kind::init ? "init " + m_o.solution.string()
                                                                         : "module add " + m_o.module;
        r.outputs.push_back({"model", target.string(), s.onnx_sha256.empty() ? "" : "sha256:" + s.onnx_sha256});
        if (mode == Mode::plan) {
            r.status = StepStatus::planned;
            r.summary = "would " + verb + " (runtime " + m_o.runtime + ")";
            r.operations.push_back({"file", "write", (m_o.solution / "modules" / m_o.module).string(),
                                    verb + ": module.json, Dockerfiles, app/, model/"});
            return r;
        }
        EDGESHIP_TRY(need(m_a.scaffold, "scaffold"));
        EDGESHIP_TRY_ASSIGN(auto files, m_a.scaffold(req));
        if (req.kind == ScaffoldRequest::Kind::init) {
            // The conversion was staged beside the solution; it now moves in (same parent: a rename).
            fs::path staged = s.work_dir;
            fs::path inside = m_o.solution / k_work_name;
            std::error_code ec;
            if (staged != inside && fs::exists(staged, ec)) {
                fs::rename(staged, inside, ec);
                if (ec) {
                    return fail("moving " + staged.string() + " to " + inside.string() + ": " + ec.message());
                }
                if (s.onnx.parent_path() == staged) {
                    s.onnx = inside / s.onnx.filename();
                }
            }
            s.work_dir = inside;
        }
        r.summary = verb + ": " + plural(files.size(), "file") + " written";
        return r;
    }

    Result<std::string> fingerprint(const std::string& platform, const std::string& reference) {
        EDGESHIP_TRY_ASSIGN(auto tree, tree_sha256(m_o.solution / "modules" / m_o.module));
        std::string inputs;
        if (m_a.build_inputs) {
            EDGESHIP_TRY_ASSIGN(inputs, m_a.build_inputs(m_o.solution, m_o.module, platform, m_o.env));
        }
        return core::sha256_hex(tree + "\n" + platform + "\n" + m_o.base + "\n" + reference + "\n" + inputs);
    }

    Result<StepResult> build(Mode mode) {
        StepResult r;
        auto& s = *m_s;
        s.images.clear();
        if (m_o.image_target == ImageTarget::none) {
            r.status = StepStatus::skipped;
            r.summary = "no --registry or --oci-layout: no image is built";
            return r;
        }
        const bool have_solution = is_solution(m_o.solution) && module_exists(m_o);
        if (mode == Mode::plan && !have_solution) {
            r.status = StepStatus::planned;
            r.summary = "would build " + plural(m_o.platforms.size(), "image") + " of module " + m_o.module +
                        " (tags from modules/" + m_o.module + "/module.json once scaffolded)";
            for (const auto& p : m_o.platforms) {
                ShipImage img;
                img.platform = p;
                img.reference = (m_o.image_target == ImageTarget::registry ? m_o.registry : std::string("<layout>")) +
                                "/" + m_o.module + ":<version>-" + p;
                s.images.push_back(std::move(img));
            }
            return r;
        }
        EDGESHIP_TRY(need(m_a.image_reference, "image references"));
        EDGESHIP_TRY(need(m_a.pushed_digest, "the registry lookup"));
        auto stamp = read_stamp(s.work_dir);
        std::size_t built = 0;
        BuildRequest req{m_o.solution, m_o.module, {}, {}, m_o.base, m_o.env};
        std::vector<std::size_t> slots; // where each requested platform's image goes in s.images
        for (const auto& platform : m_o.platforms) {
            EDGESHIP_TRY_ASSIGN(auto reference, m_a.image_reference(m_o.solution, m_o.module, platform, m_o.env));
            EDGESHIP_TRY_ASSIGN(auto fp, fingerprint(platform, reference));
            auto recorded = std::find_if(stamp.images.begin(), stamp.images.end(), [&](const ShipStamp::Image& i) {
                return i.platform == platform && i.reference == reference && i.fingerprint == fp;
            });
            if (recorded != stamp.images.end() && !recorded->digest.empty()) {
                // Read-only: the target says whether it still holds that exact manifest.
                EDGESHIP_TRY_ASSIGN(auto present, m_a.pushed_digest(reference));
                if (present && *present == recorded->digest) {
                    ShipImage img;
                    img.platform = platform;
                    img.reference = reference;
                    img.digest = recorded->digest;
                    img.fingerprint = fp;
                    img.up_to_date = true;
                    r.outputs.push_back({"image", reference, img.digest});
                    s.images.push_back(std::move(img));
                    continue;
                }
            }
            if (mode == Mode::plan) {
                ShipImage img;
                img.platform = platform;
                img.reference = reference;
                img.fingerprint = fp;
                r.outputs.push_back({"image", reference, ""});
                s.images.push_back(std::move(img));
                ++built;
                continue;
            }
            ShipImage img;
            img.platform = platform;
            img.reference = reference;
            img.fingerprint = fp;
            req.platforms.push_back(platform);
            req.references.push_back(reference);
            slots.push_back(s.images.size());
            s.images.push_back(std::move(img));
            ++built;
        }
        if (!req.platforms.empty()) {
            // One call for every platform to build: the layers are shared and several platforms get an index.
            EDGESHIP_TRY(need(m_a.build, "build"));
            EDGESHIP_TRY_ASSIGN(auto images, m_a.build(req));
            if (images.size() != req.platforms.size()) {
                return fail("build returned " + std::to_string(images.size()) + " images for " +
                            plural(req.platforms.size(), "platform"));
            }
            for (std::size_t i = 0; i < images.size(); ++i) {
                auto& slot = s.images[slots[i]];
                images[i].platform = slot.platform;
                images[i].reference = slot.reference;
                images[i].fingerprint = slot.fingerprint;
                slot = std::move(images[i]);
            }
            r.outputs.clear(); // in platform order, up-to-date ones included
            for (const auto& img : s.images) {
                r.outputs.push_back({"image", img.reference, img.digest});
            }
        }
        if (built == 0) {
            r.status = StepStatus::skipped;
            r.summary = "up to date: " + plural(s.images.size(), "image") + " already pushed with the same inputs";
        } else if (mode == Mode::plan) {
            r.status = StepStatus::planned;
            r.summary = "would build " + plural(built, "image");
        } else {
            r.summary = "built " + plural(built, "image");
        }
        return r;
    }

    Result<StepResult> push(Mode mode) {
        StepResult r;
        auto& s = *m_s;
        if (m_o.image_target == ImageTarget::none) {
            r.status = StepStatus::skipped;
            r.summary = "no --registry or --oci-layout: nothing is pushed";
            return r;
        }
        std::size_t pushed = 0;
        std::size_t current = 0;
        s.indexes.clear();
        for (auto& img : s.images) {
            r.inputs.push_back({"image", img.reference, img.digest});
            if (img.up_to_date) {
                ++current;
                r.outputs.push_back({"image", img.reference, img.digest});
                continue;
            }
            if (mode == Mode::plan) {
                if (m_o.image_target == ImageTarget::registry) {
                    auto [repo, tag] = repo_and_tag(img.reference);
                    r.operations.push_back({"registry", "HEAD", "/v2/" + repo + "/blobs/<digest>",
                                            "each layer and the config: skipped when the registry has it"});
                    r.operations.push_back({"registry", "POST", "/v2/" + repo + "/blobs/uploads/",
                                            "mount base layers from their repository, or start an upload"});
                    r.operations.push_back({"registry", "PATCH+PUT", "/v2/" + repo + "/blobs/uploads/<session>",
                                            "upload each missing layer: the app and model layers on a first push"});
                    r.operations.push_back({"registry", "PUT", "/v2/" + repo + "/manifests/" + tag,
                                            "the " + img.platform + " image manifest, last"});
                    const bool last = &img == &s.images.back();
                    const bool all_pending = std::none_of(s.images.begin(), s.images.end(),
                                                          [](const ShipImage& i) { return i.up_to_date; });
                    if (last && all_pending && s.images.size() >= 2) {
                        r.operations.push_back({"registry", "PUT", "/v2/" + repo + "/manifests/<version>",
                                                "the index over the " + std::to_string(s.images.size()) +
                                                    " platform images, after them"});
                    }
                } else {
                    r.operations.push_back({"file", "write", m_o.oci_layout.string(),
                                            "blobs, then index.json tag for " + img.reference});
                }
                continue;
            }
            EDGESHIP_TRY(need(m_a.push, "push"));
            EDGESHIP_TRY_ASSIGN(auto outcome, m_a.push(img));
            if (!outcome.digest.empty()) {
                img.digest = outcome.digest;
            }
            img.bytes_uploaded = outcome.bytes_uploaded;
            img.bytes_skipped = outcome.bytes_skipped;
            img.pushed = true;
            img.image.reset();
            r.operations.insert(r.operations.end(), outcome.operations.begin(), outcome.operations.end());
            r.outputs.push_back({"image", img.reference, img.digest});
            if (outcome.index) {
                r.outputs.push_back({"index", outcome.index->reference, outcome.index->digest});
                s.indexes.push_back(std::move(*outcome.index));
            }
            ++pushed;
            // Record each pushed image at once, so a later failure still resumes from here.
            auto stamp = read_stamp(s.work_dir);
            std::erase_if(stamp.images, [&](const ShipStamp::Image& i) { return i.platform == img.platform; });
            stamp.images.push_back({img.platform, img.reference, img.digest, img.fingerprint});
            EDGESHIP_TRY(write_stamp(s.work_dir, stamp));
        }
        if (mode == Mode::plan && current < s.images.size()) {
            r.status = StepStatus::planned;
            r.summary = "would push " + plural(s.images.size() - current, "image") +
                        (m_o.image_target == ImageTarget::registry ? " to " + m_o.registry
                                                                   : " into " + m_o.oci_layout.string());
        } else if (pushed == 0) {
            r.status = StepStatus::skipped;
            r.summary = "already pushed: " + plural(current, "image") + " with the same digest";
        } else {
            std::uint64_t up = 0;
            std::uint64_t skipped = 0;
            for (const auto& i : s.images) {
                up += i.bytes_uploaded;
                skipped += i.bytes_skipped;
            }
            for (const auto& i : s.indexes) {
                up += i.bytes_uploaded; // its skipped bytes are the images' blobs, already counted
            }
            r.summary = "pushed " + plural(pushed, "image") +
                        (s.indexes.empty() ? ""
                                         : " and " + std::to_string(s.indexes.size()) +
                                               (s.indexes.size() == 1 ? " index" : " indexes")) + ": " +
                        std::to_string(up) + " bytes uploaded, " + std::to_string(skipped) + " bytes already present";
        }
        return r;
    }

    fs::path predicted_manifest(const std::string& platform) const {
        // Where gen writes it (CONFIG_OUTPUT_DIR, the template's name and schema); an unreadable .env is
        // the gen step's to report, so the plan falls back to the default name.
        auto path = solution::default_manifest_path(m_o.solution, m_o.env, platform);
        return path ? *path : m_o.solution / "config" / ("deployment." + platform + ".json");
    }

    Result<StepResult> gen(Mode mode) {
        StepResult r;
        auto& s = *m_s;
        s.manifests.clear();
        r.inputs.push_back({"template", (m_o.solution / "deployment.template.json").string(), ""});
        if (mode == Mode::plan) {
            for (const auto& p : m_o.platforms) {
                s.manifests.push_back(predicted_manifest(p));
                r.outputs.push_back({"manifest", s.manifests.back().string(), ""});
                r.operations.push_back({"file", "write", s.manifests.back().string(),
                                        "deployment manifest for " + p + " (name per CONFIG_OUTPUT_DIR)"});
            }
            r.status = StepStatus::planned;
            r.summary = "would generate " + plural(m_o.platforms.size(), "manifest");
            return r;
        }
        EDGESHIP_TRY(need(m_a.gen, "gen"));
        for (const auto& p : m_o.platforms) {
            EDGESHIP_TRY_ASSIGN(auto outcome, m_a.gen(GenRequest{m_o.solution, p, m_o.env}));
            s.manifests.push_back(outcome.manifest);
            r.outputs.push_back({"manifest", outcome.manifest.string(), ""});
        }
        r.summary = "generated " + plural(s.manifests.size(), "manifest");
        return r;
    }

    Result<StepResult> validate(Mode mode) {
        StepResult r;
        for (const auto& m : m_s->manifests) {
            r.inputs.push_back({"manifest", m.string(), ""});
        }
        if (mode == Mode::plan) {
            r.status = StepStatus::planned;
            r.summary = "would validate " + plural(m_s->manifests.size(), "manifest") +
                        " (JSON Schema, routes, createOptions, twin limits)";
            return r;
        }
        EDGESHIP_TRY(need(m_a.validate, "validate"));
        for (const auto& m : m_s->manifests) {
            EDGESHIP_TRY(m_a.validate(m));
        }
        // What ship adds to `validate`: each platform's manifest must run the image this run pushed.
        for (std::size_t i = 0; i < m_s->images.size() && i < m_s->manifests.size(); ++i) {
            EDGESHIP_TRY(check_runs_image(m_s->manifests[i], m_s->images[i].reference));
        }
        r.summary = plural(m_s->manifests.size(), "manifest") + " valid" +
                    (m_s->images.empty() ? "" : ", running the pushed image" + std::string(m_s->images.size() == 1 ? "" : "s"));
        return r;
    }

    DeployRequest deploy_request() const {
        DeployRequest req;
        req.target = m_o.deploy_target;
        req.manifest = m_s->manifests.empty() ? predicted_manifest(m_o.platforms.front()) : m_s->manifests.front();
        req.device = m_o.device;
        req.deployment_id = m_o.deployment_id;
        req.target_condition = m_o.target_condition;
        req.priority = m_o.priority;
        return req;
    }

    Result<StepResult> deploy(Mode mode) {
        StepResult r;
        auto& s = *m_s;
        if (m_o.deploy_target == DeployTarget::none) {
            r.status = StepStatus::skipped;
            r.summary = "no --device or --deployment: nothing is deployed";
            return r;
        }
        auto req = deploy_request();
        s.deployment_kind = m_o.deploy_target == DeployTarget::device ? "device" : "deployment";
        s.deployment_id = m_o.deploy_target == DeployTarget::device ? m_o.device : m_o.deployment_id;
        r.inputs.push_back({"manifest", req.manifest.string(), ""});
        r.outputs.push_back({s.deployment_kind, s.deployment_id, ""});
        const bool plan = mode == Mode::plan || m_o.hub_calls == HubCalls::plan_only;
        EDGESHIP_TRY(need(m_a.deploy, "deploy"));
        EDGESHIP_TRY_ASSIGN(auto outcome, m_a.deploy(req, plan ? Mode::plan : Mode::run));
        r.operations = outcome.operations;
        if (plan) {
            r.status = StepStatus::planned;
            r.summary = "would apply " + req.manifest.string() + " to " + s.deployment_kind + " " + s.deployment_id;
            return r;
        }
        s.deploy_applied = outcome.applied;
        if (outcome.already_present) {
            r.status = StepStatus::skipped;
            r.summary = "deployment " + s.deployment_id + " already exists with this content";
            return r;
        }
        r.summary = "applied " + req.manifest.string() + " to " + s.deployment_kind + " " + s.deployment_id;
        return r;
    }

    Result<StepResult> wait(Mode mode) {
        StepResult r;
        if (!m_o.wait || m_o.deploy_target == DeployTarget::none) {
            r.status = StepStatus::skipped;
            r.summary = "not asked to wait (--wait)";
            return r;
        }
        auto req = deploy_request();
        if (mode == Mode::plan || m_o.hub_calls == HubCalls::plan_only) {
            r.status = StepStatus::planned;
            if (req.target == DeployTarget::device) {
                r.operations.push_back({"iothub", "GET", "/twins/" + req.device + "/modules/$edgeAgent",
                                        "poll until every module runs its desired image"});
            } else {
                r.operations.push_back({"iothub", "POST", "/devices/query",
                                        "poll the $edgeAgent twins that name " + req.deployment_id});
            }
            r.summary = "would wait for the rollout";
            return r;
        }
        EDGESHIP_TRY(need(m_a.wait, "wait"));
        EDGESHIP_TRY_ASSIGN(auto outcome, m_a.wait(req));
        m_s->rollout = outcome;
        r.summary = "rollout " + outcome.outcome;
        return r;
    }

private:
    ShipOptions m_o;
    ShipActions m_a;
    std::shared_ptr<ShipState> m_s;
};

Result<void> check_options(const ShipOptions& o) {
    auto usage = [](std::string msg) { return fail("ship: " + std::move(msg), ExitCode::usage); };
    if (o.model.empty()) {
        return usage("MODEL is required");
    }
    if (o.solution.empty()) {
        return usage("--solution is empty");
    }
    if (o.platforms.empty()) {
        return usage("at least one --platform is needed");
    }
    if (o.image_target == ImageTarget::registry && o.registry.empty()) {
        return usage("--registry is empty");
    }
    if (o.image_target == ImageTarget::oci_layout && o.oci_layout.empty()) {
        return usage("--oci-layout is empty");
    }
    if (o.deploy_target == DeployTarget::device && o.device.empty()) {
        return usage("--device is empty");
    }
    if (o.deploy_target == DeployTarget::deployment && (o.deployment_id.empty() || o.target_condition.empty())) {
        return usage("--deployment needs --target-condition");
    }
    if (o.wait && o.deploy_target == DeployTarget::none) {
        return usage("--wait needs --device or --deployment");
    }
    return {};
}

} // namespace

Result<std::vector<Step>> make_ship_steps(const ShipOptions& options, const ShipActions& actions,
                                          std::shared_ptr<ShipState> state) {
    EDGESHIP_TRY(check_options(options));
    auto impl = std::make_shared<ShipSteps>(options, actions, std::move(state));
    auto bind = [impl](Result<StepResult> (ShipSteps::*fn)(Mode)) {
        return [impl, fn](Mode m) { return ((*impl).*fn)(m); };
    };
    return std::vector<Step>{
        {"convert", bind(&ShipSteps::convert)}, {"check", bind(&ShipSteps::check)},
        {"solution", bind(&ShipSteps::solution)}, {"build", bind(&ShipSteps::build)},
        {"push", bind(&ShipSteps::push)},       {"gen", bind(&ShipSteps::gen)},
        {"validate", bind(&ShipSteps::validate)}, {"deploy", bind(&ShipSteps::deploy)},
        {"wait", bind(&ShipSteps::wait)},
    };
}

nlohmann::ordered_json ship_report_json(const ShipOptions& o, const ShipState& s, const RunReport& run, Mode mode) {
    nlohmann::ordered_json j;
    j["ok"] = run.ok();
    j["dry_run"] = mode == Mode::plan;
    j["hub_dry_run"] = mode == Mode::plan || o.hub_calls == HubCalls::plan_only;
    j["model"] = o.model.string();
    j["model_digest"] = s.model_digest.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json("sha256:" + s.model_digest);
    j["onnx"] = s.onnx.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s.onnx.string());
    j["onnx_sha256"] = s.onnx_sha256.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s.onnx_sha256);
    j["solution"] = o.solution.string();
    j["module"] = o.module;
    std::uint64_t up = 0;
    std::uint64_t skipped = 0;
    auto images = nlohmann::ordered_json::array();
    for (const auto& i : s.images) {
        nlohmann::ordered_json ij;
        ij["platform"] = i.platform;
        ij["reference"] = i.reference;
        ij["digest"] = i.digest.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(i.digest);
        ij["pushed"] = i.pushed;
        ij["up_to_date"] = i.up_to_date;
        ij["bytes_uploaded"] = i.bytes_uploaded;
        ij["bytes_skipped"] = i.bytes_skipped;
        up += i.bytes_uploaded;
        skipped += i.bytes_skipped;
        images.push_back(std::move(ij));
    }
    j["images"] = std::move(images);
    auto indexes = nlohmann::ordered_json::array();
    for (const auto& i : s.indexes) {
        nlohmann::ordered_json ij;
        ij["reference"] = i.reference;
        ij["digest"] = i.digest;
        ij["platforms"] = i.platforms;
        ij["bytes_uploaded"] = i.bytes_uploaded;
        ij["bytes_skipped"] = i.bytes_skipped;
        up += i.bytes_uploaded; // its skipped bytes are the images' blobs, already counted
        indexes.push_back(std::move(ij));
    }
    j["indexes"] = std::move(indexes);
    j["bytes_uploaded"] = up;
    j["bytes_skipped"] = skipped;
    auto manifests = nlohmann::ordered_json::array();
    for (const auto& m : s.manifests) {
        manifests.push_back(m.string());
    }
    j["manifest"] = s.manifests.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s.manifests.front().string());
    j["manifests"] = std::move(manifests);
    if (s.deployment_kind.empty()) {
        j["deployment"] = nullptr;
    } else {
        j["deployment"] = {{"kind", s.deployment_kind}, {"id", s.deployment_id}, {"applied", s.deploy_applied}};
    }
    if (s.rollout) {
        j["rollout"] = {{"outcome", s.rollout->outcome}, {"summary", s.rollout->summary}};
    } else {
        j["rollout"] = nullptr;
    }
    std::int64_t total = 0;
    auto steps = nlohmann::ordered_json::array();
    for (const auto& st : run.steps) {
        total += st.duration.count();
        steps.push_back(step_to_json(st));
    }
    j["duration_ms"] = total;
    j["steps"] = std::move(steps);
    if (run.error) {
        j["failed_step"] = run.failed_step;
        j["error"] = run.error->what();
        j["exit_code"] = to_int(run.error->code());
    } else {
        j["failed_step"] = nullptr;
        j["error"] = nullptr;
        j["exit_code"] = 0;
    }
    return j;
}

} // namespace edgeship::pipeline
