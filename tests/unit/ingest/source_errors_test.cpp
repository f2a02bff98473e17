// A camera source's failures carry their kind as an ErrorCode read from GStreamer's GError, not from text: a
// real rtspsrc against a local server that answers 401, and bus errors built by hand.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gst_error.hpp"
#include "matthan/ingest/gst_ptr.hpp"
#include "matthan/ingest/gst_source.hpp"
#include "matthan/ingest/stream_probe.hpp"
#include "matthan/ingest/supervisor.hpp"

namespace matthan {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// An RTSP server that answers OPTIONS and refuses everything else with 401 (Basic), as a camera does when the
// password is wrong.
class Rtsp401Server {
 public:
  Rtsp401Server() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0) return;
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::jthread([this](std::stop_token stop) { serve(stop); });
  }
  ~Rtsp401Server() {
    thread_ = std::jthread();  // joins
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }
  int refusals() const { return refusals_.load(); }

 private:
  void serve(const std::stop_token& stop) {
    std::vector<int> clients;
    std::vector<std::string> pending;
    while (!stop.stop_requested()) {
      std::vector<pollfd> fds{{fd_, POLLIN, 0}};
      for (int c : clients) fds.push_back({c, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) {
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          clients.push_back(c);
          pending.emplace_back();
        }
      }
      for (std::size_t i = 0; i < clients.size(); ++i) {
        if ((fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        char buf[4096];
        const ssize_t n = ::read(clients[i], buf, sizeof buf);
        if (n <= 0) {
          ::close(clients[i]);
          clients[i] = -1;
          continue;
        }
        pending[i].append(buf, static_cast<std::size_t>(n));
        for (auto end = pending[i].find("\r\n\r\n"); end != std::string::npos; end = pending[i].find("\r\n\r\n")) {
          answer(clients[i], pending[i].substr(0, end));
          pending[i].erase(0, end + 4);
        }
      }
      for (std::size_t i = clients.size(); i-- > 0;) {
        if (clients[i] < 0) {
          clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));
          pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
        }
      }
    }
    for (int c : clients) ::close(c);
  }

  void answer(int client, const std::string& request) {
    std::string cseq = "0";
    if (const auto at = request.find("CSeq:"); at != std::string::npos) {
      const auto eol = request.find("\r\n", at);
      cseq = request.substr(at + 5, eol == std::string::npos ? std::string::npos : eol - at - 5);
      while (!cseq.empty() && cseq.front() == ' ') cseq.erase(0, 1);
    }
    std::string reply;
    if (request.rfind("OPTIONS", 0) == 0) {
      reply = "RTSP/1.0 200 OK\r\nCSeq: " + cseq + "\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n";
    } else {
      ++refusals_;
      reply = "RTSP/1.0 401 Unauthorized\r\nCSeq: " + cseq + "\r\nWWW-Authenticate: Basic realm=\"camera\"\r\n\r\n";
    }
    [[maybe_unused]] const ssize_t sent = ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> refusals_{0};
  std::jthread thread_;
};

std::unique_ptr<CameraSource> source_for(const Rtsp401Server& server) {
  SourceOptions o;
  o.url = "rtsp://admin:wrong@127.0.0.1:" + std::to_string(server.port()) + "/stream";
  o.transport = RtspTransport::kAuto;  // a 401 must end the run at once: no second try over UDP
  o.decode = false;
  return make_gst_source("cam401", o, SourceSink{});
}

TEST(SourceErrors, A401FromTheCameraIsUnauthorizedByCode) {
  Rtsp401Server server;
  ASSERT_GT(server.port(), 0);
  auto source = source_for(server);
  const auto t0 = Clock::now();
  const Status st = source->run(std::stop_token{});
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUnauthorized) << st.error().message;
  EXPECT_NE(st.error().message.find("(401)"), std::string::npos) << "operators still read the status";
  EXPECT_EQ(st.error().message.find("wrong"), std::string::npos) << "no password in the reason";
  EXPECT_GE(server.refusals(), 1);
  EXPECT_LT(took, 4.0) << "auto transport gave up at once (UDP cannot fix a password)";
}

// The real source under the supervisor: the 401 takes the refused step of the backoff, not the first one.
TEST(SourceErrors, A401FromTheCameraBacksOffSlowly) {
  Rtsp401Server server;
  ASSERT_GT(server.port(), 0);
  std::mutex mu;
  std::vector<std::pair<CameraHealth, Clock::time_point>> events;  // guarded by mu
  BackoffPolicy policy;
  policy.steps_s = {0.05, 0.1, 1.0, 2.0};
  policy.jitter = 0;
  policy.refused_skip = 2;
  CameraSupervisor sup(
      "cam401", [&] { return source_for(server); }, policy,
      [&](const CameraHealth& h) {
        std::lock_guard lock(mu);
        events.emplace_back(h, Clock::now());
      });
  sup.start();
  const auto deadline = Clock::now() + 15s;
  auto connecting = [&] {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& e : events) n += e.first.state == CameraState::kConnecting ? 1 : 0;
    return n;
  };
  while (connecting() < 2 && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  sup.stop();
  std::lock_guard lock(mu);
  std::optional<double> gap;
  for (std::size_t i = 1; i < events.size() && !gap; ++i) {
    if (events[i - 1].first.state == CameraState::kBackoff && events[i].first.state == CameraState::kConnecting) {
      EXPECT_NE(events[i - 1].first.reason.find("(401)"), std::string::npos) << events[i - 1].first.reason;
      EXPECT_DOUBLE_EQ(events[i - 1].first.retry_in_s, 1.0) << "two steps ahead of 0.05";
      gap = std::chrono::duration<double>(events[i].second - events[i - 1].second).count();
    }
  }
  ASSERT_TRUE(gap) << "no retry within 15 s";
  EXPECT_GE(*gap, 0.9);
}

detail::GstBusError bus_error(GQuark domain, int code, const char* text, const char* debug) {
  ensure_gstreamer_initialized();
  gst::ErrorPtr error(g_error_new_literal(domain, code, text));
  auto msg = gst::adopt_mini(gst_message_new_error(nullptr, error.get(), debug));
  return detail::read_bus_error(msg.get());
}

TEST(SourceErrors, TheCodeComesFromTheGErrorNotTheText) {
  EXPECT_EQ(bus_error(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "Unauthorized", nullptr).code,
            ErrorCode::kUnauthorized);
  EXPECT_EQ(bus_error(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "Not Found", nullptr).code,
            ErrorCode::kNotFound);
  // Text that looks like a refusal is only text.
  EXPECT_EQ(bus_error(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "unauthorized (401): no", nullptr).code,
            ErrorCode::kOther);
  EXPECT_EQ(bus_error(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "not found (404)", "x.c(1): f (): /src:\n(401)").code,
            ErrorCode::kOther);
}

TEST(SourceErrors, SocketErrorsInTheDebugTextGiveTheirCode) {
  const auto refused = bus_error(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ, "Could not open resource",
                                 "souphttpsrc.c(1): f (): /src:\nCould not connect: Connection refused");
  EXPECT_EQ(refused.code, ErrorCode::kRefused);
  EXPECT_EQ(refused.text, "Could not open resource (Could not connect: Connection refused)");
  EXPECT_EQ(bus_error(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "No route to host", nullptr).code,
            ErrorCode::kUnreachable);
  EXPECT_EQ(bus_error(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "Could not receive any UDP packets", nullptr).code,
            ErrorCode::kTimeout);
}

// The probe's verdicts (its JSON `error.kind`) map to and from the codes one for one, where they share a meaning.
TEST(SourceErrors, ProbeFailuresMapToErrorCodes) {
  for (ProbeFailure f :
       {ProbeFailure::kInvalidUrl, ProbeFailure::kUnreachable, ProbeFailure::kRefused, ProbeFailure::kUnauthorized,
        ProbeFailure::kNotFound, ProbeFailure::kNoSupportedStream, ProbeFailure::kTimeout, ProbeFailure::kOther}) {
    EXPECT_EQ(probe_failure_from(error_code_of(f)), f) << probe_failure_name(f);
  }
  EXPECT_EQ(probe_failure_from(ErrorCode::kIo), ProbeFailure::kOther);
  EXPECT_EQ(error_code_of(ProbeFailure::kNone), ErrorCode::kOther);
}

}  // namespace
}  // namespace matthan
