#include "cli/solution_commands.hpp"

#include "solution/generate.hpp"

#include <nlohmann/json.hpp>

namespace edgeship::cli {

nlohmann::ordered_json findings_json(const manifest::ValidationReport& report); // validate.cpp
std::size_t count_errors(const manifest::ValidationReport& report);           // validate.cpp

void register_gen(CLI::App& parent, Context& ctx, Runner<GenOptions> run) {
    auto opts = std::make_shared<GenOptions>();
    auto* sub = parent.add_subcommand(
        "gen", "Generate config/deployment.<platform>.json from a deployment template (and validate it)");
    sub->add_option("--solution", opts->solution, "The solution directory")->capture_default_str();
    sub->add_option("--template", opts->template_file,
                    "Template file (default: DEPLOYMENT_CONFIG_TEMPLATE_FILE or deployment.template.json)");
    sub->add_option("--platform", opts->platform, "Platform for ${MODULES.x} (default: DEFAULT_PLATFORM or amd64)");
    sub->add_option("--env", opts->env_file, "The .env file (default: <solution>/.env)");
    sub->add_option("-o,--output-dir", opts->output_dir,
                    "Output directory (default: CONFIG_OUTPUT_DIR or config); '-' prints the manifest");
    sub->add_flag("--strict", opts->strict, "Undefined variables are errors, not warnings");
    sub->add_flag("--no-validate", opts->no_validate,
                  "Skip the manifest validation and write the manifest as generated (as deploy --no-validate)");
    sub->add_flag("--dry-run", opts->dry_run, "Generate and validate, but write nothing");
    sub->add_flag("--json", opts->json, "Print {manifest, platform, written, images, findings} as JSON");
    sub->footer("Examples:\n"
                "  edgeship gen\n"
                "  edgeship gen --solution pm --platform arm64v8\n"
                "  edgeship gen --template deployment.debug.template.json --strict\n"
                "  edgeship gen -o - | jq .modulesContent\n"
                "  edgeship gen --no-validate   # write it even if validate would refuse it\n\n"
                "Variables (${VAR}, $VAR) come from .env and the environment (the environment wins) and are\n"
                "substituted inside JSON strings, so quotes or backslashes in values cannot break the JSON.\n"
                "Exit codes: 0 written, 1 bad input (file:line:column named), 3 the manifest failed validation\n"
                "(findings on stdout, nothing written; --no-validate skips the check).");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_gen(const GenOptions& opts, Context& ctx) {
    solution::GenerateOptions go;
    go.solution_dir = opts.solution;
    if (!opts.template_file.empty()) {
        go.template_file = opts.template_file;
    }
    if (!opts.platform.empty()) {
        go.platform = opts.platform;
    }
    if (!opts.env_file.empty()) {
        go.env_file = opts.env_file;
    }
    const bool to_stdout = opts.output_dir == "-";
    if (!opts.output_dir.empty() && !to_stdout) {
        go.output_dir = opts.output_dir;
    }
    go.strict = opts.strict ? solution::Strict::yes : solution::Strict::no;
    go.validate = opts.no_validate ? solution::Validate::no : solution::Validate::yes;
    auto generated = solution::generate_manifest(go, ctx.env, ctx.console.logger());
    if (!generated) {
        return unexpected(std::move(generated).error().context("gen"));
    }
    auto& g = *generated;
    for (const auto& u : g.undefined) {
        ctx.console.warning(u.location + ": undefined variable $" + u.name + " left as written");
    }
    const bool ok = g.report.ok();
    const bool write = ok && !opts.dry_run && !to_stdout;
    if (write) {
        EDGESHIP_TRY(solution::write_manifest(g));
    }
    if (opts.json) {
        nlohmann::ordered_json j;
        j["manifest"] = g.output_path.string();
        j["platform"] = g.platform;
        j["written"] = write;
        j["images"] = nlohmann::ordered_json::array();
        for (const auto& i : g.images) {
            j["images"].push_back({{"module", i.module}, {"folder", i.folder}, {"platform", i.platform}, {"tag", i.tag},
                                   {"dockerfile", i.dockerfile}});
        }
        j["findings"] = findings_json(g.report);
        ctx.io.out << j.dump(2) << '\n';
    } else {
        for (const auto& f : g.report.findings) {
            if (f.error) {
                ctx.io.out << "error: " << f.path << ": " << f.message << '\n';
            } else {
                ctx.console.warning(f.path + ": " + f.message);
            }
        }
        if (ok && to_stdout) {
            ctx.io.out << g.text << '\n';
        } else if (ok) {
            ctx.io.out << g.output_path.string() << '\n';
        }
    }
    if (!ok) {
        std::size_t n = count_errors(g.report);
        return unexpected(Error("gen: " + g.template_file.string() + ": the generated manifest has " +
                                    std::to_string(n) + " validation error" + (n == 1 ? "" : "s") + "; nothing written",
                                ExitCode::validation)
                              .hint("fix the template or .env, or write it anyway with --no-validate"));
    }
    if (!opts.json && !to_stdout) {
        ctx.console.info((write ? "wrote " : "would write ") + g.output_path.string() + " (" +
                         std::to_string(g.images.size()) + " image" + (g.images.size() == 1 ? "" : "s") + ", platform " +
                         g.platform + ")");
    }
    return {};
}

} // namespace edgeship::cli
