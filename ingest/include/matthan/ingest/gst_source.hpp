// A camera source: one GStreamer pipeline per connection attempt that hands out encoded packets and small
// frames.
#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

// Calls gst_init once per process; safe to call from any thread, any number of times.
void ensure_gstreamer_initialized();

struct SourceOptions {
  std::string
      url;  // rtsp://[user:pass@]host[:port]/path or file:///path; may hold credentials: never log it raw
  int width = 640, height = 360, fps = 5;   // the analysis copy
  PixelFormat format = PixelFormat::kI420;  // kGray8 skips chroma entirely (cheaper, NOTES.md)
  int latency_ms = 200;                     // rtspsrc jitterbuffer latency
  int stall_timeout_ms = 15000;             // no packet for this long (or before the first one) fails the run
};

// Called on GStreamer streaming threads: copy or hand off and return quickly; never block.
struct SourceSink {
  std::function<void(EncodedPacket)> on_packet;
  std::function<void(Frame)> on_frame;
};

// One blocking run, as in MediaMTX: returns when the stream fails, ends, or stop is requested.
class CameraSource {
 public:
  virtual ~CameraSource() = default;
  // ok() only when stopped on request; an error with a clear, credential-free reason otherwise (EOS
  // included).
  virtual Status run(std::stop_token stop) = 0;
};

std::unique_ptr<CameraSource> make_gst_source(CameraId camera, SourceOptions options, SourceSink sink);

// The gst-launch description of the pipeline (for tests and logs). It contains the URL: redact before
// logging.
std::string describe_pipeline(const SourceOptions& options);

}  // namespace matthan
