// HOST:PORT parsing and free-port lookup.
#include "matthan/app/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

namespace matthan {

Result<ListenAddress> parse_listen_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return make_error("expected HOST:PORT, e.g. 127.0.0.1:8554");
  ListenAddress a;
  a.host = text.substr(0, colon);
  if (a.host == "localhost") a.host = "127.0.0.1";
  in_addr tmp{};
  if (inet_pton(AF_INET, a.host.c_str(), &tmp) != 1)
    return make_error("host must be an IPv4 address such as 127.0.0.1");
  const std::string port = text.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc() || ptr != port.data() + port.size() || a.port < 1 || a.port > 65535)
    return make_error("port must be a number in 1..65535");
  return a;
}

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace matthan
