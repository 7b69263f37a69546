#pragma once

// Runs the edgeship CLI in-process over a FakeIo: the one helper of the tests/unit/cli tests.

#include "cli/app.hpp"
#include "cli/io.hpp"
#include "core/env.hpp"
#include "imagebuild/fixture.hpp"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace edgeship::test {

/// What a run left: the exit code and everything written to stdout and stderr.
struct CliRun {
    int code;
    std::string out;
    std::string err;
};

struct CliOptions {
    /// stdin, stdout and stderr are all TTYs (progress drawing is on).
    bool tty = false;
    /// What stdin holds (--password-stdin).
    std::string stdin_text;
    /// Leave NO_COLOR unset so the colour rules decide. By default NO_COLOR=1 is added, so a test
    /// compares plain text whatever its environment asks for.
    bool colour_rules = false;
    /// When set: npm/pip stand-ins and their cache under this directory (fake_tools_env), for the
    /// commands that build the dependencies layer.
    std::filesystem::path fake_tools;
};

// One option each, for the call sites (GCC 12 warns about designated initializers that leave fields out).
inline CliOptions on_tty() {
    CliOptions o;
    o.tty = true;
    return o;
}
inline CliOptions with_stdin(std::string text) {
    CliOptions o;
    o.stdin_text = std::move(text);
    return o;
}
inline CliOptions with_colour_rules() {
    CliOptions o;
    o.colour_rules = true;
    return o;
}
inline CliOptions with_fake_tools(std::filesystem::path dir) {
    CliOptions o;
    o.fake_tools = std::move(dir);
    return o;
}

/// `edgeship ARGS` with `env` as the whole environment; what the test puts in `env` wins over what
/// `options` adds.
inline CliRun run_cli(const std::vector<std::string>& args, core::Environment env = {},
                      const CliOptions& options = {}) {
    cli::FakeIo fake(options.tty, options.stdin_text);
    if (!options.colour_rules) {
        env.emplace("NO_COLOR", "1");
    }
    if (!options.fake_tools.empty()) {
        for (const auto& [k, v] : fake_tools_env(options.fake_tools)) {
            env.emplace(k, v);
        }
    }
    int code = cli::run(args, fake.io, std::move(env));
    return {code, fake.out.str(), fake.err.str()};
}

} // namespace edgeship::test
