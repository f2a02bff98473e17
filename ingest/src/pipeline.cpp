// The camera pipeline, as text: encoded access units to one appsink, a small slow decoded copy to another.
#include "pipeline.hpp"

#include <fmt/format.h>

#include "matthan/core/url.hpp"

namespace matthan::detail {
namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Everything up to the parsed access units, per URL scheme. parsebin picks the depayloader and parser from
// the stream's own caps (RTP encoding-name, or the container), so H.264 and H.265 take the same path; the
// caps filter after it (kEncodedCaps) asks the parser for whole access units in MP4 form.
Result<std::string> source_part(const SourceOptions& o, const ParsedUrl& url, bool with_location) {
  if (is_rtsp_url(url)) {
    const std::string location = with_location ? " location=" + quoted(o.url) : "";
    // Only the video stream is linked; a camera's audio stream is left unlinked (rtspsrc ignores it).
    return rtsp_source_description(o.latency_ms, o.transport, location) +
           " ! application/x-rtp,media=video ! parsebin name=parse";
  }
  if (url.scheme == "file") {
    const std::string location = with_location ? " location=" + quoted(url.path) : "";
    // identity sync=true plays the file at its own pace, so it behaves like a camera.
    return fmt::format("filesrc name=src{} ! parsebin name=parse ! identity sync=true", location);
  }
  if (is_http_url(url)) {
    // An HTTP MJPEG camera (multipart/x-mixed-replace): pictures are stamped on arrival, as the stream has no
    // clock of its own. The user name and password go to souphttpsrc's own properties, not the location.
    const std::string location = with_location ? " location=" + quoted(o.url) : "";
    return mjpeg_source_description(15, location) + " ! jpegparse name=parse";
  }
  return make_error(ErrorCode::kUnsupported,
                    "unsupported URL scheme '" + url.scheme + "' for a camera (use rtsp, rtsps, http, https or file)");
}

}  // namespace

const char* const kEncodedCaps =
    "video/x-h264,stream-format=avc,alignment=au;video/x-h265,stream-format=hvc1,alignment=au";
const char* const kMjpegCaps = "image/jpeg,parsed=true";

std::string rtsp_source_description(int latency_ms, RtspTransport transport, const std::string& location) {
  // kAuto: the camera source sets `protocols` per try at run time (TCP, then UDP); the probe keeps
  // rtspsrc's own.
  const std::string protocols =
      transport == RtspTransport::kAuto ? "" : fmt::format(" protocols={}", to_string(transport));
  // buffer-mode=synced: packet times are the camera's own RTP clock from the first packet's arrival on, so
  // they cannot go back or stand still when this process is starved of CPU and reads its sockets late. The
  // default (slave) re-estimates them from arrival times; measured at 16 busy cameras on one core, it gave
  // runs of consecutive frames the same time, which the parser then left untimed, and the watchdog
  // reconnected ("timestamps jumped back"). bench/journal/2026-11-29-overload.md.
  return fmt::format("rtspsrc name=src{}{} latency={} buffer-mode=synced", location, protocols, latency_ms);
}

std::string mjpeg_source_description(unsigned timeout_s, const std::string& location) {
  // multipartdemux is named so the probe can take its part pad.
  return fmt::format(
      "souphttpsrc name=src{} is-live=true do-timestamp=true retries=0 timeout={} "
      "! multipartdemux name=demux single-stream=true",
      location, timeout_s);
}

namespace {

// rtspsrc unescaped the user name and password of its location ("p%40ss" is "p@ss"); its user-id and user-pw
// take them as they are, so they are unescaped here. Text that is not valid escaping is passed on unchanged.
std::string rtsp_unescaped(const std::string& text) {
  gchar* raw = g_uri_unescape_string(text.c_str(), nullptr);
  if (raw == nullptr) return text;
  std::string out(raw);
  g_free(raw);
  return out;
}

}  // namespace

void set_source_location(GstElement* src, const std::string& url_text, const ParsedUrl& url) {
  std::string location = url.scheme == "file" ? url.path : url_text;
  if (is_http_url(url) || is_rtsp_url(url)) {
    // The credentials go off the location: rtspsrc's own parser ends the userinfo at the first '/' (a password
    // "1234/5678" would make "1234" a port), and a location with no secret cannot leak one into GStreamer's
    // messages.
    location = strip_userinfo(url_text);
    if (!url.userinfo.empty()) {
      UrlCredentials c = credentials_of(url);
      if (is_rtsp_url(url)) c = {rtsp_unescaped(c.user), rtsp_unescaped(c.password)};
      g_object_set(src, "user-id", c.user.c_str(), "user-pw", c.password.c_str(), nullptr);
    }
  }
  g_object_set(src, "location", location.c_str(), nullptr);
}

Result<std::string> pipeline_description(const SourceOptions& o, bool with_location) {
  std::string why;
  const auto url = parse_url(o.url, &why);
  if (!url) return make_error(ErrorCode::kInvalid, "camera URL " + why);
  return pipeline_description(o, *url, with_location);
}

Result<std::string> pipeline_description(const SourceOptions& o, const ParsedUrl& url, bool with_location) {
  auto source = source_part(o, url, with_location);
  if (!source) return source.error();
  const char* format = o.format == PixelFormat::kGray8 ? "GRAY8" : "I420";
  // Scaling is the costliest step after decoding (a profile of a still scene: decode 38 %, scaling 25 %,
  // motion 12 %), so by default there is none: videoconvert is a passthrough when the decoder already gives
  // I420, which H.264 4:2:0 always does, and the analysis scales only the luma plane it reads.
  const std::string shape =
      o.width > 0 && o.height > 0
          ? fmt::format("videoconvertscale ! video/x-raw,format={},width={},height={}", format, o.width, o.height)
          : fmt::format("videoconvert ! video/x-raw,format={}", format);
  // The frame branch's queue leaks so a slow decoder can never hold back the packets (the clip path);
  // the rate is cut before converting or scaling so dropped frames cost nothing more than their decode.
  // `dec` is a decodebin so the decoder follows the codec (avdec_h264 or avdec_h265); GstCameraSource sets
  // the inner decoder to one thread and no error limit, and keeps decodebin from plugging a second parser.
  // Its sink pad is static (probes go there); its output is counted at `rate`'s sink pad.
  const std::string packets = fmt::format(
      "{} ! {} ! tee name=t "
      "t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=5000000000 ! appsink name=packets "
      "sync=false",
      source.value(), is_http_url(url) ? kMjpegCaps : kEncodedCaps);
  // A recording-only stream (the camera detects on its detect_url) decodes nothing at all.
  if (!o.decode) return packets;
  if (is_http_url(url)) {
    // Every JPEG is a whole picture, so the rate is cut before decoding by GstCameraSource's probe on `dec`'s
    // sink pad (videorate cannot take JPEG, nor MJPEG's unknown frame rate); `rate` only marks where decoded
    // pictures are counted.
    return fmt::format(
        "{} t. ! queue leaky=downstream max-size-buffers=60 max-size-bytes=0 max-size-time=0 "
        "! jpegdec name=dec ! identity name=rate ! {} ! appsink name=frames sync=false max-buffers=2 drop=true",
        packets, shape);
  }
  return fmt::format(
      "{} t. ! queue leaky=downstream max-size-buffers=60 max-size-bytes=0 max-size-time=0 "
      "! decodebin name=dec ! videorate name=rate drop-only=true ! video/x-raw,framerate={}/1 "
      "! {} ! appsink name=frames sync=false max-buffers=2 drop=true",
      packets, o.fps, shape);
}

}  // namespace matthan::detail

namespace matthan {

std::string describe_pipeline(const SourceOptions& options) {
  auto d = detail::pipeline_description(options, true);
  return d ? d.value() : std::string{};
}

}  // namespace matthan
