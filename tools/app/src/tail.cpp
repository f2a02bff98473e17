// `matthan tail`: subscribe, print each payload on its own line, flush.
#include "matthan/app/tail.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <cstdio>
#include <zmq.hpp>

namespace matthan {
namespace {

bool signal_pending() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec zero{0, 0};
  return sigtimedwait(&set, nullptr, &zero) > 0;
}

}  // namespace

int run_tail(const std::string& endpoint, const std::string& topic_prefix, std::optional<int> count,
             const std::function<bool()>& stop) {
  try {
    zmq::context_t ctx(1);
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::subscribe, topic_prefix);
    sub.connect(endpoint);
    int seen = 0;
    while (!stop() && !signal_pending()) {
      zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, std::chrono::milliseconds(200));
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      zmq::message_t topic, payload;
      if (!sub.recv(topic, zmq::recv_flags::none)) continue;
      if (!topic.more()) continue;  // not a [topic, json] message
      if (!sub.recv(payload, zmq::recv_flags::none)) continue;
      while (payload.more()) {  // drain unexpected extra frames
        zmq::message_t extra;
        if (!sub.recv(extra, zmq::recv_flags::none)) break;
        if (!extra.more()) break;
      }
      fmt::print("{}\n", payload.to_string_view());
      std::fflush(stdout);
      if (count && ++seen >= *count) break;
    }
  } catch (const zmq::error_t& e) {
    fmt::print(stderr, "matthan tail: {}: {}\n", endpoint, e.what());
    return 1;
  }
  return 0;
}

}  // namespace matthan
