// The control socket (`matthan reload`): a Unix stream socket, one short command per connection.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "matthan/app/control.hpp"

namespace matthan {
namespace {

constexpr std::size_t kMaxCommand = 256;
constexpr int kClientReadMs = 2000;  // a client has this long to send its command

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd = std::exchange(o.fd, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

Result<sockaddr_un> address_of(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string s = path.string();
  if (s.empty() || s.size() >= sizeof(addr.sun_path))
    return make_error(
        fmt::format("control socket path {} is empty or longer than {} bytes", s, sizeof(addr.sun_path) - 1));
  std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
  return addr;
}

// Reads until a newline, EOF, `limit` bytes or the deadline.
std::string read_some(int fd, std::size_t limit, int timeout_ms, bool stop_at_newline) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[512];
  while (out.size() < limit) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (stop_at_newline && out.find('\n') != std::string::npos) break;
  }
  return out;
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

struct ControlServer::Impl {
  std::filesystem::path path;
  Handler handler;
  Fd listen_fd;
  Fd wake_read, wake_write;  // self-pipe: stop() wakes the poll
  std::thread thread;
  std::atomic<bool> stopping{false};

  void loop() {
    while (!stopping) {
      pollfd p[2] = {{listen_fd.fd, POLLIN, 0}, {wake_read.fd, POLLIN, 0}};
      const int r = ::poll(p, 2, -1);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 || (p[1].revents & POLLIN)) return;
      if (!(p[0].revents & POLLIN)) continue;
      Fd client(::accept4(listen_fd.fd, nullptr, nullptr, SOCK_CLOEXEC));
      if (client.fd < 0) continue;
      const std::string command = trim(read_some(client.fd, kMaxCommand, kClientReadMs, true));
      spdlog::info("control socket: '{}'", command);
      std::string answer = handler(command);
      if (answer.empty() || answer.back() != '\n') answer += '\n';
      write_all(client.fd, answer);
    }
  }
};

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ControlServer::~ControlServer() {
  stop();
}
const std::filesystem::path& ControlServer::path() const {
  return impl_->path;
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(const std::filesystem::path& path, Handler handler) {
  auto addr = address_of(path);
  if (!addr.ok()) return addr.error();
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (std::filesystem::exists(path, ec)) {
    // A live listener means another engine owns it; a stale file from a crash is replaced.
    Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.fd >= 0 &&
        ::connect(probe.fd, reinterpret_cast<const sockaddr*>(&addr.value()), sizeof(sockaddr_un)) == 0)
      return make_error(fmt::format("control socket {} is in use by another process", path.string()));
    std::filesystem::remove(path, ec);
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->handler = std::move(handler);
  impl->listen_fd = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (impl->listen_fd.fd < 0) return make_error(fmt::format("control socket: {}", std::strerror(errno)));
  if (::bind(impl->listen_fd.fd, reinterpret_cast<const sockaddr*>(&addr.value()), sizeof(sockaddr_un)) != 0)
    return make_error(fmt::format("control socket {}: bind: {}", path.string(), std::strerror(errno)));
  ::chmod(path.c_str(), 0660);  // the engine's user and group only
  if (::listen(impl->listen_fd.fd, 4) != 0)
    return make_error(fmt::format("control socket {}: listen: {}", path.string(), std::strerror(errno)));
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return make_error(fmt::format("control socket: pipe: {}", std::strerror(errno)));
  impl->wake_read = Fd(pipefd[0]);
  impl->wake_write = Fd(pipefd[1]);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->loop(); });
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

void ControlServer::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  const char b = 1;
  [[maybe_unused]] const ssize_t n = ::write(impl_->wake_write.fd, &b, 1);
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->listen_fd.reset();
  std::error_code ec;
  std::filesystem::remove(impl_->path, ec);
}

Result<std::string> control_request(const std::filesystem::path& path, const std::string& command, double timeout_s) {
  auto addr = address_of(path);
  if (!addr.ok()) return addr.error();
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.fd < 0) return make_error(fmt::format("socket: {}", std::strerror(errno)));
  if (::connect(fd.fd, reinterpret_cast<const sockaddr*>(&addr.value()), sizeof(sockaddr_un)) != 0)
    return make_error(fmt::format("cannot reach the engine at {}: {} (is `matthan run` running with this config?)",
                                  path.string(), std::strerror(errno)));
  write_all(fd.fd, command + "\n");
  ::shutdown(fd.fd, SHUT_WR);
  std::string answer = read_some(fd.fd, 1 << 20, static_cast<int>(timeout_s * 1000), false);
  if (answer.empty()) return make_error(fmt::format("no answer from {} within {:.0f} s", path.string(), timeout_s));
  return answer;
}

}  // namespace matthan
