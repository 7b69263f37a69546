#pragma once

#include "core/exit_code.hpp"

#include <string>
#include <utility>
#include <vector>

namespace edgeship {

/// An error travelling up from a leaf to the single catch site in cli/app.cpp.
/// The message names the thing at fault; callers add context outermost-first as it propagates
/// ("pushing app:1.0: uploading sha256:…: 401 Unauthorized", crane's "%s: %w" style).
class Error {
public:
    Error() = default;
    explicit Error(std::string message, ExitCode code = ExitCode::failure)
        : m_code(code), m_message(std::move(message)) {}

    /// Prepends a context step ("inspecting model.onnx"). Returns *this for chaining.
    Error& context(std::string step) & {
        m_context.insert(m_context.begin(), std::move(step));
        return *this;
    }
    Error&& context(std::string step) && {
        m_context.insert(m_context.begin(), std::move(step));
        return std::move(*this);
    }
    /// An optional next step shown as a second line "hint: …".
    Error& hint(std::string text) & {
        m_hint = std::move(text);
        return *this;
    }
    Error&& hint(std::string text) && {
        m_hint = std::move(text);
        return std::move(*this);
    }

    ExitCode code() const { return m_code; }
    const std::string& message() const { return m_message; }
    const std::vector<std::string>& context_steps() const { return m_context; }
    const std::string& hint_text() const { return m_hint; }

    /// "ctx1: ctx2: message" on one line (newlines in the message are folded to spaces).
    std::string what() const;

private:
    ExitCode m_code = ExitCode::failure;
    std::string m_message;
    std::vector<std::string> m_context;
    std::string m_hint;
};

} // namespace edgeship
