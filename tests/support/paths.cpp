// Test input locations and small OS helpers shared by all tests.
#include "matthan/test/paths.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>

namespace matthan::test {

std::filesystem::path matthan_binary() {
  return MATTHAN_TEST_BINARY;
}

std::filesystem::path shared_dir() {
  std::filesystem::path p = MATTHAN_TEST_SHARED_DIR;
  if (const char* env = std::getenv("MATTHAN_SHARED_DIR")) p = env;
  std::error_code ec;
  if (std::filesystem::is_directory(p / "media", ec)) return std::filesystem::canonical(p, ec);
  return {};
}

std::filesystem::path vtest_avi() {
  std::filesystem::path p = MATTHAN_TEST_VTEST_AVI;
  std::error_code ec;
  return std::filesystem::exists(p, ec) ? p : std::filesystem::path{};
}

std::filesystem::path make_temp_dir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

int free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace matthan::test
