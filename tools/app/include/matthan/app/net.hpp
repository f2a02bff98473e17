// Small network helpers for the command line: HOST:PORT parsing and picking a free loopback port.
#pragma once

#include <string>

#include "matthan/core/result.hpp"

namespace matthan {

struct ListenAddress {
  std::string host;
  int port = 0;
};

// "127.0.0.1:8554" -> {127.0.0.1, 8554}. The host must be an IPv4 address or "localhost".
Result<ListenAddress> parse_listen_address(const std::string& text);

// A TCP port on 127.0.0.1 that was free when asked (for the demo's embedded set-up).
int free_local_port();

}  // namespace matthan
