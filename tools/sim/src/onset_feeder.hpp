// The `test:onsets` scene: a still textured picture with mild noise, and at a fixed period a large dark block
// that crosses it (a scripted motion onset). Frames are generated here and pushed raw into the mount's
// appsrc, ahead of a live zero-latency encoder; the wall time of each onset's first frame is reported.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "feeder_thread.hpp"
#include "matthan/ingest/gst_ptr.hpp"
#include "matthan/sim/simulator.hpp"

namespace matthan {

// The scene's script, in frames at kOnsetFps: frame f of a cycle is still unless
// onset_at <= f % period < onset_at + moving, when the block is drawn (moving across).
struct OnsetScript {
  int period = 60;    // frames per cycle (6 s)
  int onset_at = 30;  // still frames before each onset (3 s)
  int moving = 20;    // frames with the block (2 s)
};

inline constexpr int kOnsetWidth = 1280;
inline constexpr int kOnsetHeight = 720;
inline constexpr int kOnsetFps = 10;

// Whether frame `index` (from 0, the session's first frame) shows the block, and whether it is an onset's
// first frame.
bool onset_block_visible(const OnsetScript& script, std::uint64_t index);
bool onset_first_frame(const OnsetScript& script, std::uint64_t index);

// Fills an I420 frame of kOnsetWidth x kOnsetHeight for frame `index`; `noise` is the generator's state.
void render_onset_frame(const OnsetScript& script, std::uint64_t index, std::uint32_t& noise,
                        std::vector<std::uint8_t>& out);

class OnsetFeeder {
 public:
  using OnsetReport = std::function<void(const SimOnset&)>;
  OnsetFeeder(std::string name, gst::ElementPtr appsrc, OnsetScript script, OnsetReport report);
  ~OnsetFeeder();
  OnsetFeeder(const OnsetFeeder&) = delete;
  OnsetFeeder& operator=(const OnsetFeeder&) = delete;

  void stop() { thread_.stop(); }  // idempotent; joins

 private:
  void run(std::stop_token stop);
  bool wait_until(const std::stop_token& stop, std::chrono::steady_clock::time_point t) {
    return thread_.wait_until(stop, t);
  }

  const std::string name_;
  gst::ElementPtr appsrc_;
  const OnsetScript script_;
  OnsetReport report_;
  FeederThread thread_;  // last: stopped before the members above go
};

}  // namespace matthan
