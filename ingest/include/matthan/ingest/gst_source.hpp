// A camera source: one GStreamer pipeline per connection attempt that hands out encoded packets and small
// frames.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"
#include "matthan/ingest/transport.hpp"

namespace matthan {

// Calls gst_init once per process; safe to call from any thread, any number of times.
void ensure_gstreamer_initialized();

struct SourceOptions {
  std::string url;  // rtsp://[user:pass@]host[:port]/path or file:///path; may hold credentials: never log it raw
  int width = 0, height = 0, fps = 5;       // the analysis copy; 0 x 0: the decoded size, never scaled
  PixelFormat format = PixelFormat::kI420;  // kGray8 skips chroma entirely (cheaper; motion then models luma only)
  // Only keyframes reach the analysis decoder (`dec`): delta units are dropped at its sink pad, so the
  // decoder and everything after it see about one frame per GOP. The packets branch is untouched.
  bool keyframes_only = false;
  int latency_ms = 200;          // rtspsrc jitterbuffer latency
  int stall_timeout_ms = 15000;  // no packet for this long (or before the first one) fails the run
  RtspTransport transport = RtspTransport::kAuto;
  int auto_tcp_timeout_ms = 5000;  // kAuto: TCP silent this long before the first packet -> try UDP
  // When set, media time (pts/dts of packets and frames) counts from this instant instead of from each
  // pipeline's start, so a camera's timeline keeps running forward across reconnects (the gap is real time).
  std::optional<std::chrono::steady_clock::time_point> media_epoch;
  // false: packets only, nothing is decoded (the recording stream of a camera whose detection reads a
  // separate detect_url substream); the sink's on_frame is never called.
  bool decode = true;
};

// Called on GStreamer streaming threads: copy or hand off and return quickly; never block.
struct SourceSink {
  std::function<void(EncodedPacket)> on_packet;
  std::function<void(Frame)> on_frame;
  std::function<void()> on_decode_error;  // the decoder reported a damaged frame (the run goes on)
  // An access unit with no time, ahead of the stream's first timed one, was dropped: nothing can place it
  // in a clip (later untimed units are given a time: AccessUnitClock).
  std::function<void()> on_untimed_packet;
  // The run's first access unit arrived: the connection is up. Called before the unit is aligned to a
  // keyframe or held while the wall map settles, so it can come a second or more before the first on_packet.
  std::function<void()> on_connected;
  std::function<void()> on_decoder_input;  // an access unit went into the decoder (on the decoder's thread)
  // Polled from run()'s own thread a few times a second: a non-empty reason ends the run with it (the
  // supervisor's stall watchdog).
  std::function<std::string()> watchdog;
};

// One blocking run, as in MediaMTX: returns when the stream fails, ends, or stop is requested.
class CameraSource {
 public:
  virtual ~CameraSource() = default;
  // ok() only when stopped on request; an error with a clear, credential-free reason otherwise (EOS
  // included), its code saying what kind of failure it was (kUnauthorized, kNotFound, kRefused, kUnreachable,
  // kTimeout for a stall, ...).
  virtual Status run(std::stop_token stop) = 0;
};

std::unique_ptr<CameraSource> make_gst_source(CameraId camera, SourceOptions options, SourceSink sink);

// The gst-launch description of the pipeline (for tests and logs). It contains the URL: redact before
// logging.
std::string describe_pipeline(const SourceOptions& options);

}  // namespace matthan
