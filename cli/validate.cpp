#include "cli/solution_commands.hpp"

#include "core/fs.hpp"
#include "manifest/validate.hpp"
#include "manifest/expand.hpp"

#include <nlohmann/json.hpp>

namespace edgeship::cli {

/// Findings as JSON objects (shared with gen.cpp).
nlohmann::ordered_json findings_json(const manifest::ValidationReport& report) {
    auto arr = nlohmann::ordered_json::array();
    for (const auto& f : report.findings) {
        arr.push_back({{"severity", f.error ? "error" : "warning"}, {"path", f.path}, {"message", f.message}});
    }
    return arr;
}

std::size_t count_errors(const manifest::ValidationReport& report) {
    std::size_t n = 0;
    for (const auto& f : report.findings) {
        n += f.error ? 1 : 0;
    }
    return n;
}

void register_validate(CLI::App& parent, Context& ctx, Runner<ValidateOptions> run) {
    auto opts = std::make_shared<ValidateOptions>();
    auto* sub = parent.add_subcommand(
        "validate", "Check a deployment manifest: JSON Schema, routes, createOptions chunks, twin limits, credentials");
    sub->add_option("MANIFEST", opts->manifest, "The deployment manifest (e.g. config/deployment.amd64.json)")->required();
    sub->add_flag("--json", opts->json, "Print {path, valid, errors, warnings, findings:[{severity, path, message}]}");
    sub->footer("Examples:\n"
                "  edgeship validate config/deployment.amd64.json\n"
                "  edgeship validate config/deployment.amd64.json --json | jq '.findings[]'\n\n"
                "Accepts {\"modulesContent\": …} and the configuration form {\"content\": {\"modulesContent\": …}},\n"
                "full or layered (dotted properties.desired.* paths). Every finding names its JSON path; the\n"
                "checks and their sources: validate.md in share/doc/edgeship. Exit codes: 0 valid (warnings allowed),\n"
                "3 errors found, 1 unreadable or not JSON (with --json, still a JSON report on stdout).");
    bind_action(sub, ctx, opts, std::move(run));
}

namespace {

// --json promises JSON on stdout, also when the file cannot be checked at all.
void print_unchecked(const ValidateOptions& opts, const std::string& message, Context& ctx) {
    if (!opts.json) {
        return;
    }
    nlohmann::ordered_json j;
    j["path"] = opts.manifest;
    j["valid"] = false;
    j["errors"] = 1;
    j["warnings"] = 0;
    j["findings"] = nlohmann::ordered_json::array();
    j["findings"].push_back({{"severity", "error"}, {"path", "$"}, {"message", message}});
    ctx.io.out << j.dump(2) << '\n';
}

} // namespace

Result<void> run_validate(const ValidateOptions& opts, Context& ctx) {
    auto read = core::read_file(opts.manifest);
    if (!read) {
        print_unchecked(opts, read.error().message(), ctx);
        return unexpected(std::move(read).error());
    }
    const std::string& text = *read;
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        auto [line, col] = manifest::line_column(text, e.byte > 0 ? e.byte - 1 : 0);
        std::string what = e.what();
        if (auto p = what.find(": "); p != std::string::npos) {
            what = what.substr(p + 2);
        }
        std::string where = std::to_string(line) + ":" + std::to_string(col);
        print_unchecked(opts, "not valid JSON at " + where + ": " + what, ctx);
        return fail(opts.manifest + ":" + where + ": not valid JSON: " + what);
    }
    auto report = manifest::validate_manifest(doc);
    std::size_t errors = count_errors(report);
    std::size_t warnings = report.findings.size() - errors;
    if (opts.json) {
        nlohmann::ordered_json j;
        j["path"] = opts.manifest;
        j["valid"] = report.ok();
        j["errors"] = errors;
        j["warnings"] = warnings;
        j["findings"] = findings_json(report);
        ctx.io.out << j.dump(2) << '\n';
    } else {
        for (const auto& f : report.findings) {
            ctx.io.out << (f.error ? "error: " : "warning: ") << f.path << ": " << f.message << '\n';
        }
        if (report.ok()) {
            ctx.io.out << opts.manifest << ": ok"
                       << (warnings ? " (" + std::to_string(warnings) + " warning" + (warnings == 1 ? ")" : "s)") : "")
                       << '\n';
        }
    }
    if (!report.ok()) {
        return fail(opts.manifest + ": " + std::to_string(errors) + " error" + (errors == 1 ? "" : "s") +
                        " (findings on stdout)",
                    ExitCode::validation);
    }
    return {};
}

} // namespace edgeship::cli
