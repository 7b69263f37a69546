#pragma once

// A fake docker-credential-edgeshiptest helper (docs/design/registry.md §6 protocol) written into a temp dir
// that the test puts on PATH through the Environment it passes in. Store: creds.json beside it; call log:
// calls.log ("ACTION SERVER", never secrets). Servers "fail.example" and "slow.example" misbehave.

#include "test_support.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <string>

namespace edgeship::test {

inline constexpr const char* k_fake_helper = R"(#!/usr/bin/python3
import json, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
store = os.path.join(here, "creds.json")
action = sys.argv[1]
payload = sys.stdin.read()
data = json.load(open(store)) if os.path.exists(store) else {}
server = json.loads(payload)["ServerURL"] if action == "store" else payload.strip()
open(os.path.join(here, "calls.log"), "a").write(action + " " + server + "\n")
if server == "fail.example":
    sys.stderr.write("keychain locked\n"); sys.exit(3)
if server == "slow.example":
    time.sleep(20)
if action == "get":
    if server not in data:
        print("credentials not found in native keychain"); sys.exit(1)
    json.dump({"ServerURL": server, "Username": data[server][0], "Secret": data[server][1]}, sys.stdout)
elif action == "store":
    d = json.loads(payload); data[server] = [d["Username"], d["Secret"]]
    json.dump(data, open(store, "w"))
elif action == "erase":
    if server not in data:
        print("credentials not found in native keychain"); sys.exit(1)
    del data[server]; json.dump(data, open(store, "w"))
)";

/// Writes the helper into `dir` and returns PATH with `dir` first.
inline std::string install_fake_helper(const std::filesystem::path& dir) {
    auto exe = dir / "docker-credential-edgeshiptest";
    write_text(exe, k_fake_helper);
    ::chmod(exe.c_str(), 0755);
    return dir.string() + ":/usr/bin:/bin";
}

} // namespace edgeship::test
