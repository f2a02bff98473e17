// The names of the error codes (for logs and JSON; decisions compare the code itself).
#include "matthan/core/result.hpp"

namespace matthan {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOther:
      return "other";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kUnreachable:
      return "unreachable";
    case ErrorCode::kRefused:
      return "refused";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kConfig:
      return "config";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kInvalid:
      return "invalid";
  }
  return "other";
}

}  // namespace matthan
