// This process's figures from /proc/self (heartbeat, /metrics).
#include "matthan/core/process.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace matthan {

ProcessFigures read_process_figures() {
  ProcessFigures p;
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      std::uint64_t kb = 0;
      status >> kb;
      p.rss_bytes = kb * 1024;
    } else if (key == "Threads:") {
      status >> p.threads;
    }
    status.ignore(4096, '\n');
  }
  // /proc/self/stat: the command name may hold spaces, so fields are counted after its closing ')'; utime and
  // stime are fields 14 and 15 (the 12th and 13th after it), in clock ticks.
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (std::getline(stat, line); line.rfind(')') != std::string::npos) {
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    std::string field;
    std::uint64_t utime = 0, stime = 0;
    for (int i = 1; i <= 13 && rest >> field; ++i) {
      if (i == 12) utime = std::strtoull(field.c_str(), nullptr, 10);
      if (i == 13) stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    const long ticks = ::sysconf(_SC_CLK_TCK);
    if (ticks > 0) p.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks);
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::end(it);
       it.increment(ec))
    ++p.open_fds;
  return p;
}

}  // namespace matthan
