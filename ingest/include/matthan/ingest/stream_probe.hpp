// Measuring what one RTSP camera sends (codec, size, rate, keyframes, bitrate, audio), for `matthan probe`.
#pragma once

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/ingest/transport.hpp"

namespace matthan {

enum class ProbeFailure {
  kNone,
  kInvalidUrl,
  kUnreachable,        // no route, host down, name does not resolve
  kRefused,            // nothing listens on the port
  kUnauthorized,       // RTSP 401
  kNotFound,           // RTSP 404
  kNoSupportedStream,  // no H.264 video (H.265, MJPEG, audio only, ...)
  kTimeout,            // connected, but no video in time
  kOther,
};
const char* probe_failure_name(ProbeFailure f);  // "unreachable", "refused", "unauthorized", ...
// The probe's verdict for a failure of this code (kOther when the code has no verdict of its own), and back.
ProbeFailure probe_failure_from(ErrorCode code);
ErrorCode error_code_of(ProbeFailure f);  // kNone: kOther

struct StreamProbeOptions {
  std::string url;                                 // may hold credentials: never log it raw
  RtspTransport transport = RtspTransport::kAuto;  // kAuto: rtspsrc's own order; `matthan probe` tries tcp and udp each
  double measure_seconds = 10;                     // measured after the first keyframe
  double timeout_seconds = 20;                     // no keyframe within this long after starting: kTimeout
  int latency_ms = 200;                            // as the engine's rtspsrc
  bool stop_at_first_keyframe = false;             // a transport check only needs to see video arrive
};

struct ProbedAudio {
  std::string codec;  // RTP encoding name, e.g. "MPEG4-GENERIC", "PCMA", "OPUS"
  int clock_rate = 0;
  int channels = 0;
  std::uint64_t bytes = 0;  // RTP bytes received (headers included)
  double bitrate_kbps = 0;  // approximate: RTP bytes over the measured time
};

struct StreamMeasurement {
  ProbeFailure failure = ProbeFailure::kNone;
  std::string reason;  // credential-free, human readable; empty when failure == kNone

  std::string codec;  // "H264" / "H265", or the RTP encoding name of an unsupported video stream
  std::string profile;
  std::string level;
  int width = 0;
  int height = 0;

  double time_to_first_packet_s = -1;    // from starting the pipeline to the first video access unit
  double time_to_first_keyframe_s = -1;  // ... to the first decodable frame: what a clip needs
  double measured_seconds = 0;           // media time spanned by the frames measured
  std::uint64_t frames = 0;              // access units from the first keyframe on
  std::uint64_t keyframes = 0;
  std::uint64_t video_bytes = 0;
  double fps = 0;                  // from timestamps, not from what the caps claim
  double keyframe_interval_s = 0;  // mean between keyframes; 0 when fewer than two were seen
  double keyframe_interval_frames = 0;
  double bitrate_kbps = 0;
  std::optional<ProbedAudio> audio;
  std::vector<std::string> other_media;  // e.g. "application/VND.ONVIF.METADATA"

  bool ok() const { return failure == ProbeFailure::kNone; }
};

// Connects with its own short-lived pipeline, measures, disconnects. Blocks for at most about
// timeout_seconds + measure_seconds.
StreamMeasurement probe_stream(const StreamProbeOptions& options, std::stop_token stop = {});

// The code behind a socket-level error text from GStreamer/GIO ("Connection refused": kRefused, ...); kOther
// when the text names none.
ErrorCode classify_connection_text(const std::string& text);

}  // namespace matthan
