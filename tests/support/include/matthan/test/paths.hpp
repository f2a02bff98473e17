// Where tests find their inputs: the built binaries, ../shared (optional) and Debian's vtest.avi.
#pragma once

#include <filesystem>
#include <string>

namespace matthan::test {

// The `matthan` executable built in this tree.
std::filesystem::path matthan_binary();
// ../shared next to the source tree; empty when absent (a fresh clone without it).
std::filesystem::path shared_dir();
// /usr/share/doc/opencv-doc/examples/data/vtest.avi; empty when opencv-doc is not installed.
std::filesystem::path vtest_avi();
// A fresh, empty temporary directory removed by the caller (or left for inspection on failure).
std::filesystem::path make_temp_dir(const std::string& prefix);
// A TCP port on 127.0.0.1 that is free right now.
int free_tcp_port();
// The whole file, byte for byte; empty when it cannot be read.
std::string read_file(const std::filesystem::path& p);

}  // namespace matthan::test

// Skips the current test with a visible reason when ../shared is missing.
#define MATTHAN_REQUIRE_SHARED()                                                              \
  do {                                                                                        \
    if (::matthan::test::shared_dir().empty())                                                \
      GTEST_SKIP() << "../shared is not present next to the source tree; skipping (it holds " \
                      "the evaluation media and models)";                                     \
  } while (0)
