// This process's CPU time, memory, threads and open files, read from /proc/self.
#pragma once

#include <cstdint>

namespace matthan {

// This process's CPU time, resident memory, thread count and open file descriptors (from /proc/self; 0 when
// unknown).
struct ProcessFigures {
  double cpu_seconds = 0;  // user + system
  std::uint64_t rss_bytes = 0;
  int threads = 0;
  int open_fds = 0;
};
ProcessFigures read_process_figures();

}  // namespace matthan
