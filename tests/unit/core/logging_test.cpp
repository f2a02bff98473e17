// Log output formats: journald-friendly lines under systemd (priority prefix, no timestamp, no colour),
// the JOURNAL_STREAM detection, and the plain terminal format.
#include "matthan/core/logging.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace matthan {
namespace {

// Points fd 2 at a temporary file for the duration of one capture.
class StderrCapture {
 public:
  StderrCapture() : path_(std::filesystem::temp_directory_path() / ("matthan-log-" + std::to_string(::getpid()))) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~StderrCapture() {
    restore();
    std::filesystem::remove(path_);
  }
  std::string stream_id() const {  // what systemd would put in JOURNAL_STREAM
    struct stat st {};
    ::fstat(2, &st);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }
  std::vector<std::string> lines() {
    if (auto l = spdlog::default_logger()) l->flush();
    std::fflush(stderr);
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }

 private:
  std::filesystem::path path_;
  int saved_ = -1;
};

std::string line_with(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines)
    if (l.find(text) != std::string::npos) return l;
  return {};
}

class LoggingFormat : public ::testing::Test {
 protected:
  void TearDown() override {
    ::unsetenv("JOURNAL_STREAM");
    init_logging(LogOptions{"info", false, false});
  }
};

TEST_F(LoggingFormat, JournalLinesCarryThePriorityAndNoTimestampOrColour) {
  StderrCapture cap;
  init_logging(LogOptions{"debug", false, true});
  camera_logger("gate-1")->info("hello from the gate");
  camera_logger("gate-1")->debug("a detail");
  spdlog::warn("careful now");
  spdlog::error("something broke");
  const auto lines = cap.lines();
  cap.restore();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(line_with(lines, "hello from the gate"), "<6>info [gate-1] hello from the gate");
  EXPECT_EQ(line_with(lines, "a detail").substr(0, 3), "<7>");
  EXPECT_EQ(line_with(lines, "careful now").substr(0, 3), "<4>");
  EXPECT_EQ(line_with(lines, "something broke").substr(0, 3), "<3>");
  for (const auto& l : lines) {
    EXPECT_FALSE(std::regex_search(l, std::regex(R"(\d{4}-\d{2}-\d{2})"))) << "timestamp in: " << l;
    EXPECT_EQ(l.find('\x1b'), std::string::npos) << "colour escape in: " << l;
  }
}

TEST_F(LoggingFormat, JournalJsonLinesArePrefixedObjects) {
  StderrCapture cap;
  init_logging(LogOptions{"info", true, true});
  spdlog::warn("json under journald");
  const auto lines = cap.lines();
  cap.restore();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].substr(0, 4), "<4>{") << lines[0];
  EXPECT_NE(lines[0].find(R"("msg":"json under journald"})"), std::string::npos) << lines[0];
}

TEST_F(LoggingFormat, DetectsTheJournalOnlyWhenJournalStreamIsOurStderr) {
  StderrCapture cap;
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(journal_stream_is_stderr());
  ::setenv("JOURNAL_STREAM", "1:2", 1);  // inherited from a parent whose stderr was the journal
  EXPECT_FALSE(journal_stream_is_stderr());
  ::setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(journal_stream_is_stderr());
  ::setenv("JOURNAL_STREAM", cap.stream_id().c_str(), 1);
  EXPECT_TRUE(journal_stream_is_stderr());

  init_logging(LogOptions{"info", false, std::nullopt});  // detected, not forced
  spdlog::info("detected");
  const auto lines = cap.lines();
  cap.restore();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "<6>info detected");
}

TEST_F(LoggingFormat, TerminalLinesKeepTheirTimestampAndHaveNoPrefix) {
  StderrCapture cap;
  ::unsetenv("JOURNAL_STREAM");
  init_logging(LogOptions{"info", false, std::nullopt});
  spdlog::info("on a terminal");
  const auto lines = cap.lines();
  cap.restore();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(std::regex_search(lines[0], std::regex(R"(^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} )"))) << lines[0];
  EXPECT_NE(lines[0].find("on a terminal"), std::string::npos);
  EXPECT_NE(lines[0][0], '<');
}

}  // namespace
}  // namespace matthan
