#include "cli/docgen_commands.hpp"

#include "cli/settings_catalog.hpp"
#include "core/exit_code.hpp"
#include "core/fs.hpp"
#include "edgeship/version_info.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace edgeship::cli {

namespace {

// ---- the tree ---------------------------------------------------------------------------------------

// Visible commands: named, with a non-empty group (CLI11 hides a subcommand whose group is empty,
// which is how `__docgen` stays out of help, completion and these pages).
std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
    return app.get_subcommands(
        [](const CLI::App* s) { return !s->get_name().empty() && !s->get_group().empty(); });
}

// Every option a user can give to `app`: its own and those of unnamed option groups, without the
// help flags (documented once, under the global options).
std::vector<const CLI::Option*> options_of(const CLI::App& app) {
    std::vector<const CLI::Option*> out;
    auto keep = [&app](const CLI::Option* o) { return o != app.get_help_ptr() && o != app.get_help_all_ptr(); };
    for (const auto* o : app.get_options()) {
        if (keep(o)) {
            out.push_back(o);
        }
    }
    for (const auto* g : app.get_subcommands([](const CLI::App* s) { return s->get_name().empty(); })) {
        for (const auto* o : g->get_options()) {
            if (keep(o)) {
                out.push_back(o);
            }
        }
    }
    return out;
}

std::vector<std::string> path_words(const CLI::App& app) {
    std::vector<std::string> words;
    for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
        words.push_back(a->get_parent() == nullptr ? std::string("edgeship") : a->get_name());
    }
    std::reverse(words.begin(), words.end());
    return words;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        out += (i == 0 ? "" : sep) + parts[i];
    }
    return out;
}

std::string command_path(const CLI::App& app) { return join(path_words(app), " "); }
std::string page_name(const CLI::App& app) { return join(path_words(app), "-"); }

void walk(const CLI::App& app, const std::function<void(const CLI::App&)>& visit) {
    for (const auto* sub : visible_subcommands(app)) {
        visit(*sub);
        walk(*sub, visit);
    }
}

// ---- one option, described once for both formats ----------------------------------------------------

struct OptionDoc {
    std::vector<std::string> names; ///< "-o", "--output"; for a positional its name ("MODEL")
    std::string value;              ///< "TEXT", "INT:{a,b}"; empty for flags and positionals
    std::string description;        ///< with "(required)", "(default: x)", "Allowed: …" appended
    bool positional = false;
    bool required = false;
    bool repeatable = false;
};

std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
}

// A description as a sentence, for running text: one line, ending with a full stop.
std::string sentence(const std::string& s) {
    std::string out = one_line(s);
    if (!out.empty() && out.back() != '.') {
        out += '.';
    }
    return out;
}

OptionDoc describe(const CLI::Option& opt) {
    OptionDoc d;
    d.positional = opt.get_positional();
    d.required = opt.get_required();
    d.repeatable = opt.get_items_expected_max() > 1;
    std::string type = opt.get_type_name();
    if (d.positional) {
        d.names.push_back(opt.get_name(true, false));
    } else {
        for (const auto& s : opt.get_snames()) {
            d.names.push_back("-" + s);
        }
        for (const auto& l : opt.get_lnames()) {
            d.names.push_back("--" + l);
        }
        if (opt.get_items_expected_max() != 0) {
            d.value = type;
        }
    }
    d.description = one_line(opt.get_description());
    if (d.positional) {
        // A positional's type is not shown in its tag; keep a validator's constraint (e.g. {bash,zsh,fish}).
        if (auto colon = type.find(':'); colon != std::string::npos) {
            d.description += " (" + type.substr(colon + 1) + ")";
        }
    }
    // Constraints between options, as --help shows them ("Excludes:", "Needs:"), sorted so the pages are stable.
    auto names_of = [](const std::set<CLI::Option*>& opts) {
        std::vector<std::string> names;
        for (const auto* o : opts) {
            names.push_back(o->get_name());
        }
        std::sort(names.begin(), names.end());
        return join(names, ", ");
    };
    if (!opt.get_needs().empty()) {
        d.description += " (needs " + names_of(opt.get_needs()) + ")";
    }
    if (!opt.get_excludes().empty()) {
        d.description += " (not with " + names_of(opt.get_excludes()) + ")";
    }
    if (d.required) {
        d.description += " (required)";
    }
    if (!opt.get_default_str().empty()) {
        d.description += " (default: " + opt.get_default_str() + ")";
    }
    return d;
}

std::string synopsis_tail(const CLI::App& app) {
    std::string s;
    if (!visible_subcommands(app).empty()) {
        s += " COMMAND";
    }
    s += " [OPTIONS]";
    for (const auto* o : options_of(app)) {
        if (!o->get_positional()) {
            continue;
        }
        std::string name = o->get_name(true, false);
        if (o->get_items_expected_max() > 1) {
            name += "...";
        }
        s += o->get_required() ? " " + name : " [" + name + "]";
    }
    return s;
}

// ---- the help footer: "Examples:" and the notes around it ----------------------------------------------

struct FooterBlock {
    enum class Kind { examples, titled, prose } kind = Kind::prose;
    std::string title;              ///< for titled blocks, without the colon
    std::vector<std::string> lines; ///< dedented; prose lines are to be joined
};

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) {
        return "";
    }
    auto e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
}

std::vector<std::string> dedent(std::vector<std::string> lines) {
    std::size_t indent = std::string::npos;
    for (const auto& l : lines) {
        if (auto p = l.find_first_not_of(' '); p != std::string::npos) {
            indent = std::min(indent, p);
        }
    }
    for (auto& l : lines) {
        l = l.size() >= indent && indent != std::string::npos ? l.substr(indent) : trim(l);
        while (!l.empty() && l.back() == ' ') {
            l.pop_back();
        }
    }
    return lines;
}

// Paragraphs are separated by blank lines. "Examples:" opens the examples; a paragraph whose first line
// ends with ':' and has more lines is a titled block shown verbatim; anything else is prose.
std::vector<FooterBlock> parse_footer(const std::string& footer) {
    std::vector<std::vector<std::string>> paragraphs(1);
    std::istringstream in(footer);
    for (std::string line; std::getline(in, line);) {
        if (trim(line).empty()) {
            if (!paragraphs.back().empty()) {
                paragraphs.emplace_back();
            }
        } else {
            paragraphs.back().push_back(line);
        }
    }
    std::vector<FooterBlock> blocks;
    for (auto& p : paragraphs) {
        if (p.empty()) {
            continue;
        }
        FooterBlock b;
        std::string first = trim(p.front());
        if (first == "Examples:") {
            b.kind = FooterBlock::Kind::examples;
            b.lines = dedent({p.begin() + 1, p.end()});
        } else if (first.ends_with(":") && p.size() > 1) {
            b.kind = FooterBlock::Kind::titled;
            b.title = first.substr(0, first.size() - 1);
            b.lines = dedent({p.begin() + 1, p.end()});
        } else {
            for (const auto& l : p) {
                b.lines.push_back(trim(l));
            }
        }
        blocks.push_back(std::move(b));
    }
    return blocks;
}

// A titled block of command lines ("Edge optimizations:" followed by edgeship lines) is more examples.
bool is_example_block(const FooterBlock& b) {
    if (b.kind == FooterBlock::Kind::examples) {
        return true;
    }
    return b.kind == FooterBlock::Kind::titled &&
           std::all_of(b.lines.begin(), b.lines.end(), [](const std::string& l) { return l.starts_with("edgeship "); });
}

bool has_examples(const CLI::App& app) {
    for (const auto& b : parse_footer(app.get_footer())) {
        if (b.kind == FooterBlock::Kind::examples &&
            std::any_of(b.lines.begin(), b.lines.end(), [](const std::string& l) {
                return l.starts_with("edgeship ") || l.find(" edgeship ") != std::string::npos; // also in a pipe
            })) {
            return true;
        }
    }
    return false;
}

// ---- exit codes: the numbers come from core/exit_code.hpp ------------------------------------------------

struct ExitDoc {
    ExitCode code;
    const char* meaning;
};
constexpr ExitDoc k_exit_codes[] = {
    {ExitCode::ok, "success, including --dry-run and \"nothing to do\""},
    {ExitCode::failure, "failure: unreadable input, I/O, server errors, a rollout that failed"},
    {ExitCode::usage, "usage error: unknown command or option, missing argument, invalid value"},
    {ExitCode::validation, "validation failed: a check ran and found problems; they are listed on stdout"},
    {ExitCode::auth, "authentication or authorization needed or denied"},
    {ExitCode::interrupted, "interrupted (Ctrl-C); a second Ctrl-C exits at once"},
};

// ---- roff ------------------------------------------------------------------------------------------

// Typographic characters used in help texts, spelled in ASCII so every man device renders them.
const std::pair<const char*, const char*> k_ascii_forms[] = {
    {"\u2026", "..."}, {"\u2014", "--"}, {"\u2013", "-"},  {"\u2192", "->"}, {"\u2190", "<-"}, {"\u2264", "<="},
    {"\u2265", ">="},  {"\u00d7", "x"},  {"\u201c", "\""}, {"\u201d", "\""}, {"\u2018", "'"},  {"\u2019", "'"},
};

// Escapes text for a roff text line: backslash, minus signs (so options copy-paste), other non-ASCII
// as \[uXXXX]. Control characters at the start of an output line are handled by roff_lines().
std::string roff(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        bool replaced = false;
        for (const auto& [from, to] : k_ascii_forms) {
            if (text.substr(i).starts_with(from)) {
                out += to;
                i += std::string_view(from).size();
                replaced = true;
                break;
            }
        }
        if (replaced) {
            continue;
        }
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '\\') {
            out += "\\e";
            ++i;
        } else if (c == '-') {
            out += "\\-";
            ++i;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
        } else {
            // Decode one UTF-8 sequence.
            std::size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            unsigned cp = len == 1 ? c : (c & (0xff >> (len + 1)));
            for (std::size_t k = 1; k < len && i + k < text.size(); ++k) {
                cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
            }
            char buf[16];
            std::snprintf(buf, sizeof buf, "\\[u%04X]", cp);
            out += buf;
            i += len;
        }
    }
    return out;
}

// A text line must not start with a control character ('.' or '\'') or a space in fill mode.
std::string roff_line(const std::string& escaped) {
    if (!escaped.empty() && (escaped.front() == '.' || escaped.front() == '\'')) {
        return "\\&" + escaped;
    }
    return escaped;
}

std::string bold(std::string_view s) { return "\\fB" + roff(s) + "\\fR"; }
std::string italic(std::string_view s) { return "\\fI" + roff(s) + "\\fR"; }

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

std::string man_header(const std::string& name, const std::string& version) {
    // .TH title section date source manual; no date so that builds are reproducible.
    return ".\\\" Generated from the command tree by cli/docgen.cpp at build time; do not edit.\n"
           ".TH \"" + roff(upper(name)) + "\" 1 \"\" \"edgeship " + roff(version) + "\" \"edgeship manual\"\n"
           // Left-aligned, no hyphenation: option names and variables must stay whole to be copied.
           ".ad l\n.nh\n";
}

std::string man_verbatim(const std::vector<std::string>& lines) {
    std::string out = ".RS 2\n.nf\n";
    for (const auto& l : lines) {
        out += roff_line(roff(l)) + "\n";
    }
    return out + ".fi\n.RE\n";
}

std::string man_option(const OptionDoc& d) {
    std::string tag;
    for (std::size_t i = 0; i < d.names.size(); ++i) {
        tag += (i == 0 ? "" : ", ") + (d.positional ? italic(d.names[i]) : bold(d.names[i]));
    }
    if (!d.value.empty()) {
        tag += " " + italic(d.value);
    }
    if (d.repeatable) {
        tag += " ...";
    }
    return ".TP\n" + roff_line(tag) + "\n" + roff_line(roff(d.description)) + "\n";
}

std::string man_options_section(const std::string& title, const std::vector<const CLI::Option*>& opts) {
    if (opts.empty()) {
        return "";
    }
    std::string out = ".SH " + title + "\n";
    for (const auto* o : opts) {
        out += man_option(describe(*o));
    }
    return out;
}

std::string man_footer_sections(const CLI::App& app, bool skip_exit_codes) {
    std::string examples;
    std::string notes;
    for (const auto& b : parse_footer(app.get_footer())) {
        if (is_example_block(b)) {
            if (b.kind == FooterBlock::Kind::titled) {
                examples += ".PP\n" + roff_line(bold(b.title + ":")) + "\n";
            }
            examples += man_verbatim(b.lines);
            continue;
        }
        switch (b.kind) {
        case FooterBlock::Kind::examples:
            break;
        case FooterBlock::Kind::titled:
            if (skip_exit_codes && b.title == "Exit codes") {
                break; // the EXIT STATUS section says it
            }
            notes += ".PP\n" + roff_line(bold(b.title + ":")) + "\n" + man_verbatim(b.lines);
            break;
        case FooterBlock::Kind::prose:
            notes += ".PP\n";
            for (const auto& l : b.lines) {
                notes += roff_line(roff(l)) + "\n";
            }
            break;
        }
    }
    std::string out;
    if (!examples.empty()) {
        out += ".SH EXAMPLES\n" + examples;
    }
    if (!notes.empty()) {
        out += ".SH NOTES\n" + notes;
    }
    return out;
}

std::string man_exit_status() {
    std::string out = ".SH EXIT STATUS\n";
    for (const auto& e : k_exit_codes) {
        out += ".TP\n" + bold(std::to_string(to_int(e.code))) + "\n" + roff_line(roff(e.meaning)) + "\n";
    }
    return out;
}

std::string man_see_also(std::vector<std::string> pages) {
    std::string out = ".SH SEE ALSO\n";
    for (std::size_t i = 0; i < pages.size(); ++i) {
        out += bold(pages[i]) + "(1)" + (i + 1 < pages.size() ? ",\n" : "\n");
    }
    return out;
}

std::string man_command_list(const CLI::App& app) {
    std::string out;
    walk(app, [&out](const CLI::App& sub) {
        out += ".TP\n" + roff_line(bold(command_path(sub).substr(std::string("edgeship ").size()))) + "\n" +
               roff_line(roff(sentence(sub.get_description()))) + " See " + bold(page_name(sub)) + "(1).\n";
    });
    return out;
}

std::string man_root_page(const CLI::App& root, const std::string& version) {
    std::ostringstream m;
    m << man_header("edgeship", version);
    m << ".SH NAME\nedgeship \\- " << roff("take a trained model to a running Azure IoT Edge module") << "\n";
    m << ".SH SYNOPSIS\n" << bold("edgeship") << " [" << italic("GLOBAL OPTIONS") << "] " << italic("COMMAND") << " ["
      << italic("OPTIONS") << "] [" << italic("ARGS") << "]\n";
    m << ".SH DESCRIPTION\n"
      << roff_line(roff(one_line(root.get_description()))) << "\n"
      << ".PP\n"
      << roff("Results (reports, written paths, digests, JSON with --json) go to stdout; logs, progress, warnings "
              "and errors go to stderr. A failure prints one line, edgeship: error: ..., naming the file, field or "
              "step at fault, optionally followed by a hint: line, and exits with one of the codes under EXIT "
              "STATUS. Outputs are written atomically. Global options may also follow the command.")
      << "\n";
    m << man_options_section("GLOBAL OPTIONS", options_of(root));
    m << ".TP\n" << bold("-h") << ", " << bold("--help") << "\n"
      << roff("Help on stdout, exit 0; edgeship COMMAND --help for one command.") << "\n";
    m << ".SH COMMANDS\n" << man_command_list(root);
    m << man_exit_status();
    m << ".SH ENVIRONMENT\n"
      << roff("Settings are layered: flags > environment > the solution's .env (commands that work on a solution) > "
              ".env file (--env-file or ./.env) > defaults; -v prints where each value the run used came "
              "from (secret values print as <redacted>). A .env file uses the docker-compose syntax (KEY=VALUE, "
              "optional export, # comments, single and double quotes).")
      << "\n";
    for (const auto& s : settings_catalog()) {
        std::string tag;
        for (std::size_t i = 0; i < s.env_names.size(); ++i) {
            tag += (i == 0 ? "" : ", ") + bold(s.env_names[i]);
        }
        if (tag.empty()) {
            continue;
        }
        std::string text = s.description + " (setting " + s.key;
        if (!s.flag.empty()) {
            text += "; flag " + s.flag;
        }
        if (s.default_value) {
            text += "; default " + *s.default_value;
        }
        text += ")";
        if (s.secret) {
            text += ". A secret: never printed, redacted in -v output.";
        }
        m << ".TP\n" << tag << "\n" << roff_line(roff(text)) << "\n";
    }
    m << ".TP\n" << bold("NO_COLOR") << "\n" << roff("Any value disables colour.") << "\n";
    m << ".TP\n" << bold("CLICOLOR_FORCE") << "\n" << roff("Not 0: colour even without a TTY, unless NO_COLOR is set.")
      << "\n";
    m << ".TP\n" << bold("TERM") << "\n" << roff("dumb disables colour and progress redrawing.") << "\n";
    m << ".SH FILES\n"
      << ".TP\n" << italic("./.env") << "\n" << roff("Settings read when present (--env-file names another file).") << "\n"
      << ".TP\n" << italic("/usr/share/edgeship/templates") << "\n"
      << roff("A copy of the solution templates built into the binary, to start your own template directory "
              "from (--template-dir).")
      << "\n"
      << ".TP\n" << italic("/usr/share/doc/edgeship") << "\n"
      << roff("User documentation: quickstart, workflows, CI recipes, troubleshooting and the command reference.")
      << "\n";
    m << man_footer_sections(root, true);
    std::vector<std::string> see;
    for (const auto* sub : visible_subcommands(root)) {
        see.push_back(page_name(*sub));
    }
    m << man_see_also(see);
    return m.str();
}

std::string man_command_page(const CLI::App& app, const std::string& version) {
    std::ostringstream m;
    std::string name = page_name(app);
    m << man_header(name, version);
    m << ".SH NAME\n" << roff(name) << " \\- " << roff(one_line(app.get_description())) << "\n";
    m << ".SH SYNOPSIS\n" << roff_line(bold(command_path(app)) + roff(synopsis_tail(app))) << "\n";
    m << ".SH DESCRIPTION\n" << roff_line(roff(one_line(app.get_description()))) << "\n";
    auto subs = visible_subcommands(app);
    if (!subs.empty()) {
        m << ".SH COMMANDS\n" << man_command_list(app);
    }
    std::vector<const CLI::Option*> positionals;
    std::vector<const CLI::Option*> named;
    for (const auto* o : options_of(app)) {
        (o->get_positional() ? positionals : named).push_back(o);
    }
    m << man_options_section("ARGUMENTS", positionals);
    m << man_options_section("OPTIONS", named);
    m << ".SH GLOBAL OPTIONS\n"
      << roff("-h/--help, -v/--verbose, -q/--quiet, --color and --env-file work with every command; see") << " "
      << bold("edgeship") << "(1).\n";
    m << man_footer_sections(app, false);
    m << man_exit_status();
    std::vector<std::string> see = {"edgeship"};
    if (app.get_parent() != nullptr && app.get_parent()->get_parent() != nullptr) {
        see.push_back(page_name(*app.get_parent()));
    }
    for (const auto* sub : subs) {
        see.push_back(page_name(*sub));
    }
    m << man_see_also(see);
    return m.str();
}

// ---- Markdown ----------------------------------------------------------------------------------------

// Escapes characters Markdown would read as markup in prose and table cells.
std::string md(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\' || c == '`' || c == '*' || c == '_' || c == '[' || c == ']' || c == '<' || c == '>' || c == '|') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

std::string md_code_block(const std::vector<std::string>& lines) {
    std::string out = "```text\n";
    for (const auto& l : lines) {
        out += l + "\n";
    }
    return out + "```\n";
}

std::string md_option_name(const OptionDoc& d) {
    std::string s = join(d.names, ", ");
    if (!d.value.empty()) {
        s += " " + d.value;
    }
    if (d.repeatable) {
        s += " ...";
    }
    // A code span cannot hold an unescaped '|' inside a table; none of our names or types contain one.
    return "`" + s + "`";
}

std::string md_option_table(const std::string& heading, const std::string& column,
                            const std::vector<const CLI::Option*>& opts) {
    if (opts.empty()) {
        return "";
    }
    std::string out = heading + "\n\n| " + column + " | description |\n|---|---|\n";
    for (const auto* o : opts) {
        auto d = describe(*o);
        out += "| " + md_option_name(d) + " | " + md(d.description) + " |\n";
    }
    return out + "\n";
}

std::string md_footer_sections(const CLI::App& app, const std::string& hashes) {
    std::string examples;
    std::string notes;
    for (const auto& b : parse_footer(app.get_footer())) {
        if (is_example_block(b)) {
            if (b.kind == FooterBlock::Kind::titled) {
                examples += md(b.title) + ":\n\n";
            }
            examples += md_code_block(b.lines) + "\n";
            continue;
        }
        switch (b.kind) {
        case FooterBlock::Kind::examples:
            break;
        case FooterBlock::Kind::titled:
            notes += md(b.title) + ":\n\n" + md_code_block(b.lines) + "\n";
            break;
        case FooterBlock::Kind::prose: {
            std::vector<std::string> escaped;
            for (const auto& l : b.lines) {
                escaped.push_back(md(l));
            }
            notes += join(escaped, "\n") + "\n\n";
            break;
        }
        }
    }
    std::string out;
    if (!examples.empty()) {
        out += hashes + " Examples\n\n" + examples;
    }
    if (!notes.empty()) {
        out += hashes + " Notes\n\n" + notes;
    }
    return out;
}

std::string md_command_section(const CLI::App& app, int level) {
    std::string h(static_cast<std::size_t>(level), '#');
    std::string sub_h = h + "#";
    std::string out = h + " " + command_path(app) + "\n\n" + md(one_line(app.get_description())) + "\n\n";
    out += sub_h + " Usage\n\n" + md_code_block({command_path(app) + synopsis_tail(app)}) + "\n";
    auto subs = visible_subcommands(app);
    if (!subs.empty()) {
        out += sub_h + " Commands\n\n| command | description |\n|---|---|\n";
        for (const auto* s : subs) {
            std::string anchor = command_path(*s);
            std::replace(anchor.begin(), anchor.end(), ' ', '-');
            out += "| [`" + command_path(*s) + "`](#" + anchor + ") | " + md(one_line(s->get_description())) + " |\n";
        }
        out += "\n";
    }
    std::vector<const CLI::Option*> positionals;
    std::vector<const CLI::Option*> named;
    for (const auto* o : options_of(app)) {
        (o->get_positional() ? positionals : named).push_back(o);
    }
    out += md_option_table(sub_h + " Arguments", "argument", positionals);
    out += md_option_table(sub_h + " Options", "option", named);
    out += md_footer_sections(app, sub_h);
    for (const auto* s : subs) {
        out += md_command_section(*s, level + 1);
    }
    return out;
}

constexpr const char* k_md_banner =
    "<!-- Generated from the command tree by scripts/gen-reference.sh; do not edit. -->\n";

std::string md_command_page(const CLI::App& app) {
    std::string out = k_md_banner + md_command_section(app, 1);
    out += "Global options (`-v`, `-q`, `--color`, `--env-file`, `--help`) work with every command: see "
           "[the index](README.md#global-options). Exit codes: [the index](README.md#exit-codes).\n";
    return out;
}

std::string md_index(const CLI::App& root) {
    std::string out = k_md_banner;
    out += "# edgeship command reference\n\n" + md(one_line(root.get_description())) +
           "\n\nOne page per command, generated from the same command tree as `edgeship --help`, the man pages "
           "and the shell completions, so it cannot drift from the binary. Refresh it with "
           "`scripts/gen-reference.sh`; `ctest -R e2e.packaging.reference_up_to_date` fails when it is stale.\n\n";
    out += "```text\nedgeship [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n```\n\n";
    out += "## Commands\n\n| command | description |\n|---|---|\n";
    for (const auto* top : visible_subcommands(root)) {
        std::string file = top->get_name() + ".md";
        out += "| [`" + command_path(*top) + "`](" + file + ") | " + md(one_line(top->get_description())) + " |\n";
        walk(*top, [&out, &file](const CLI::App& sub) {
            std::string anchor = command_path(sub);
            std::replace(anchor.begin(), anchor.end(), ' ', '-');
            out += "| [`" + command_path(sub) + "`](" + file + "#" + anchor + ") | " +
                   md(one_line(sub.get_description())) + " |\n";
        });
    }
    out += "\n";
    out += md_option_table("## Global options", "option", options_of(root));
    out += "`-h, --help` prints help on stdout and exits 0, for the root or any command.\n\n";
    out += "## Exit codes\n\n| code | meaning |\n|---|---|\n";
    for (const auto& e : k_exit_codes) {
        out += "| " + std::to_string(to_int(e.code)) + " | " + md(e.meaning) + " |\n";
    }
    out += "\n## Settings\n\nPrecedence: flags > environment > the solution's `.env` > `.env` file > defaults (`-v` "
           "shows the origin of each value used; secrets print as `<redacted>`).\n\n| setting | flag | environment | default |\n|---|---|---|---|\n";
    for (const auto& s : settings_catalog()) {
        std::vector<std::string> envs;
        for (const auto& e : s.env_names) {
            envs.push_back("`" + e + "`");
        }
        out += "| `" + s.key + "`" + (s.secret ? " (secret)" : "") + " | " +
               (s.flag.empty() ? "—" : "`" + s.flag + "`") + " | " + (envs.empty() ? "—" : join(envs, ", ")) +
               " | " + (s.default_value ? md(*s.default_value) : "—") + " |\n";
    }
    return out;
}

} // namespace

std::vector<std::string> command_paths(const CLI::App& root) {
    std::vector<std::string> out;
    walk(root, [&out](const CLI::App& a) { out.push_back(command_path(a)); });
    return out;
}

std::vector<std::string> commands_without_examples(const CLI::App& root) {
    std::vector<std::string> out;
    walk(root, [&out](const CLI::App& a) {
        if (!has_examples(a)) {
            out.push_back(command_path(a));
        }
    });
    return out;
}

std::vector<DocPage> man_pages(const CLI::App& root, const std::string& version) {
    std::vector<DocPage> pages;
    pages.push_back({"edgeship.1", man_root_page(root, version)});
    walk(root, [&pages, &version](const CLI::App& a) {
        pages.push_back({page_name(a) + ".1", man_command_page(a, version)});
    });
    return pages;
}

std::vector<DocPage> reference_pages(const CLI::App& root) {
    std::vector<DocPage> pages;
    pages.push_back({"README.md", md_index(root)});
    for (const auto* top : visible_subcommands(root)) {
        pages.push_back({top->get_name() + ".md", md_command_page(*top)});
    }
    return pages;
}

void register_docgen(CLI::App& parent, Context& ctx, Runner<DocgenOptions> run) {
    auto opts = std::make_shared<DocgenOptions>();
    auto* sub = parent.add_subcommand("__docgen", "Write the man pages or the Markdown command reference");
    sub->group(""); // hidden: a build and maintenance tool, not a user command
    sub->add_option("FORMAT", opts->format, "man or markdown")->required()->check(CLI::IsMember({"man", "markdown"}));
    sub->add_option("DIR", opts->output_dir, "Directory to write into (created when missing)")->required();
    sub->footer("Examples:\n  edgeship __docgen man build/man\n  edgeship __docgen markdown docs/reference");
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_docgen(const DocgenOptions& opts, Context& ctx) {
    if (ctx.root == nullptr) {
        return unexpected(Error("__docgen: no command tree", ExitCode::failure));
    }
    std::error_code ec;
    std::filesystem::create_directories(opts.output_dir, ec);
    if (ec) {
        return unexpected(Error(opts.output_dir + ": cannot create the directory: " + ec.message(), ExitCode::failure));
    }
    auto pages = opts.format == "man" ? man_pages(*ctx.root, build_info::k_version) : reference_pages(*ctx.root);
    for (const auto& page : pages) {
        EDGESHIP_TRY(core::write_file_atomic(std::filesystem::path(opts.output_dir) / page.file_name, page.content));
    }
    // Warn, not fail, so a command under construction does not break everyone's build; the tests fail.
    for (const auto& path : commands_without_examples(*ctx.root)) {
        ctx.console.warning(path + ": the help has no Examples: footer");
    }
    ctx.console.info("wrote " + std::to_string(pages.size()) + " pages to " + opts.output_dir);
    return {};
}

} // namespace edgeship::cli
