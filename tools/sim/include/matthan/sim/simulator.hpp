// The RTSP camera simulator: serves looping video files and live test patterns at rtsp://ADDRESS:PORT/NAME.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"

namespace matthan {

// Which RTSP lower transports a mount accepts (some real cameras accept only one).
enum class SimTransport { kAny, kTcpOnly, kUdpOnly };

// What a mount sends. Files of another codec are transcoded once into the cache.
enum class SimCodec { kH264, kH265 };

struct SimSource {
  std::string name;  // [a-z0-9_-]+, the mount path
  std::string path;  // a video file, "test:ball", or "test:onsets" (scripted motion onsets, see SimOptions)
  SimTransport transport = SimTransport::kAny;
  SimCodec codec = SimCodec::kH264;
  // Files played after `path`, in order, before `path` comes round again (file sources only). Files of
  // another picture size make the camera change resolution mid-stream, as a real one does when
  // reconfigured: new parameter sets in band, on the same RTSP session.
  std::vector<std::string> then{};
};

// One scripted motion onset of a `test:onsets` mount: the wall time at which its first frame (the first
// with the block) was pushed into the live encoder.
struct SimOnset {
  std::string mount;
  std::uint64_t number = 0;  // 1, 2, ... per session
  std::uint64_t frame = 0;   // the session's frame index, from 0
  std::chrono::system_clock::time_point sent;
};

struct SimOptions {
  std::string address = "127.0.0.1";
  int port = 8554;  // 0 picks a free port (see urls())
  std::vector<SimSource> sources;
  std::filesystem::path cache_dir;  // default: $XDG_CACHE_HOME/matthan/sim or ~/.cache/matthan/sim
  // When user is set, every mount requires these credentials (401 otherwise), like a real camera.
  std::string user, password;
  bool digest = false;  // digest instead of basic authentication
  // test:onsets: 1280x720 at 10 fps, a still picture for half of every period, then a dark block crossing
  // it for a third of the period (the onset), then still again. 60 frames: an onset every 6 s.
  int onset_period_frames = 60;
  // Each onset as one line "WALL_MS MOUNT NUMBER FRAME" (WALL_MS: Unix milliseconds), appended and flushed.
  std::filesystem::path onset_log;
  std::function<void(const SimOnset&)> on_onset;  // called on the feeding thread, after the log line
};

// Faults a file-backed mount can be told to show, for reconnect and robustness tests.
struct SimFaults {
  bool hold = false;      // stop sending video but keep sessions and sockets open (a stalled camera)
  int corrupt_every = 0;  // when > 0, garble the payload of every n-th access unit
};

class Simulator {
 public:
  // Transcodes what it must (once, cached), binds and serves. Errors: bad name, duplicate name, missing or
  // unreadable file, bind failure (e.g. port in use).
  static Result<std::unique_ptr<Simulator>> start(SimOptions options);

  std::vector<std::string> urls() const;  // rtsp://ADDRESS:PORT/NAME, one per source, in order
  int port() const;                       // the bound port
  // Applies to every current and future session of a file-backed mount; an error for unknown or test mounts.
  Status set_faults(const std::string& name, SimFaults faults);
  void stop();  // closes sessions and the listening socket; idempotent
  ~Simulator();

  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  struct Impl;

 private:
  explicit Simulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Where transcoded copies are cached when SimOptions::cache_dir is empty.
std::filesystem::path default_sim_cache_dir();

}  // namespace matthan
