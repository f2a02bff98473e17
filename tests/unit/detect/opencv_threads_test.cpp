// limit_opencv_threads: main's one decision about OpenCV's pool, and the environment's way to overrule it.
#include "matthan/detect/opencv_threads.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <opencv2/core/utility.hpp>

namespace matthan {
namespace {

TEST(OpencvThreads, SetsThePoolUnlessTheEnvironmentSays) {
  const int before = cv::getNumThreads();
  ::unsetenv("OPENCV_FOR_THREADS_NUM");
  cv::setNumThreads(2);
  EXPECT_EQ(limit_opencv_threads(1), 1);
  EXPECT_EQ(cv::getNumThreads(), 1);
  // Set (to measure another setting): the pool is left as it is.
  cv::setNumThreads(2);
  ::setenv("OPENCV_FOR_THREADS_NUM", "2", 1);
  EXPECT_EQ(limit_opencv_threads(1), 2);
  EXPECT_EQ(cv::getNumThreads(), 2);
  ::unsetenv("OPENCV_FOR_THREADS_NUM");
  cv::setNumThreads(before);
}

}  // namespace
}  // namespace matthan
