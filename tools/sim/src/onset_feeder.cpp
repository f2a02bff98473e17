// The `test:onsets` scene generator and its real-time feeding thread.
#include "onset_feeder.hpp"

#include <gst/app/gstappsrc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace matthan {
namespace {

using Steady = std::chrono::steady_clock;

constexpr int kBlockW = 256;  // about 7 % of the picture: far under the global-change veto's share
constexpr int kBlockH = 192;
constexpr std::uint8_t kBlockLuma = 24;

bool is_playing(GstElement* element) {
  GstState state = GST_STATE_VOID_PENDING;
  gst_element_get_state(element, &state, nullptr, 0);
  return state == GST_STATE_PLAYING;
}

std::uint32_t next_noise(std::uint32_t& s) {
  // xorshift32: cheap, and the picture needs no statistical quality, only some flicker.
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

}  // namespace

bool onset_block_visible(const OnsetScript& script, std::uint64_t index) {
  const auto f = static_cast<int>(index % static_cast<std::uint64_t>(script.period));
  return f >= script.onset_at && f < script.onset_at + script.moving;
}

bool onset_first_frame(const OnsetScript& script, std::uint64_t index) {
  return static_cast<int>(index % static_cast<std::uint64_t>(script.period)) == script.onset_at;
}

void render_onset_frame(const OnsetScript& script, std::uint64_t index, std::uint32_t& noise,
                        std::vector<std::uint8_t>& out) {
  constexpr std::size_t luma = static_cast<std::size_t>(kOnsetWidth) * kOnsetHeight;
  out.resize(luma * 3 / 2);
  // Background: a soft checker of 80-pixel tiles (texture for the encoder and the tamper check), made once.
  static const std::vector<std::uint8_t> background = [] {
    std::vector<std::uint8_t> b(luma);
    for (int r = 0; r < kOnsetHeight; ++r) {
      for (int c = 0; c < kOnsetWidth; ++c) {
        const bool light = ((r / 80) + (c / 80)) % 2 == 0;
        b[static_cast<std::size_t>(r) * kOnsetWidth + c] =
            static_cast<std::uint8_t>((light ? 150 : 110) + (c % 80) / 8);
      }
    }
    return b;
  }();
  std::uint8_t* y = out.data();
  std::memcpy(y, background.data(), luma);
  // +-2 levels of noise on every 4th pixel, so the picture is never bit-identical from frame to frame.
  for (std::size_t i = index % 4; i < luma; i += 4) {
    y[i] = static_cast<std::uint8_t>(y[i] + static_cast<int>(next_noise(noise) % 5) - 2);
  }
  std::memset(y + luma, 128, luma / 2);  // neutral chroma
  if (!onset_block_visible(script, index)) return;
  // The block crosses from left to right at a steady pace while it is visible.
  const int step = static_cast<int>(index % static_cast<std::uint64_t>(script.period)) - script.onset_at;
  const int travel = kOnsetWidth - kBlockW - 80;
  const int x0 = 40 + (script.moving > 1 ? travel * step / (script.moving - 1) : 0);
  const int y0 = (kOnsetHeight - kBlockH) / 2;
  for (int r = y0; r < y0 + kBlockH; ++r) {
    std::memset(y + static_cast<std::size_t>(r) * kOnsetWidth + x0, kBlockLuma, kBlockW);
  }
}

OnsetFeeder::OnsetFeeder(std::string name, gst::ElementPtr appsrc, OnsetScript script, OnsetReport report)
    : name_(std::move(name)), appsrc_(std::move(appsrc)), script_(script), report_(std::move(report)) {
  thread_.start([this](std::stop_token stop) { run(stop); });
}

OnsetFeeder::~OnsetFeeder() {
  stop();
}

// Frames leave every 1/kOnsetFps s of the steady clock once the media plays; appsrc stamps them with the
// pipeline's running time at the push (do-timestamp), as a camera's encoder would its captures.
void OnsetFeeder::run(std::stop_token stop) {
  const auto interval = std::chrono::nanoseconds(1'000'000'000 / kOnsetFps);
  std::vector<std::uint8_t> pixels;
  std::uint32_t noise = 0x9e3779b9u;
  std::uint64_t index = 0;
  std::uint64_t onsets = 0;
  while (!stop.stop_requested() && !is_playing(appsrc_.get())) {
    if (!wait_until(stop, Steady::now() + std::chrono::milliseconds(20))) return;
  }
  const auto zero = Steady::now();
  while (!stop.stop_requested()) {
    if (!wait_until(stop, zero + interval * static_cast<std::int64_t>(index))) return;
    render_onset_frame(script_, index, noise, pixels);
    auto buffer = gst::adopt_mini(gst_buffer_new_memdup(pixels.data(), pixels.size()));
    GST_BUFFER_DURATION(buffer.get()) = static_cast<GstClockTime>(interval.count());
    const bool first = onset_first_frame(script_, index);
    const auto sent = std::chrono::system_clock::now();
    const GstFlowReturn flow = gst_app_src_push_buffer(GST_APP_SRC(appsrc_.get()), buffer.release());
    if (flow != GST_FLOW_OK && flow != GST_FLOW_FLUSHING) {
      spdlog::warn("sim [{}]: onset scene stopped: {}", name_, gst_flow_get_name(flow));
      return;
    }
    if (first && report_) report_(SimOnset{name_, ++onsets, index, sent});
    ++index;
  }
}

}  // namespace matthan
