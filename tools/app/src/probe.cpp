// `matthan probe`: a TCP reachability check, one measuring connection as the engine makes it, per-transport
// checks, then a judgement against the pre-roll and a suggested config block.
#include "matthan/app/probe.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "matthan/core/result.hpp"
#include "matthan/core/url.hpp"

namespace matthan {
namespace {

constexpr double kTransportCheckTimeout = 10;  // seconds; rtspsrc gives up on UDP after 5
constexpr double kOnTimeSlack = 0.05;          // seconds: timestamps jitter around a nominal interval

struct AddrInfoFree {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoFree>;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct Endpoint {
  std::string host;
  int port = 0;
  std::string service;  // "RTSP" or "HTTP", for the messages
};

Endpoint endpoint_of(const ParsedUrl& url) {
  return Endpoint{bare_host(url), port_or_default(url), is_http_url(url) ? "HTTP" : "RTSP"};
}

ProbeFailure failure_for_errno(int err) {
  if (err == ECONNREFUSED) return ProbeFailure::kRefused;
  return ProbeFailure::kUnreachable;
}

std::string connect_reason(ProbeFailure f, const Endpoint& e, int err) {
  if (f == ProbeFailure::kRefused)
    return fmt::format(
        "connection refused by {}:{}: the host is up but nothing listens on that port "
        "(wrong port, or the camera's {} service is off)",
        e.host, e.port, e.service);
  return fmt::format("host unreachable: cannot connect to {}:{} ({})", e.host, e.port, std::strerror(err));
}

// One attempt per resolved address; the first that connects wins. Returns the connect time in ms.
Result<double> connect_once(const addrinfo* ai, double timeout_s, int* err) {
  Socket s(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
  if (s.fd() < 0) {
    *err = errno;
    return make_error("socket");
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (::connect(s.fd(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
    *err = errno;
    return make_error("connect");
  }
  pollfd p{s.fd(), POLLOUT, 0};
  const int n = ::poll(&p, 1, static_cast<int>(timeout_s * 1000));
  if (n == 0) {
    *err = ETIMEDOUT;
    return make_error("timeout");
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  if (n < 0 || ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
    *err = so_error != 0 ? so_error : errno;
    return make_error("connect");
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// A plain TCP connect tells "unreachable" from "refused" before RTSP muddies the error text.
void check_reachable(const Endpoint& e, double timeout_s, ProbeReport& report) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  const int rc = ::getaddrinfo(e.host.c_str(), std::to_string(e.port).c_str(), &hints, &raw);
  AddrInfoPtr list(raw);
  if (rc != 0) {
    report.failure = ProbeFailure::kUnreachable;
    report.reason = fmt::format("host unreachable: cannot resolve '{}' ({})", e.host, gai_strerror(rc));
    return;
  }
  int err = 0;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    auto ms = connect_once(ai, timeout_s, &err);
    if (ms.ok()) {
      report.connect_ms = ms.value();
      return;
    }
  }
  report.failure = failure_for_errno(err);
  report.reason = err == ETIMEDOUT ? fmt::format(
                                         "host unreachable: no answer from {}:{} within {:.0f} s "
                                         "(host down, wrong address, or a firewall drops the connection)",
                                         e.host, e.port, timeout_s)
                                   : connect_reason(report.failure, e, err);
}

TransportCheck check_transport(const std::string& url, RtspTransport t, double timeout, const std::stop_token& stop) {
  StreamProbeOptions o;
  o.url = url;
  o.transport = t;
  o.timeout_seconds = std::min(timeout, kTransportCheckTimeout);
  o.stop_at_first_keyframe = true;
  const StreamMeasurement m = probe_stream(o, stop);
  TransportCheck c;
  c.name = std::string(to_string(t));
  c.ok = m.ok();
  c.time_to_first_frame_s = m.time_to_first_keyframe_s;
  c.error = m.reason;
  return c;
}

std::string codec_display(const std::string& codec) {
  if (codec == "H264") return "H.264";
  if (codec == "H265") return "H.265";
  return codec;
}

std::string camera_id_from(const ParsedUrl& url) {
  std::string path = url.path.substr(0, url.path.find('?'));
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string last = path.substr(path.rfind('/') + 1);
  std::string id;
  for (char c : last) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u))
      id += static_cast<char>(std::tolower(u));
    else if (!id.empty() && id.back() != '-')
      id += '-';
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  if (id.size() > 64) id.resize(64);
  return id.empty() ? "camera-1" : id;
}

std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void judge(ProbeReport& r, double measured_for) {
  const StreamMeasurement& s = r.stream;
  if (s.keyframe_interval_s > 0) {
    r.clips_on_time = s.keyframe_interval_s <= r.pre_roll + kOnTimeSlack;
    if (!r.clips_on_time) {
      const int frames = std::max(1, static_cast<int>(std::floor(r.pre_roll * s.fps)));
      r.warnings.push_back(fmt::format(
          "clips may not start on time: keyframes come every {:.1f} s, longer than the {:g} s pre-roll; set the "
          "camera's keyframe (I-frame, GOP) interval to {:g} s or less ({} frames at {:.0f} fps), or raise "
          "clip.pre_roll",
          s.keyframe_interval_s, r.pre_roll, r.pre_roll, frames, s.fps));
    }
  } else {
    r.clips_on_time = false;
    r.warnings.push_back(fmt::format(
        "clips may not start on time: only one keyframe arrived in {:.0f} s, so the keyframe interval is longer "
        "than that; set the camera's keyframe (I-frame, GOP) interval to {:g} s or less, or probe longer (--seconds)",
        measured_for, r.pre_roll));
  }
  if (s.codec == "MJPEG")
    r.warnings.push_back(fmt::format(
        "MJPEG: every picture is a whole JPEG ({:.0f} kb/s here), several times what H.264 needs for the same picture; "
        "clips are MJPEG in MP4, which VLC, mpv and ffmpeg play but browsers do not (officers use Export). If the "
        "camera "
        "also offers H.264 or H.265 over RTSP, use that",
        s.bitrate_kbps));
  if (s.audio)
    r.warnings.push_back(fmt::format("the camera also sends audio ({}); clips are video only", s.audio->codec));
  for (const auto& t : r.transports) {
    if (!t.ok && t.name == "udp")
      r.warnings.push_back("UDP does not work with this camera (" + t.error +
                           "); the engine tries UDP first and falls back to TCP after about 5 s");
    if (!t.ok && t.name == "tcp")
      r.warnings.push_back("TCP (interleaved RTSP) does not work with this camera (" + t.error + ")");
  }
}

std::string fmt_seconds(double s) {
  return s < 0 ? "-" : fmt::format("{:.2f} s", s);
}

void append_video_text(std::string& out, const StreamMeasurement& s) {
  std::string profile;
  if (!s.profile.empty()) profile += ", " + s.profile + " profile";
  if (!s.level.empty()) profile += ", level " + s.level;
  out += fmt::format("  video           {}{}, {}x{}\n", codec_display(s.codec), profile, s.width, s.height);
  out +=
      fmt::format("  frame rate      {:.2f} fps (measured from timestamps over {:.1f} s)\n", s.fps, s.measured_seconds);
  if (s.keyframe_interval_s > 0)
    out += fmt::format("  keyframes       every {:.2f} s ({:.0f} frames)\n", s.keyframe_interval_s,
                       s.keyframe_interval_frames);
  else
    out += fmt::format("  keyframes       only {} seen: interval longer than the measurement\n", s.keyframes);
  out += fmt::format("  bitrate         {:.0f} kb/s\n", s.bitrate_kbps);
  if (s.audio)
    out += fmt::format("  audio           {}, {} Hz, {} channel(s), ~{:.0f} kb/s\n", s.audio->codec,
                       s.audio->clock_rate, s.audio->channels, s.audio->bitrate_kbps);
  else
    out += "  audio           none\n";
  for (const auto& o : s.other_media) out += fmt::format("  other stream    {}\n", o);
  out += fmt::format("  first frame     {} after connecting (first keyframe; first packet {})\n",
                     fmt_seconds(s.time_to_first_keyframe_s), fmt_seconds(s.time_to_first_packet_s));
}

nlohmann::json video_json(const StreamMeasurement& s) {
  if (s.codec.empty()) return nullptr;
  return {{"codec", codec_display(s.codec)},
          {"profile", s.profile},
          {"level", s.level},
          {"width", s.width},
          {"height", s.height},
          {"fps", s.fps},
          {"keyframe_interval_s", s.keyframe_interval_s > 0 ? nlohmann::json(s.keyframe_interval_s) : nlohmann::json()},
          {"keyframe_interval_frames",
           s.keyframe_interval_s > 0 ? nlohmann::json(s.keyframe_interval_frames) : nlohmann::json()},
          {"keyframes", s.keyframes},
          {"frames", s.frames},
          {"bitrate_kbps", s.bitrate_kbps}};
}

nlohmann::json seconds_or_null(double s) {
  return s < 0 ? nlohmann::json() : nlohmann::json(s);
}

}  // namespace

std::string suggested_camera_yaml(const std::string& url, const StreamMeasurement& s, double pre_roll) {
  const auto parsed = parse_url(url);
  const std::string id = parsed ? camera_id_from(*parsed) : "camera-1";
  const std::string masked = mask_password(url);
  const int fps = std::clamp(static_cast<int>(std::lround(std::min(5.0, s.fps > 0 ? s.fps : 5.0))), 1, 30);
  std::string out = fmt::format("# Suggested by `matthan probe` for {}", masked);
  if (!s.codec.empty())
    out += fmt::format(" ({}x{} {}, {:.0f} fps, keyframes every {:.1f} s)", s.width, s.height, codec_display(s.codec),
                       s.fps, s.keyframe_interval_s);
  out += "\ncameras:\n";
  out += fmt::format("  - id: {}\n", id);
  out += fmt::format("    name: {}\n", yaml_quoted(id));
  out += fmt::format("    url: {}", yaml_quoted(masked));
  if (masked != url) out += "   # put the camera's password in place of ***";
  out += "\n";
  // No detect size: the analysis runs on the decoded picture, unscaled (the cheapest:
  // bench/journal/2026-11-29-still-scene-profile.md).
  out += fmt::format("    detect: {{fps: {}}}\n", fps);
  out += fmt::format("    clip: {{pre_roll: {:g}, post_roll: 5}}\n", pre_roll);
  return out;
}

ProbeReport probe_camera(const ProbeRequest& request, std::stop_token stop) {
  ProbeReport r;
  r.url = mask_password(request.url);
  r.pre_roll = request.pre_roll;
  std::string why;
  const auto url = parse_url(request.url, &why);
  if (!url || (!is_rtsp_url(*url) && !is_http_url(*url))) {
    r.failure = ProbeFailure::kInvalidUrl;
    r.reason = url ? "probe needs an rtsp://, rtsps://, http:// or https:// URL" : "camera URL " + why;
    return r;
  }
  check_reachable(endpoint_of(*url), std::min(request.timeout, 10.0), r);
  if (!r.ok()) return r;

  StreamProbeOptions o;
  o.url = request.url;
  o.measure_seconds = request.seconds;
  o.timeout_seconds = request.timeout;
  r.stream = probe_stream(o, stop);
  if (!r.stream.ok()) {
    r.failure = r.stream.failure;
    r.reason = r.stream.reason;
    return r;
  }
  if (r.stream.codec != "H264" && r.stream.codec != "H265" && r.stream.codec != "MJPEG") {
    r.failure = ProbeFailure::kNoSupportedStream;
    r.reason = fmt::format(
        "the camera sends {}; Matthan records H.264 and H.265 only: set the camera's video codec to "
        "H.264 or H.265",
        codec_display(r.stream.codec));
    return r;
  }
  // An HTTP camera has no transport to choose; an RTSP camera is checked over each.
  if (!is_http_url(*url)) {
    for (RtspTransport t : {RtspTransport::kTcp, RtspTransport::kUdp})
      r.transports.push_back(check_transport(request.url, t, request.timeout, stop));
  }
  judge(r, request.seconds);
  r.suggested_config = suggested_camera_yaml(request.url, r.stream, request.pre_roll);
  return r;
}

std::string format_probe_text(const ProbeReport& r) {
  std::string out = fmt::format("probe {}\n", r.url);
  if (r.connect_ms >= 0) out += fmt::format("  reachable       TCP connect in {:.1f} ms\n", r.connect_ms);
  if (!r.stream.codec.empty()) append_video_text(out, r.stream);
  if (!r.ok()) {
    out += fmt::format("FAILED ({}): {}\n", probe_failure_name(r.failure), r.reason);
    return out;
  }
  std::string transports;
  for (const auto& t : r.transports) {
    if (!transports.empty()) transports += "; ";
    transports += t.ok ? fmt::format("{} ok (first frame {})", t.name, fmt_seconds(t.time_to_first_frame_s))
                       : fmt::format("{} FAILED: {}", t.name, t.error);
  }
  out += fmt::format("  transports      {}\n", transports.empty() ? "http (no RTSP transport to choose)" : transports);
  out +=
      r.clips_on_time
          ? fmt::format("  clips           start on time: keyframe interval {:.2f} s is within the {:g} s pre-roll\n",
                        r.stream.keyframe_interval_s, r.pre_roll)
          : fmt::format("  clips           may NOT start on time with a {:g} s pre-roll\n", r.pre_roll);
  for (const auto& w : r.warnings) out += fmt::format("warning: {}\n", w);
  out += "\nSuggested config (check it with `matthan check --config FILE`):\n\n" + r.suggested_config;
  return out;
}

std::string format_probe_json(const ProbeReport& r) {
  nlohmann::json j;
  j["url"] = r.url;
  j["ok"] = r.ok();
  j["error"] =
      r.ok() ? nlohmann::json() : nlohmann::json{{"kind", probe_failure_name(r.failure)}, {"message", r.reason}};
  j["connect_ms"] = seconds_or_null(r.connect_ms);
  nlohmann::json transports = nlohmann::json::object();
  for (const auto& t : r.transports) {
    transports[t.name] = {{"ok", t.ok}, {"time_to_first_frame_s", seconds_or_null(t.time_to_first_frame_s)}};
    if (!t.ok) transports[t.name]["error"] = t.error;
  }
  j["transports"] = transports;
  j["video"] = video_json(r.stream);
  j["audio"] = r.stream.audio ? nlohmann::json{{"codec", r.stream.audio->codec},
                                               {"clock_rate", r.stream.audio->clock_rate},
                                               {"channels", r.stream.audio->channels},
                                               {"bitrate_kbps", r.stream.audio->bitrate_kbps}}
                              : nlohmann::json();
  j["other_streams"] = r.stream.other_media;
  j["time_to_first_frame_s"] = seconds_or_null(r.stream.time_to_first_keyframe_s);
  j["time_to_first_packet_s"] = seconds_or_null(r.stream.time_to_first_packet_s);
  j["measured_seconds"] = r.stream.measured_seconds;
  j["pre_roll_s"] = r.pre_roll;
  j["clips_start_on_time"] = r.ok() && r.clips_on_time;
  j["warnings"] = r.warnings;
  j["suggested_config"] = r.suggested_config.empty() ? nlohmann::json() : nlohmann::json(r.suggested_config);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace matthan
