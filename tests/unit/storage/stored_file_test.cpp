// Opening files under the storage root (issue 19 D15): a FIFO swapped in at a clip path gives a clean error
// instead of blocking the opener forever, and a symlink (to /etc/passwd, say) is refused, not followed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>

#include "matthan/storage/file_hash.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

class StoredFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("matthan-stored-file"); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  // Runs `open` on another thread and waits at most 3 s. When it blocks (the bug), a writer end is opened
  // so that the blocked open returns and the test ends instead of hanging.
  template <class F>
  auto bounded(const fs::path& fifo, F open) {
    auto fut = std::async(std::launch::async, open);
    if (fut.wait_for(std::chrono::seconds(3)) == std::future_status::timeout) {
      ADD_FAILURE() << "opening a FIFO blocked for 3 s";
      const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (w >= 0) ::close(w);
    }
    return fut.get();
  }
  fs::path dir_;
};

TEST_F(StoredFileTest, ARegularFileOpensWithItsSize) {
  std::ofstream(dir_ / "a.mp4", std::ios::binary) << "abcdef";
  auto f = StoredFile::open(dir_ / "a.mp4");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_GE(f->fd(), 0);
  EXPECT_EQ(f->size(), 6u);
  char buf[6];
  EXPECT_EQ(::pread(f->fd(), buf, sizeof buf, 0), 6);
  EXPECT_EQ(std::string(buf, 6), "abcdef");
  auto missing = StoredFile::open(dir_ / "missing.mp4");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(StoredFileTest, AFifoAtAClipPathIsACleanErrorNotAHang) {
  const fs::path fifo = dir_ / "clip.mp4";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto hashed = bounded(fifo, [&] { return sha256_file(fifo); });
  ASSERT_FALSE(hashed.ok());
  EXPECT_NE(hashed.error().message.find("not a regular file"), std::string::npos) << hashed.error().message;
  auto opened = bounded(fifo, [&] { return StoredFile::open(fifo); });
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalid);
}

TEST_F(StoredFileTest, ASymlinkToAFileOutsideIsRefused) {
  const fs::path link = dir_ / "clip.mp4";
  fs::create_symlink("/etc/passwd", link);
  auto hashed = sha256_file(link);
  EXPECT_FALSE(hashed.ok()) << "followed the link and hashed /etc/passwd";
  auto opened = StoredFile::open(link);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("symbolic link"), std::string::npos) << opened.error().message;
}

}  // namespace
}  // namespace matthan
