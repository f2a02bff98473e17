// Error codes: every code has its own name, and make_error without a code means kOther.
#include "matthan/core/result.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace matthan {
namespace {

TEST(ErrorCode, EveryCodeHasItsOwnName) {
  const ErrorCode all[] = {ErrorCode::kOther,       ErrorCode::kUnauthorized, ErrorCode::kNotFound,
                           ErrorCode::kUnreachable, ErrorCode::kRefused,      ErrorCode::kTimeout,
                           ErrorCode::kIo,          ErrorCode::kConfig,       ErrorCode::kUnsupported,
                           ErrorCode::kInvalid};
  std::set<std::string> names;
  for (ErrorCode c : all) names.insert(std::string(to_string(c)));
  EXPECT_EQ(names.size(), std::size(all));
  EXPECT_EQ(to_string(ErrorCode::kUnauthorized), "unauthorized");
  EXPECT_EQ(to_string(ErrorCode::kNotFound), "not_found");
  EXPECT_EQ(to_string(ErrorCode::kTimeout), "timeout");
  EXPECT_EQ(to_string(ErrorCode::kOther), "other");
}

TEST(ErrorCode, MakeErrorKeepsTheCodeAndTheMessage) {
  const Error plain = make_error("disk full");
  EXPECT_EQ(plain.code, ErrorCode::kOther);
  EXPECT_EQ(plain.message, "disk full");
  const Error coded = make_error(ErrorCode::kUnauthorized, "the camera refused the password");
  EXPECT_EQ(coded.code, ErrorCode::kUnauthorized);
  EXPECT_EQ(coded.message, "the camera refused the password");
  const Status s = coded;
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnauthorized);
  const Result<int> r = make_error(ErrorCode::kTimeout, "silent");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
}

}  // namespace
}  // namespace matthan
