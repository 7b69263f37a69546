#pragma once

#include "core/error.hpp"

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace edgeship {

/// Wraps an error for constructing a failed Result: `return unexpected(Error("…"));`
/// Mirrors std::unexpected so moving to C++23 std::expected is a rename.
template <class E> class Unexpected {
public:
    explicit Unexpected(E e) : m_error(std::move(e)) {}
    E& error() & { return m_error; }
    E&& error() && { return std::move(m_error); }

private:
    E m_error;
};

inline Unexpected<Error> unexpected(Error e) { return Unexpected<Error>(std::move(e)); }

/// Convenience: `return fail("file.json: not JSON", ExitCode::failure);`
inline Unexpected<Error> fail(std::string message, ExitCode code = ExitCode::failure) {
    return Unexpected<Error>(Error(std::move(message), code));
}

/// Result<T>: a value or an Error; the subset of std::expected<T, Error> we use.
/// Not thread-safe for concurrent mutation (like any value type).
template <class T> class [[nodiscard]] Result {
public:
    using value_type = T;

    Result() requires std::is_default_constructible_v<T> : m_state(std::in_place_index<0>) {}
    Result(const T& v) : m_state(std::in_place_index<0>, v) {}
    Result(T&& v) : m_state(std::in_place_index<0>, std::move(v)) {}
    template <class U>
        requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, Result> &&
                 !std::is_same_v<std::decay_t<U>, Unexpected<Error>> && !std::is_same_v<std::decay_t<U>, T>)
    Result(U&& v) : m_state(std::in_place_index<0>, std::forward<U>(v)) {}
    Result(Unexpected<Error> u) : m_state(std::in_place_index<1>, std::move(u).error()) {}

    bool has_value() const { return m_state.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return checked(), std::get<0>(m_state); }
    const T& value() const& { return checked(), std::get<0>(m_state); }
    T&& value() && { return checked(), std::move(std::get<0>(m_state)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    Error& error() & { return std::get<1>(m_state); }
    const Error& error() const& { return std::get<1>(m_state); }
    Error&& error() && { return std::move(std::get<1>(m_state)); }

    template <class U> T value_or(U&& fallback) const& {
        return has_value() ? std::get<0>(m_state) : static_cast<T>(std::forward<U>(fallback));
    }

private:
    void checked() const { assert(has_value() && "Result::value() on an error"); }
    std::variant<T, Error> m_state;
};

/// Result<void>: success or an Error.
template <> class [[nodiscard]] Result<void> {
public:
    using value_type = void;
    Result() = default;
    Result(Unexpected<Error> u) : m_error(std::move(u).error()), m_failed(true) {}

    bool has_value() const { return !m_failed; }
    explicit operator bool() const { return has_value(); }
    void value() const { assert(has_value()); }
    Error& error() & { return m_error; }
    const Error& error() const& { return m_error; }
    Error&& error() && { return std::move(m_error); }

private:
    Error m_error;
    bool m_failed = false;
};

} // namespace edgeship

// Propagate an error from an expression returning Result<…> (ccache's TRY).
#define EDGESHIP_TRY(expr)                                                                                   \
    do {                                                                                                     \
        auto&& edgeship_try_result_ = (expr);                                                                \
        if (!edgeship_try_result_) {                                                                         \
            return ::edgeship::unexpected(std::move(edgeship_try_result_).error());                          \
        }                                                                                                    \
    } while (false)

#define EDGESHIP_CONCAT_INNER_(a, b) a##b
#define EDGESHIP_CONCAT_(a, b) EDGESHIP_CONCAT_INNER_(a, b)
// Declare `var` from the value of a Result<…> expression, or propagate its error (ccache's TRY_ASSIGN).
#define EDGESHIP_TRY_ASSIGN(var, expr) EDGESHIP_TRY_ASSIGN_IMPL_(var, expr, EDGESHIP_CONCAT_(edgeship_r_, __LINE__))
#define EDGESHIP_TRY_ASSIGN_IMPL_(var, expr, tmp)                                                            \
    auto tmp = (expr);                                                                                       \
    if (!tmp) {                                                                                              \
        return ::edgeship::unexpected(std::move(tmp).error());                                               \
    }                                                                                                        \
    var = std::move(tmp).value()
