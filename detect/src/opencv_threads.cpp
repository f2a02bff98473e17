// OpenCV's thread pool for the whole process (see opencv_threads.hpp).
#include "matthan/detect/opencv_threads.hpp"

#include <cstdlib>
#include <opencv2/core/utility.hpp>

namespace matthan {

int limit_opencv_threads(int threads) {
  const char* env = std::getenv("OPENCV_FOR_THREADS_NUM");
  if (env == nullptr || *env == '\0') cv::setNumThreads(threads);
  return cv::getNumThreads();
}

}  // namespace matthan
