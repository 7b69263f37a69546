#pragma once

#include "core/result.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace edgeship::core {

/// Environment variables as a map. The library never calls getenv(): the CLI captures the process
/// environment once and passes it in (Bear passes envp), so tests can set it per case.
using Environment = std::map<std::string, std::string, std::less<>>;

/// Captures `envp`-style NAME=VALUE strings.
Environment environment_from(char** envp);

/// Parses a .env file with docker-compose/iotedgedev conventions: `KEY=VALUE` lines, optional
/// `export ` prefix, `#` comments, blank lines, single quotes (literal) and double quotes (with the
/// escapes backslash-n, backslash-quote, backslash-backslash). `source` names the file in errors:
/// "solution/.env:7: expected KEY=VALUE".
Result<Environment> parse_dotenv(std::string_view text, std::string_view source);

/// Reads and parses a .env file.
Result<Environment> load_dotenv(const std::filesystem::path& path);

/// The value of `name`, or nullptr.
const std::string* find_env(const Environment& env, std::string_view name);

} // namespace edgeship::core
