#pragma once
// Solution commands (issue 5): init, module add, gen, validate. Same pattern as commands.hpp: an
// Options struct, register_<cmd>() binding flags, run_<cmd>() calling the library.

#include "cli/context.hpp"

#include <CLI/App.hpp>

#include <string>
#include <vector>

namespace edgeship::cli {

// init ------------------------------------------------------------------------------------------
struct InitOptions {
    std::string dir;
    std::string module = "scoring";
    std::string model;
    std::string runtime = "python-onnxruntime";
    std::vector<std::string> platforms = {"amd64"};
    std::string registry = "localhost:5000";
    std::string template_dir;
    bool dry_run = false;
    bool json = false;
};
void register_init(CLI::App& parent, Context& ctx, Runner<InitOptions> run);
Result<void> run_init(const InitOptions& opts, Context& ctx);

// module add ------------------------------------------------------------------------------------
struct ModuleAddOptions {
    std::string name;
    std::string solution = ".";
    std::string model;
    std::string runtime = "python-onnxruntime";
    std::vector<std::string> platforms = {"amd64"};
    std::string template_dir;
    bool dry_run = false;
    bool json = false;
};
void register_module(CLI::App& parent, Context& ctx, Runner<ModuleAddOptions> run);
Result<void> run_module_add(const ModuleAddOptions& opts, Context& ctx);

// gen -------------------------------------------------------------------------------------------
struct GenOptions {
    std::string solution = ".";
    std::string template_file;
    std::string platform;
    std::string env_file;
    std::string output_dir;
    bool strict = false;
    bool no_validate = false;
    bool dry_run = false;
    bool json = false;
};
void register_gen(CLI::App& parent, Context& ctx, Runner<GenOptions> run);
Result<void> run_gen(const GenOptions& opts, Context& ctx);

// validate --------------------------------------------------------------------------------------
struct ValidateOptions {
    std::string manifest;
    bool json = false;
};
void register_validate(CLI::App& parent, Context& ctx, Runner<ValidateOptions> run);
Result<void> run_validate(const ValidateOptions& opts, Context& ctx);

} // namespace edgeship::cli
