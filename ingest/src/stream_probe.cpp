// `probe_stream`: one short-lived pipeline that measures what a camera sends, then disconnects: rtspsrc for an
// RTSP camera, souphttpsrc ! multipartdemux for an HTTP MJPEG camera.
#include "matthan/ingest/stream_probe.hpp"

#include <fmt/format.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <mutex>

#include "gst_error.hpp"
#include "matthan/core/url.hpp"
#include "matthan/ingest/gst_ptr.hpp"
#include "matthan/ingest/gst_source.hpp"
#include "matthan/ingest/redact.hpp"
#include "pipeline.hpp"
#include "stream_tally.hpp"

namespace matthan {

const char* probe_failure_name(ProbeFailure f) {
  switch (f) {
    case ProbeFailure::kNone:
      return "none";
    case ProbeFailure::kInvalidUrl:
      return "invalid_url";
    case ProbeFailure::kUnreachable:
      return "unreachable";
    case ProbeFailure::kRefused:
      return "refused";
    case ProbeFailure::kUnauthorized:
      return "unauthorized";
    case ProbeFailure::kNotFound:
      return "not_found";
    case ProbeFailure::kNoSupportedStream:
      return "no_supported_stream";
    case ProbeFailure::kTimeout:
      return "timeout";
    case ProbeFailure::kOther:
      return "failed";
  }
  return "failed";
}

ProbeFailure probe_failure_from(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthorized:
      return ProbeFailure::kUnauthorized;
    case ErrorCode::kNotFound:
      return ProbeFailure::kNotFound;
    case ErrorCode::kUnreachable:
      return ProbeFailure::kUnreachable;
    case ErrorCode::kRefused:
      return ProbeFailure::kRefused;
    case ErrorCode::kTimeout:
      return ProbeFailure::kTimeout;
    case ErrorCode::kUnsupported:
      return ProbeFailure::kNoSupportedStream;
    case ErrorCode::kInvalid:
      return ProbeFailure::kInvalidUrl;
    default:
      return ProbeFailure::kOther;
  }
}

ErrorCode error_code_of(ProbeFailure f) {
  switch (f) {
    case ProbeFailure::kUnauthorized:
      return ErrorCode::kUnauthorized;
    case ProbeFailure::kNotFound:
      return ErrorCode::kNotFound;
    case ProbeFailure::kUnreachable:
      return ErrorCode::kUnreachable;
    case ProbeFailure::kRefused:
      return ErrorCode::kRefused;
    case ProbeFailure::kTimeout:
      return ErrorCode::kTimeout;
    case ProbeFailure::kNoSupportedStream:
      return ErrorCode::kUnsupported;
    case ProbeFailure::kInvalidUrl:
      return ErrorCode::kInvalid;
    case ProbeFailure::kNone:
    case ProbeFailure::kOther:
      return ErrorCode::kOther;
  }
  return ErrorCode::kOther;
}

ErrorCode classify_connection_text(const std::string& text) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto has = [&t](const char* s) { return t.find(s) != std::string::npos; };
  if (has("connection refused")) return ErrorCode::kRefused;
  if (has("no route to host") || has("host is unreachable") || has("network is unreachable") ||
      has("could not resolve") || has("error resolving") || has("name or service not known") ||
      has("temporary failure in name resolution"))
    return ErrorCode::kUnreachable;
  if (has("timed out") || has("timeout") || has("could not receive any udp packets")) return ErrorCode::kTimeout;
  return ErrorCode::kOther;
}

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kBusPoll = std::chrono::milliseconds(50);

double seconds_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string caps_string(const GstStructure* s, const char* field) {
  const gchar* v = gst_structure_get_string(s, field);
  return v != nullptr ? v : "";
}

class StreamProber {
 public:
  explicit StreamProber(StreamProbeOptions options) : options_(std::move(options)) {}
  StreamMeasurement run(const std::stop_token& stop);

 private:
  bool build(GstElement* pipeline, const ParsedUrl& url);
  bool build_mjpeg(GstElement* pipeline, const ParsedUrl& url);
  static void on_part_added(GstElement* demux, GstPad* pad, gpointer self);
  void handle_part(GstPad* pad);
  static void on_pad_added(GstElement* src, GstPad* pad, gpointer self);
  static void on_no_more_pads(GstElement* src, gpointer self);
  static GstPadProbeReturn on_video_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_audio_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  void handle_pad(GstPad* pad);
  bool link_jpeg(GstPad* pad);
  bool link_video(GstPad* pad, const std::string& encoding);
  void link_to_fakesink(GstPad* pad, bool count_audio);
  void record_video(GstPad* pad, GstBuffer* buffer);
  void record_caps(GstPad* pad);
  void fail(ProbeFailure failure, std::string reason);
  void fail_from_message(GstMessage* msg);
  bool finished(SteadyClock::time_point now);
  void check_deadline(SteadyClock::time_point now);
  StreamMeasurement summarize(SteadyClock::time_point end);

  const StreamProbeOptions options_;
  GstElement* bin_ = nullptr;       // the pipeline, borrowed from run()
  GstElement* part_bin_ = nullptr;  // an MJPEG camera's source bin, where its demuxer's part pad is linked
  // Where elements for a new source pad go: beside the element that made the pad.
  GstBin* home() const { return GST_BIN(part_bin_ != nullptr ? part_bin_ : bin_); }
  SteadyClock::time_point started_;

  std::mutex mu_;  // guards everything below: written by rtspsrc's and the sinks' streaming threads
  StreamMeasurement m_;
  bool failed_ = false;
  detail::StreamTally tally_;
  std::optional<SteadyClock::time_point> first_packet_, first_keyframe_;
  std::int64_t first_pts_ = -1, last_pts_ = -1;
  std::vector<std::int64_t> keyframe_pts_;
  std::vector<std::uint64_t> keyframe_frame_index_;
  std::uint64_t audio_bytes_after_keyframe_ = 0;
};

// An RTSP camera: the camera pipeline's own rtspsrc (detail::rtsp_source_description: latency, buffer mode
// and transport), so what the probe measures is what the engine will get. Every stream it sets up is linked
// here.
bool StreamProber::build(GstElement* pipeline, const ParsedUrl& url) {
  GError* raw_error = nullptr;
  // One element in the description: gst_parse_launch returns that element itself, not a bin around it.
  GstElement* src =
      gst_parse_launch(detail::rtsp_source_description(options_.latency_ms, options_.transport).c_str(), &raw_error);
  gst::ErrorPtr error(raw_error);
  if (src == nullptr || error) {
    if (src != nullptr) gst::adopt(src);
    fail(ProbeFailure::kOther, "cannot build the probe's RTSP source (install gstreamer1.0-plugins-good): " +
                                   std::string(error ? error->message : "unknown failure"));
    return false;
  }
  gst_bin_add(GST_BIN(pipeline), src);  // the bin takes the floating reference
  detail::set_source_location(src, options_.url, url);
  g_object_set(src, "tcp-timeout", static_cast<guint64>(options_.timeout_seconds * 1e6), nullptr);
  g_signal_connect(src, "pad-added", G_CALLBACK(&StreamProber::on_pad_added), this);
  g_signal_connect(src, "no-more-pads", G_CALLBACK(&StreamProber::on_no_more_pads), this);
  return true;
}

// An MJPEG camera: the camera pipeline's own HTTP source (detail::mjpeg_source_description), whose part pad
// (image/jpeg) goes to jpegparse ! fakesink. Every JPEG is a whole picture, so every frame counts as a keyframe.
bool StreamProber::build_mjpeg(GstElement* pipeline, const ParsedUrl& url) {
  const auto timeout = static_cast<unsigned>(std::max(1.0, options_.timeout_seconds));
  GError* raw_error = nullptr;
  GstElement* source =
      gst_parse_bin_from_description(detail::mjpeg_source_description(timeout).c_str(), FALSE, &raw_error);
  gst::ErrorPtr error(raw_error);
  if (source == nullptr || error) {
    if (source != nullptr) gst::adopt(source);
    fail(ProbeFailure::kOther, "cannot build the probe's HTTP source (install gstreamer1.0-plugins-good): " +
                                   std::string(error ? error->message : "unknown failure"));
    return false;
  }
  gst_bin_add(GST_BIN(pipeline), source);  // the pipeline takes the floating reference
  part_bin_ = source;
  auto src = gst::adopt(gst_bin_get_by_name(GST_BIN(source), "src"));
  auto demux = gst::adopt(gst_bin_get_by_name(GST_BIN(source), "demux"));
  detail::set_source_location(src.get(), options_.url, url);
  g_signal_connect(demux.get(), "pad-added", G_CALLBACK(&StreamProber::on_part_added), this);
  return true;
}

void StreamProber::on_part_added(GstElement*, GstPad* pad, gpointer self) {
  static_cast<StreamProber*>(self)->handle_part(pad);
}

void StreamProber::handle_part(GstPad* pad) {
  gst::CapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  const GstStructure* s = caps ? gst_caps_get_structure(caps.get(), 0) : nullptr;
  const std::string type = s ? gst_structure_get_name(s) : "";
  bool already = false;
  {
    std::lock_guard lock(mu_);
    tally_.pad_announced();
    tally_.no_more_pads();  // single-stream: this part is all the camera sends
    already = tally_.video();
  }
  if (!already && type == "image/jpeg") {
    const bool linked = link_jpeg(pad);
    std::lock_guard lock(mu_);
    if (linked) {
      tally_.video_linked();
      m_.codec = "MJPEG";
    } else {
      tally_.other_stream();  // the failure is recorded
    }
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (already)
      tally_.other_stream();
    else
      tally_.unsupported_video(type.empty() ? "unknown" : type);
  }
  link_to_fakesink(pad, false);
}

// The part pad goes to jpegparse ! fakesink, with the frame counter on the parser's output.
bool StreamProber::link_jpeg(GstPad* pad) {
  GstElement* parse = gst_element_factory_make("jpegparse", nullptr);
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  if (parse == nullptr || sink == nullptr) {
    for (GstElement* e : {parse, sink})
      if (e != nullptr) gst::adopt(e);
    fail(ProbeFailure::kOther, "the GStreamer jpegparse element is missing (install gstreamer1.0-plugins-bad)");
    return false;
  }
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add_many(home(), parse, sink, nullptr);
  if (!gst_element_link(parse, sink)) {
    fail(ProbeFailure::kOther, "cannot link the probe's JPEG branch");
    return false;
  }
  auto parse_src = gst::adopt(gst_element_get_static_pad(parse, "src"));
  gst_pad_add_probe(parse_src.get(), GST_PAD_PROBE_TYPE_BUFFER, &StreamProber::on_video_buffer, this, nullptr);
  for (GstElement* e : {sink, parse}) gst_element_sync_state_with_parent(e);
  auto parse_sink = gst::adopt(gst_element_get_static_pad(parse, "sink"));
  if (gst_pad_link(pad, parse_sink.get()) != GST_PAD_LINK_OK) {
    fail(ProbeFailure::kOther, "cannot link the camera's picture stream");
    return false;
  }
  return true;
}

void StreamProber::on_pad_added(GstElement*, GstPad* pad, gpointer self) {
  static_cast<StreamProber*>(self)->handle_pad(pad);
}

void StreamProber::on_no_more_pads(GstElement*, gpointer self) {
  auto* p = static_cast<StreamProber*>(self);
  std::lock_guard lock(p->mu_);
  p->tally_.no_more_pads();
}

void StreamProber::handle_pad(GstPad* pad) {
  gst::CapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  const GstStructure* s = caps ? gst_caps_get_structure(caps.get(), 0) : nullptr;
  const std::string media = s ? caps_string(s, "media") : "";
  const std::string encoding = s ? caps_string(s, "encoding-name") : "";
  bool already = false;
  {
    std::lock_guard lock(mu_);
    tally_.pad_announced();
    already = tally_.video();
  }
  if (media == "video" && !already && (encoding == "H264" || encoding == "H265")) {
    const bool linked = link_video(pad, encoding);
    std::lock_guard lock(mu_);
    if (linked) {
      tally_.video_linked();
      m_.codec = encoding;
    } else {
      tally_.other_stream();  // the failure is recorded
    }
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (media == "video" && !already) {
      tally_.unsupported_video(encoding);
    } else {
      tally_.other_stream();
      if (media == "audio" && !m_.audio) {
        ProbedAudio a;
        a.codec = encoding;
        gst_structure_get_int(s, "clock-rate", &a.clock_rate);
        const std::string params = caps_string(s, "encoding-params");
        a.channels = params.empty() ? 1 : std::atoi(params.c_str());
        m_.audio = a;
      } else if (media != "video" && media != "audio") {
        m_.other_media.push_back(fmt::format("{}/{}", media.empty() ? "unknown" : media, encoding));
      }
    }
  }
  // Every stream rtspsrc set up must go somewhere, or its not-linked flow would stop the session.
  link_to_fakesink(pad, media == "audio");
}

bool StreamProber::link_video(GstPad* pad, const std::string& encoding) {
  const bool h264 = encoding == "H264";
  GstElement* depay = gst_element_factory_make(h264 ? "rtph264depay" : "rtph265depay", nullptr);
  GstElement* parse = gst_element_factory_make(h264 ? "h264parse" : "h265parse", nullptr);
  GstElement* filter = gst_element_factory_make("capsfilter", nullptr);
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  if (depay == nullptr || parse == nullptr || filter == nullptr || sink == nullptr) {
    for (GstElement* e : {depay, parse, filter, sink})
      if (e != nullptr) gst::adopt(e);  // sinks the floating reference and drops it
    fail(ProbeFailure::kOther, fmt::format("GStreamer elements for {} are missing (install gstreamer1.0-plugins-good "
                                           "and gstreamer1.0-plugins-bad)",
                                           encoding));
    return false;
  }
  // One buffer per access unit, so each buffer is one frame with its keyframe flag.
  gst::CapsPtr au(gst_caps_from_string(h264 ? "video/x-h264,alignment=au" : "video/x-h265,alignment=au"));
  g_object_set(filter, "caps", au.get(), nullptr);
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(bin_), depay, parse, filter, sink, nullptr);
  if (!gst_element_link_many(depay, parse, filter, sink, nullptr)) {
    fail(ProbeFailure::kOther, "cannot link the probe's video branch");
    return false;
  }
  auto filter_src = gst::adopt(gst_element_get_static_pad(filter, "src"));
  gst_pad_add_probe(filter_src.get(), GST_PAD_PROBE_TYPE_BUFFER, &StreamProber::on_video_buffer, this, nullptr);
  for (GstElement* e : {sink, filter, parse, depay}) gst_element_sync_state_with_parent(e);
  auto depay_sink = gst::adopt(gst_element_get_static_pad(depay, "sink"));
  if (gst_pad_link(pad, depay_sink.get()) != GST_PAD_LINK_OK) {
    fail(ProbeFailure::kOther, "cannot link the camera's video stream");
    return false;
  }
  return true;
}

void StreamProber::link_to_fakesink(GstPad* pad, bool count_audio) {
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  if (sink == nullptr) return;
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(home(), sink);
  gst_element_sync_state_with_parent(sink);
  auto sink_pad = gst::adopt(gst_element_get_static_pad(sink, "sink"));
  if (count_audio)
    gst_pad_add_probe(sink_pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &StreamProber::on_audio_buffer, this, nullptr);
  gst_pad_link(pad, sink_pad.get());
}

GstPadProbeReturn StreamProber::on_video_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer self) {
  if (GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info)) static_cast<StreamProber*>(self)->record_video(pad, buffer);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn StreamProber::on_audio_buffer(GstPad*, GstPadProbeInfo* info, gpointer self) {
  auto* p = static_cast<StreamProber*>(self);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buffer == nullptr) return GST_PAD_PROBE_OK;
  std::lock_guard lock(p->mu_);
  if (p->m_.audio) p->m_.audio->bytes += gst_buffer_get_size(buffer);
  if (p->first_keyframe_) p->audio_bytes_after_keyframe_ += gst_buffer_get_size(buffer);
  return GST_PAD_PROBE_OK;
}

void StreamProber::record_caps(GstPad* pad) {
  gst::CapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) return;
  const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
  gst_structure_get_int(s, "width", &m_.width);
  gst_structure_get_int(s, "height", &m_.height);
  m_.profile = caps_string(s, "profile");
  m_.level = caps_string(s, "level");
}

void StreamProber::record_video(GstPad* pad, GstBuffer* buffer) {
  const auto now = SteadyClock::now();
  const bool keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  const GstClockTime t = GST_BUFFER_PTS_IS_VALID(buffer) ? GST_BUFFER_PTS(buffer) : GST_BUFFER_DTS(buffer);
  std::lock_guard lock(mu_);
  if (!first_packet_) first_packet_ = now;
  if (m_.width == 0) record_caps(pad);
  // Measure from the first keyframe, where a recording of this stream could begin.
  if (!first_keyframe_) {
    if (!keyframe) return;
    first_keyframe_ = now;
  }
  if (finished(now)) return;
  const auto pts = GST_CLOCK_TIME_IS_VALID(t) ? static_cast<std::int64_t>(t) : -1;
  if (pts >= 0) {
    if (first_pts_ < 0) first_pts_ = pts;
    last_pts_ = std::max(last_pts_, pts);
  }
  if (keyframe) {
    ++m_.keyframes;
    if (pts >= 0) keyframe_pts_.push_back(pts);
    keyframe_frame_index_.push_back(m_.frames);
  }
  ++m_.frames;
  m_.video_bytes += gst_buffer_get_size(buffer);
}

// Caller holds mu_.
bool StreamProber::finished(SteadyClock::time_point now) {
  if (failed_) return true;
  if (!first_keyframe_) return false;
  if (options_.stop_at_first_keyframe) return true;
  return seconds_between(*first_keyframe_, now) >= options_.measure_seconds;
}

void StreamProber::fail(ProbeFailure failure, std::string reason) {
  std::lock_guard lock(mu_);
  if (failed_) return;
  failed_ = true;
  m_.failure = failure;
  m_.reason = redact_credentials(reason, options_.url);
}

void StreamProber::fail_from_message(GstMessage* msg) {
  const detail::GstBusError bus = detail::read_bus_error(msg);
  const std::string& text = bus.text;
  const ProbeFailure kind = probe_failure_from(bus.code);
  if (kind == ProbeFailure::kNotFound)
    return fail(kind, "the camera answered 404 Not Found: there is no stream at this path");
  if (kind == ProbeFailure::kUnauthorized)
    return fail(kind, "the camera answered 401 Unauthorized: the user name or password is wrong or missing");
  if (kind == ProbeFailure::kOther &&
      (text.find("boundary") != std::string::npos || text.find("multipart") != std::string::npos))
    return fail(ProbeFailure::kNoSupportedStream,
                "the server's answer is not an MJPEG stream (multipart/x-mixed-replace): is this the camera's MJPEG "
                "video URL, not a snapshot or web page? (" +
                    text + ")");
  if (kind == ProbeFailure::kOther && text.find("Parse error") != std::string::npos)
    return fail(kind, "the server did not answer in RTSP (is this the camera's RTSP port?): " + text);
  fail(kind, text);
}

void StreamProber::check_deadline(SteadyClock::time_point now) {
  bool no_video = false;
  bool timed_out = false;
  bool packets = false;
  std::string offered;
  {
    std::lock_guard lock(mu_);
    if (failed_) return;
    no_video = tally_.no_usable_video();
    timed_out = !first_keyframe_ && seconds_between(started_, now) >= options_.timeout_seconds;
    packets = first_packet_.has_value();
    for (const auto& v : tally_.unsupported()) offered += (offered.empty() ? "video " : ", video ") + v;
    if (m_.audio) offered += (offered.empty() ? "audio " : ", audio ") + m_.audio->codec;
    for (const auto& o : m_.other_media) offered += (offered.empty() ? "" : ", ") + o;
  }
  if (no_video)
    return fail(ProbeFailure::kNoSupportedStream,
                fmt::format("the camera offers no H.264, H.265 or MJPEG video (it offers: {})",
                            offered.empty() ? "nothing" : offered));
  if (timed_out)
    fail(ProbeFailure::kTimeout,
         packets ? fmt::format("video arrived but no keyframe within {:.0f} s", options_.timeout_seconds)
                 : fmt::format("connected, but no video arrived within {:.0f} s", options_.timeout_seconds));
}

StreamMeasurement StreamProber::run(const std::stop_token& stop) {
  std::string why;
  const auto url = parse_url(options_.url, &why);
  const bool rtsp = url && is_rtsp_url(*url);
  const bool http = url && is_http_url(*url);
  if (!rtsp && !http) {
    StreamMeasurement m;
    m.failure = ProbeFailure::kInvalidUrl;
    m.reason = url ? "probe needs an rtsp://, rtsps://, http:// or https:// URL" : "camera URL " + why;
    return m;
  }
  ensure_gstreamer_initialized();
  gst::PipelineGuard pipeline(gst::adopt(gst_pipeline_new("probe")));
  bin_ = pipeline.get();
  started_ = SteadyClock::now();
  if (!(http ? build_mjpeg(pipeline.get(), *url) : build(pipeline.get(), *url))) return summarize(SteadyClock::now());
  auto bus = gst::adopt(gst_element_get_bus(pipeline.get()));
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    auto msg = gst::adopt_mini(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    if (msg)
      fail_from_message(msg.get());
    else
      fail(ProbeFailure::kOther, "the probe pipeline refused to start");
  }
  const auto filter = static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  while (!stop.stop_requested()) {
    const auto now = SteadyClock::now();
    {
      std::lock_guard lock(mu_);
      if (finished(now)) break;
    }
    check_deadline(now);
    const auto timeout = static_cast<GstClockTime>(std::chrono::nanoseconds(kBusPoll).count());
    auto msg = gst::adopt_mini(gst_bus_timed_pop_filtered(bus.get(), timeout, filter));
    if (!msg) continue;
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
      fail_from_message(msg.get());
    } else {
      std::lock_guard lock(mu_);
      if (!first_keyframe_) {
        failed_ = true;
        m_.failure = ProbeFailure::kOther;
        m_.reason = "the stream ended before any video arrived";
      }
      break;
    }
  }
  const auto end = SteadyClock::now();
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);  // no streaming thread writes after this
  return summarize(end);
}

StreamMeasurement StreamProber::summarize(SteadyClock::time_point end) {
  std::lock_guard lock(mu_);
  StreamMeasurement m = m_;
  if (first_packet_) m.time_to_first_packet_s = seconds_between(started_, *first_packet_);
  if (first_keyframe_) m.time_to_first_keyframe_s = seconds_between(started_, *first_keyframe_);
  if (m.frames >= 2 && last_pts_ > first_pts_) {
    const double span = static_cast<double>(last_pts_ - first_pts_) / 1e9;
    m.fps = static_cast<double>(m.frames - 1) / span;
    m.measured_seconds = span + 1.0 / m.fps;
    m.bitrate_kbps = static_cast<double>(m.video_bytes) * 8.0 / m.measured_seconds / 1000.0;
  }
  if (keyframe_pts_.size() >= 2) {
    const auto n = static_cast<double>(keyframe_pts_.size() - 1);
    m.keyframe_interval_s = static_cast<double>(keyframe_pts_.back() - keyframe_pts_.front()) / 1e9 / n;
    m.keyframe_interval_frames = static_cast<double>(keyframe_frame_index_.back() - keyframe_frame_index_.front()) / n;
  }
  if (m.audio && first_keyframe_) {
    const double wall = seconds_between(*first_keyframe_, end);
    if (wall > 0) m.audio->bitrate_kbps = static_cast<double>(audio_bytes_after_keyframe_) * 8.0 / wall / 1000.0;
  }
  return m;
}

}  // namespace

StreamMeasurement probe_stream(const StreamProbeOptions& options, std::stop_token stop) {
  StreamProber prober(options);
  return prober.run(stop);
}

}  // namespace matthan
