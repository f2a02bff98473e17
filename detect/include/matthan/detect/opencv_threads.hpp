// How many threads OpenCV's own pool gives every cv:: call of the process (motion, crops, the DNN's layers).
#pragma once

namespace matthan {

// Sets OpenCV's pool to `threads` (1: each call runs on its caller's thread), unless the environment's
// OPENCV_FOR_THREADS_NUM already says (to measure another setting). Process-wide: only main calls it.
// Returns the thread count in force.
int limit_opencv_threads(int threads);

}  // namespace matthan
