// Result<T>: the error-as-value type for anything that touches the outside world (see docs/ARCHITECTURE.md).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace matthan {

// What kind of failure an Error is: decisions (retry policy, probe verdicts) use this, never the message text.
enum class ErrorCode {
  kOther,         // no decision depends on the kind
  kUnauthorized,  // the peer refused our credentials (RTSP/HTTP 401)
  kNotFound,      // the peer has nothing at this path (RTSP/HTTP 404), or a file is missing
  kUnreachable,   // no route, host down, name does not resolve
  kRefused,       // nothing listens on the port
  kTimeout,       // the peer or the stream went silent for too long
  kIo,            // a read, write or file-system operation failed
  kConfig,        // a setting or argument is not acceptable
  kUnsupported,   // a codec, container or scheme we do not handle
  kInvalid,       // malformed input (a URL, a file, a request)
};
std::string_view to_string(ErrorCode code);  // "other", "unauthorized", "not_found", ...

struct Error {
  ErrorCode code = ErrorCode::kOther;
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const { return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

inline Error make_error(std::string message) {
  return Error{ErrorCode::kOther, std::move(message)};
}
inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace matthan
