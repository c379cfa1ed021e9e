// feral/core/error.hpp — the exceptions feral throws.
//
// Every failure the user can cause (bad data, impossible parameters, a model
// used before fit, a corrupt file) is reported with one of these types, and the
// message names the function, the offending value, file or row, and what was
// expected. Catch `feral::error` to catch them all.
//
//   feral::error
//   ├── feral::invalid_argument   a parameter or input shape/value is wrong
//   ├── feral::format_error       a file or text is malformed (names file and line)
//   ├── feral::not_fitted         predict/transform called before fit
//   ├── feral::numerical_error    NaN/Inf appeared, a loss diverged
//   └── feral::io_error           a file cannot be opened, read or written
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace feral {

class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class invalid_argument : public error {
public:
    using error::error;
};

class format_error : public error {
public:
    using error::error;
};

class not_fitted : public error {
public:
    using error::error;
};

class numerical_error : public error {
public:
    using error::error;
};

class io_error : public error {
public:
    using error::error;
};

namespace detail {

/// Concatenates any streamable values into one string: message("x has ", n, " rows").
/// (GCC 12 has no std::format; this keeps messages one readable line.)
template <class... Parts>
[[nodiscard]] std::string message(Parts&&... parts) {
    std::ostringstream out;
    (out << ... << std::forward<Parts>(parts));
    return out.str();
}

/// Throws Error with the concatenated message.
template <class Error = invalid_argument, class... Parts>
[[noreturn]] void fail(Parts&&... parts) {
    throw Error(message(std::forward<Parts>(parts)...));
}

}  // namespace detail
}  // namespace feral
