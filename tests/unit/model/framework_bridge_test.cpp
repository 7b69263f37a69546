// The framework bridge's process handling (missing interpreter, timeouts, crashes, the child's stderr,
// cancellation), its probe (run with Debian's /usr/bin/python3: the probe needs only the standard
// library), pickle trust, and format detection. Fake interpreters are shell scripts in a TempDir.

#include "core/cancel.hpp"
#include "model/framework_bridge.hpp"
#include "model/framework_convert.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace edgeship::model {
namespace {

std::string fake_python(const test::TempDir& dir, const std::string& name, const std::string& body) {
    auto p = dir / name;
    test::write_text(p, "#!/bin/sh\n" + body + "\n");
    ::chmod(p.c_str(), 0755);
    return p.string();
}

PythonOptions options(const std::string& python) {
    PythonOptions o;
    o.python = python;
    o.env = {{"PATH", "/usr/bin:/bin"}};
    o.timeout = std::chrono::seconds(30);
    return o;
}

TEST(FrameworkBridge, InterpreterPrecedenceIsFlagThenEnvThenPython3) {
    core::Environment env{{"EDGESHIP_PYTHON", "/opt/py/bin/python"}};
    EXPECT_EQ(resolve_python("/usr/bin/python3", env), "/usr/bin/python3");
    EXPECT_EQ(resolve_python("", env), "/opt/py/bin/python");
    EXPECT_EQ(resolve_python("", {}), "python3");
}

TEST(FrameworkBridge, MissingInterpreterSaysWhatToInstall) {
    auto r = run_bridge(options("no-such-python-edgeship"), "probe", {{"path", "/dev/null"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "Python interpreter 'no-such-python-edgeship' not found on PATH");
    EXPECT_NE(r.error().hint_text().find("apt-get install python3-sklearn"), std::string::npos);
    r = run_bridge(options("/nonexistent/python3"), "probe", {{"path", "/dev/null"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "Python interpreter /nonexistent/python3 not found or not executable");
}

TEST(FrameworkBridge, InterpreterIsFoundOnTheGivenPath) {
    test::TempDir dir;
    fake_python(dir, "mypython", "exit 0");
    auto o = options("mypython");
    o.env["PATH"] = "/nonexistent:" + dir.path().string();
    auto r = run_bridge(o, "probe", {{"path", "/dev/null"}});
    ASSERT_FALSE(r); // it ran (and wrote no answer)
    EXPECT_NE(r.error().message().find(dir.path().string() + "/mypython) exited with status 0"),
              std::string::npos);
}

TEST(FrameworkBridge, CrashShowsTheLastTracebackLine) {
    test::TempDir dir;
    auto py = fake_python(dir, "py",
                          "echo 'some warning: UserWarning: noise' >&2\n"
                          "echo 'Traceback (most recent call last):' >&2\n"
                          "echo '  File \"x.py\", line 1' >&2\n"
                          "echo 'ValueError: the real problem' >&2\nexit 3");
    auto r = run_bridge(options(py), "probe", {{"path", "/dev/null"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(),
              "the Python bridge (" + py + ") exited with status 3: ValueError: the real problem");
}

TEST(FrameworkBridge, NonPythonStderrShowsTheFirstMeaningfulLine) {
    test::TempDir dir;
    auto py = fake_python(dir, "py", "echo '' >&2\necho 'cannot execute: bad interpreter' >&2\nexit 126");
    auto r = run_bridge(options(py), "probe", {{"path", "/dev/null"}});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("exited with status 126: cannot execute: bad interpreter"),
              std::string::npos);
}

TEST(FrameworkBridge, TimeoutStopsTheChild) {
    test::TempDir dir;
    auto marker = dir / "still-running";
    auto py = fake_python(dir, "py", "sleep 30; touch '" + marker.string() + "'");
    auto o = options(py);
    o.timeout = std::chrono::seconds(1);
    const auto start = std::chrono::steady_clock::now();
    auto r = run_bridge(o, "probe", {{"path", "/dev/null"}});
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("did not finish within 1 s"), std::string::npos);
    EXPECT_NE(r.error().hint_text().find("--bridge-timeout"), std::string::npos);
    EXPECT_LT(took, std::chrono::seconds(10));
}

TEST(FrameworkBridge, CancellationStopsTheChild) {
    test::TempDir dir;
    auto py = fake_python(dir, "py", "sleep 30");
    core::CancelToken::global().cancel();
    auto r = run_bridge(options(py), "probe", {{"path", "/dev/null"}});
    core::CancelToken::global().reset();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ExitCode::interrupted);
}

TEST(FrameworkBridge, ScriptFailuresCarryMessageHintAndCode) {
    test::TempDir dir;
    // A stand-in for the script: writes the answer the real one writes for a usage problem.
    auto py = fake_python(dir, "py",
                          "printf '{\"ok\": false, \"kind\": \"usage\", \"message\": \"bad thing\", "
                          "\"hint\": \"do x\"}' > \"$5\"");
    auto r = run_bridge(options(py), "torch", nlohmann::json{{"path", "/dev/null"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "bad thing");
    EXPECT_EQ(r.error().hint_text(), "do x");
    EXPECT_EQ(r.error().code(), ExitCode::usage);
}

TEST(FrameworkBridge, TheEmbeddedScriptIsPython3) {
    auto s = bridge_script();
    EXPECT_TRUE(s.starts_with("# edgeship framework bridge"));
    EXPECT_NE(s.find("def main():"), std::string_view::npos);
    EXPECT_NE(s.find("pickletools.genops"), std::string_view::npos);
}

// --- the probe, with the real script and Debian's Python (standard library only)

std::string pickle_of_global(const std::string& module, const std::string& name) {
    // protocol 2: PROTO 2, GLOBAL 'module name', EMPTY_TUPLE, NEWOBJ, STOP
    return std::string("\x80\x02", 2) + "c" + module + "\n" + name + "\n)\x81.";
}

TEST(FrameworkBridge, ProbeListsWhatAPickleWouldImportWithoutLoadingIt) {
    test::TempDir dir;
    auto p = dir / "m.pkl";
    test::write_text(p, pickle_of_global("no_such_module_edgeship", "Boom"));
    auto r = probe_model_file(options("/usr/bin/python3"), p);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->container, "pickle");
    EXPECT_EQ(r->globals, std::vector<std::string>{"no_such_module_edgeship.Boom"});
    EXPECT_EQ(r->error, "");
    EXPECT_FALSE(r->torchscript);
}

TEST(FrameworkBridge, ProbeReportsTruncatedAndNonPickles) {
    test::TempDir dir;
    auto p = dir / "t.pkl";
    auto bytes = pickle_of_global("sklearn.linear_model", "Ridge");
    test::write_text(p, bytes.substr(0, bytes.size() - 3));
    auto r = probe_model_file(options("/usr/bin/python3"), p);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_NE(r->error, "");
    test::write_text(p, "plain text");
    r = probe_model_file(options("/usr/bin/python3"), p);
    ASSERT_TRUE(r);
    EXPECT_NE(r->error.find("not a pickle"), std::string::npos);
}

// --- trust

TEST(FrameworkBridge, PicklesAreRefusedWithoutTrust) {
    PickleProbe probe;
    probe.globals = {"numpy.dtype", "sklearn.ensemble._forest.RandomForestClassifier"};
    FrameworkOptions o;
    auto r = require_pickle_trust("m.pkl", probe, o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(),
              "refusing to load m.pkl: it is a Python pickle, and loading a pickle runs any code "
              "it contains (it would import sklearn.ensemble._forest.RandomForestClassifier)");
    EXPECT_EQ(r.error().hint_text(), "pass --trust-pickle if you trust where the file came from");
    o.trust = PickleTrust::trusted;
    EXPECT_TRUE(require_pickle_trust("m.pkl", probe, o));
}

TEST(FrameworkBridge, ConfirmationDecides) {
    PickleProbe probe;
    FrameworkOptions o;
    int asked = 0;
    o.confirm = [&](const std::filesystem::path& p, const PickleProbe&) {
        ++asked;
        return p == "yes.pkl";
    };
    EXPECT_TRUE(require_pickle_trust("yes.pkl", probe, o));
    EXPECT_FALSE(require_pickle_trust("no.pkl", probe, o));
    EXPECT_EQ(asked, 2);
}

TEST(FrameworkBridge, GlobalsAreSummarisedWithoutPlumbing) {
    EXPECT_EQ(describe_globals(
                  {"numpy.core.multiarray._reconstruct", "a.A", "torch.FloatStorage", "b.B", "c.C"}, 2),
              "a.A, b.B, …");
    EXPECT_EQ(describe_globals({"collections.OrderedDict"}), "collections.OrderedDict");
}

// --- detection

TEST(FrameworkBridge, FormatsAreDetectedFromBytesAndExtension) {
    using namespace std::string_literals;
    EXPECT_EQ(detect_framework_format("PK\x03\x04rest"s, "m.bin"), "torch");
    EXPECT_EQ(detect_framework_format("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.."s, "m.bin"),
              "torch");
    EXPECT_EQ(detect_framework_format("\x80\x04\x95"s, "model.pkl"), "sklearn");
    EXPECT_EQ(detect_framework_format("\x80\x04\x95"s, "model.pth"), "torch");
    EXPECT_EQ(detect_framework_format("\x78\x9c\x01"s, "model.joblib"), "sklearn");
    EXPECT_EQ(detect_framework_format("\x78\x9c\x01"s, "model.bin"), "");
    EXPECT_EQ(detect_framework_format("{\"learner\""s, "model.json"), "");
    EXPECT_EQ(detect_framework_format("\x08\x08\x12"s, "model.onnx"), "");
    EXPECT_EQ(parse_framework_kind("scikit-learn"), FrameworkKind::sklearn);
    EXPECT_EQ(parse_framework_kind("pytorch"), FrameworkKind::torch);
    EXPECT_FALSE(parse_framework_kind("xgboost"));
}

} // namespace
} // namespace edgeship::model
