// The stall watchdog's rules, each a small function of what was seen and when.
#include "matthan/ingest/stall_watchdog.hpp"

#include <fmt/format.h>

namespace matthan {
namespace {

double seconds_between(StallWatchdog::Clock::time_point a, StallWatchdog::Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

std::uint64_t frame_signature(const Frame& frame) {
  if (frame.empty()) return 0;
  // FNV-1a over a 64 x 36 grid of luma samples: ~2300 reads, yet any real change of the picture (sensor
  // noise included) changes it, while a camera repeating one picture keeps it exactly.
  std::uint64_t h = 1469598103934665603ull;
  constexpr int kCols = 64, kRows = 36;
  for (int r = 0; r < kRows; ++r) {
    const int y = (2 * r + 1) * frame.height / (2 * kRows);
    const std::uint8_t* row = frame.plane[0] + static_cast<std::ptrdiff_t>(y) * frame.stride[0];
    for (int c = 0; c < kCols; ++c) {
      h ^= row[(2 * c + 1) * frame.width / (2 * kCols)];
      h *= 1099511628211ull;
    }
  }
  return h;
}

void StallWatchdog::reset(Clock::time_point now) {
  started_ = now;
  last_packet_ = now;
  last_frame_.reset();
  max_dts_.reset();
  tripped_.reset();
  arrivals_.clear();
  max_lead_before_window_.reset();
  nominal_fps_ = 0;
  frozen_since_.reset();
  frozen_signature_ = 0;
  decoder_fed_ = false;
  units_since_frame_ = 0;
}

void StallWatchdog::on_decoder_input(Clock::time_point) {
  decoder_fed_ = true;
  ++units_since_frame_;
}

void StallWatchdog::on_packet(Clock::time_point now, MediaTimeNs dts, double nominal_fps) {
  last_packet_ = now;
  nominal_fps_ = nominal_fps;
  // A packet with no time (negative) says nothing about time going back; it still counts as a packet.
  if (dts < 0) {
    note_arrival(now, std::nullopt);
    return;
  }
  if (max_dts_ && *max_dts_ - dts > static_cast<MediaTimeNs>(policy_.backwards_s * kNsPerSecond) && !tripped_) {
    tripped_ =
        fmt::format("stalled: timestamps jumped back by {:.1f} s", static_cast<double>(*max_dts_ - dts) / kNsPerSecond);
  }
  if (!max_dts_ || dts > *max_dts_) max_dts_ = dts;
  // How far the packet's media time is ahead of its arrival (any constant offset; only changes matter).
  note_arrival(now, dts - std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
}

void StallWatchdog::note_arrival(Clock::time_point now, std::optional<std::int64_t> lead_ns) {
  arrivals_.push_back({now, lead_ns});
  const auto window = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(policy_.rate_window_s));
  while (!arrivals_.empty() && now - arrivals_.front().at > window) {
    if (const auto& l = arrivals_.front().lead_ns; l && (!max_lead_before_window_ || *l > *max_lead_before_window_))
      max_lead_before_window_ = l;
    arrivals_.pop_front();
  }
}

bool StallWatchdog::running_ahead() const {
  // A source replaying or running fast sends media time faster than real time, so its packets' lead over
  // their arrival keeps growing past anything seen before. A client that read its socket late (a starved
  // process) and catches up receives a burst too, but of packets that were late: their lead only comes
  // back to what it was, never beyond. Without a timed packet before the window, nothing is known: no.
  if (!max_lead_before_window_) return true;
  std::optional<std::int64_t> max_lead;
  for (const auto& a : arrivals_)
    if (a.lead_ns && (!max_lead || *a.lead_ns > *max_lead)) max_lead = a.lead_ns;
  const auto slack = static_cast<std::int64_t>(policy_.rate_window_s * kNsPerSecond / 2);
  return max_lead && *max_lead > *max_lead_before_window_ + slack;
}

void StallWatchdog::on_frame(Clock::time_point now, std::uint64_t signature) {
  last_frame_ = now;
  units_since_frame_ = 0;
  if (!frozen_since_ || signature != frozen_signature_) {
    frozen_signature_ = signature;
    frozen_since_ = now;
  }
}

std::optional<std::string> StallWatchdog::check(Clock::time_point now) const {
  if (tripped_) return tripped_;
  const double quiet = seconds_between(last_packet_, now);
  if (quiet >= policy_.stall_s) return fmt::format("stalled: no video packets for {:.1f} s", quiet);
  const double since_frame = seconds_between(last_frame_.value_or(started_), now);
  // When the decoder's input is reported, a decoder that took in nothing (or almost nothing) is starved of
  // CPU, not stuck: reconnecting cannot help it and costs recording. It trips once it has taken in units
  // and given nothing back, or after kStarvedDecoderFactor x stall_s in any case.
  const bool decoder_working = !decoder_fed_ || units_since_frame_ >= kStuckDecoderUnits ||
                               since_frame >= kStarvedDecoderFactor * policy_.stall_s;
  if (policy_.expect_frames && since_frame >= policy_.stall_s && decoder_working)
    return fmt::format("stalled: packets arrive but nothing decoded for {:.1f} s", since_frame);
  // Frozen is identical pictures spanning frozen_s (up to the last frame): no frames at all is the rule above.
  if (policy_.expect_frames && policy_.frozen_s > 0 && frozen_since_ && last_frame_ &&
      seconds_between(*frozen_since_, *last_frame_) >= policy_.frozen_s)
    return fmt::format("stalled: the picture has not changed for {:.1f} s",
                       seconds_between(*frozen_since_, *last_frame_));
  // The rate is judged only over a full window after a warm-up, so the jitter buffer's first burst is forgiven.
  const bool warmed = seconds_between(started_, now) >= 2 * policy_.rate_window_s;
  if (warmed && nominal_fps_ > 0 && policy_.max_rate_factor > 0 && arrivals_.size() > 1) {
    const double rate = static_cast<double>(arrivals_.size()) / policy_.rate_window_s;
    if (rate > policy_.max_rate_factor * nominal_fps_ && running_ahead())
      return fmt::format("stalled: {:.0f} frames/s arriving for a {:.0f} fps stream (a stuck source replaying?)", rate,
                         nominal_fps_);
  }
  return std::nullopt;
}

}  // namespace matthan
