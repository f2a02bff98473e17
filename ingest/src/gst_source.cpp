// GStreamer camera source: runs one pipeline until it fails, ends or is stopped, handing out packets and
// frames.
#include "matthan/ingest/gst_source.hpp"

#include <fmt/format.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string_view>
#include <vector>

#include "gst_error.hpp"
#include "matthan/core/logging.hpp"
#include "matthan/core/url.hpp"
#include "matthan/ingest/au_clock.hpp"
#include "matthan/ingest/gst_ptr.hpp"
#include "matthan/ingest/redact.hpp"
#include "matthan/ingest/wall_map.hpp"
#include "pipeline.hpp"

namespace matthan {

void ensure_gstreamer_initialized() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kBusPoll = std::chrono::milliseconds(50);

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

std::int64_t wall_ns(WallTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Media timestamps on the pipeline's running-time clock, shared by both branches.
MediaTimeNs running_time(GstSample* sample, GstClockTime t) {
  if (!GST_CLOCK_TIME_IS_VALID(t)) return -1;
  const GstSegment* segment = gst_sample_get_segment(sample);
  if (segment == nullptr || segment->format != GST_FORMAT_TIME) return static_cast<MediaTimeNs>(t);
  const guint64 rt = gst_segment_to_running_time(segment, GST_FORMAT_TIME, t);
  return GST_CLOCK_TIME_IS_VALID(rt) ? static_cast<MediaTimeNs>(rt) : static_cast<MediaTimeNs>(t);
}

std::shared_ptr<const StreamInfo> stream_info_from_caps(const GstCaps* caps) {
  auto info = std::make_shared<StreamInfo>();
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  info->codec = gst_structure_has_name(s, "video/x-h265") ? VideoCodec::kH265
                : gst_structure_has_name(s, "image/jpeg") ? VideoCodec::kMjpeg
                                                          : VideoCodec::kH264;
  gst_structure_get_int(s, "width", &info->width);
  gst_structure_get_int(s, "height", &info->height);
  int num = 0, den = 1;
  if (gst_structure_get_fraction(s, "framerate", &num, &den) && num > 0 && den > 0) {
    info->fps_num = num;
    info->fps_den = den;
  }
  const GValue* codec_data = gst_structure_get_value(s, "codec_data");
  if (codec_data != nullptr && G_VALUE_HOLDS(codec_data, GST_TYPE_BUFFER)) {
    GstBuffer* buf = gst_value_get_buffer(codec_data);
    info->extradata.resize(gst_buffer_get_size(buf));
    gst_buffer_extract(buf, 0, info->extradata.data(), info->extradata.size());
  }
  return info;
}

// Keeps a decoded buffer mapped for as long as any Frame points into it.
struct MappedFrame {
  GstVideoFrame frame{};
  bool mapped = false;
  gst::SamplePtr sample;
  MappedFrame() = default;
  MappedFrame(const MappedFrame&) = delete;
  MappedFrame& operator=(const MappedFrame&) = delete;
  ~MappedFrame() {
    if (mapped) gst_video_frame_unmap(&frame);
  }
};

bool another_transport_may_help(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthorized:
    case ErrorCode::kNotFound:
    case ErrorCode::kRefused:
    case ErrorCode::kUnreachable:
      return false;
    default:
      return true;
  }
}

bool from_decoder(GstMessage* msg) {
  for (GstObject* o = GST_MESSAGE_SRC(msg); o != nullptr; o = GST_OBJECT_PARENT(o)) {
    const gchar* name = GST_OBJECT_NAME(o);
    if (name != nullptr && std::string_view(name) == "dec") return true;
  }
  return false;
}

// Empty when the caps are H.264 or H.265 (or not video at all); otherwise the codec's name for an operator.
std::string unsupported_codec(const GstStructure* s) {
  if (s == nullptr) return {};
  const std::string_view name = gst_structure_get_name(s);
  if (name == "application/x-rtp") {
    const gchar* media = gst_structure_get_string(s, "media");
    const gchar* encoding = gst_structure_get_string(s, "encoding-name");
    if (media == nullptr || std::string_view(media) != "video" || encoding == nullptr) return {};
    const std::string_view e = encoding;
    return e == "H264" || e == "H265" ? std::string{} : std::string(e);
  }
  if (name == "video/x-h264" || name == "video/x-h265") return {};
  if (name.rfind("video/", 0) == 0 || name.rfind("image/", 0) == 0) return std::string(name);
  return {};
}

class GstCameraSource final : public CameraSource {
 public:
  GstCameraSource(CameraId camera, SourceOptions options, SourceSink sink)
      : camera_(std::move(camera)),
        options_(std::move(options)),
        sink_(std::move(sink)),
        url_(parse_url(options_.url, &url_error_)) {}

  Status run(std::stop_token stop) override;

 private:
  Result<gst::ElementPtr> build(RtspTransport transport);
  Status attach_sink(GstElement* pipeline, const char* name, bool packets);
  void watch_source_caps(GstElement* pipeline);
  void stamp_untimed_units(GstElement* pipeline);
  void watch_codec(GstElement* pipeline);
  void configure_decoder(GstElement* pipeline);
  void limit_mjpeg_rate(GstElement* pipeline);
  void watch_decoder_output(GstElement* pipeline);
  void on_decoded(GstBuffer* buffer);
  Status run_once(const std::stop_token& stop, RtspTransport transport, int first_packet_timeout_ms);
  Status watch(GstElement* pipeline, const std::stop_token& stop, int first_packet_timeout_ms);
  void on_warning(GstMessage* msg);
  Status error_from(GstMessage* msg) const;
  std::string stall_reason(int first_packet_timeout_ms) const;
  void reset_run_state();
  bool is_rtsp() const;

  static GstFlowReturn on_packet_sample(GstAppSink* sink, gpointer self);
  static GstFlowReturn on_frame_sample(GstAppSink* sink, gpointer self);
  void handle_packet(GstSample* sample);
  void handle_frame(GstSample* sample);
  WallTime wall_for(MediaTimeNs pts);
  MediaTimeNs shifted(MediaTimeNs running);

  const CameraId camera_;
  const SourceOptions options_;
  const SourceSink sink_;
  std::string url_error_;               // why options_.url does not parse (set before url_)
  const std::optional<ParsedUrl> url_;  // options_.url, parsed once

  // Touched only by the packets branch's streaming thread.
  gst::CapsPtr packet_caps_;
  std::shared_ptr<const StreamInfo> stream_;
  bool seen_keyframe_ = false;
  // The session's first packets, held until the wall map has settled (WallMap::settled), then dated by it.
  std::vector<EncodedPacket> settling_;
  bool wall_settled_ = false;

  // Shared between the two streaming threads and run().
  std::atomic<int> source_width_{0};
  std::atomic<int> source_height_{0};
  WallMap wall_map_;  // media time -> wall clock, for packets and frames alike
  std::atomic<std::int64_t> last_packet_steady_ns_{0};
  std::atomic<std::uint64_t> decoder_in_{0};
  std::uint64_t decoder_out_ = 0, decoder_lost_ = 0;  // the decoder's streaming thread only
  std::int64_t mjpeg_next_pts_ = -1;                  // the frame branch's streaming thread only (limit_mjpeg_rate)
  std::mutex shift_mu_;
  std::optional<std::int64_t> shift_ns_;  // guarded by shift_mu_; added to running time (media_epoch set)
  std::atomic<std::uint64_t> packets_{0};
  std::atomic<std::uint64_t> frame_index_{0};
  std::int64_t run_started_steady_ns_ = 0;        // run() only
  std::atomic<std::uint64_t> unit_period_ns_{0};  // the stream's frame period from its caps (0 unknown)
  AccessUnitClock unit_clock_;                    // the parser's streaming thread only (stamp_untimed_units)
};

Result<gst::ElementPtr> GstCameraSource::build(RtspTransport transport) {
  if (!url_) return make_error(ErrorCode::kInvalid, "camera URL " + url_error_);
  auto description = detail::pipeline_description(options_, *url_, false);
  if (!description) return description.error();
  GError* raw_error = nullptr;
  auto pipeline = gst::adopt(gst_parse_launch(description.value().c_str(), &raw_error));
  gst::ErrorPtr error(raw_error);
  if (!pipeline || error) {
    return make_error("cannot build the camera pipeline: " +
                      std::string(error ? error->message : "unknown gst_parse_launch failure"));
  }
  auto src = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  detail::set_source_location(src.get(), options_.url, *url_);
  if (is_rtsp() && transport != RtspTransport::kAuto) {
    gst_util_set_object_arg(G_OBJECT(src.get()), "protocols", transport == RtspTransport::kTcp ? "tcp" : "udp");
  }
  watch_source_caps(pipeline.get());
  stamp_untimed_units(pipeline.get());
  watch_codec(pipeline.get());
  if (is_http_url(*url_)) {
    limit_mjpeg_rate(pipeline.get());
  } else {
    configure_decoder(pipeline.get());
  }
  watch_decoder_output(pipeline.get());
  if (auto s = attach_sink(pipeline.get(), "packets", true); !s) return s.error();
  if (options_.decode) {
    if (auto s = attach_sink(pipeline.get(), "frames", false); !s) return s.error();
  }
  return pipeline;
}

Status GstCameraSource::attach_sink(GstElement* pipeline, const char* name, bool packets) {
  auto sink = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline), name));
  if (!sink) return make_error(fmt::format("pipeline has no appsink named {}", name));
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = packets ? &GstCameraSource::on_packet_sample : &GstCameraSource::on_frame_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, this, nullptr);
  return {};
}

// The camera's own size is known from the caps event at the tee, before any buffer reaches either branch,
// so even the first frame (which may beat the first packet to its appsink) carries it.
void GstCameraSource::watch_source_caps(GstElement* pipeline) {
  auto tee = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline), "t"));
  if (!tee) return;
  auto pad = gst::adopt(gst_element_get_static_pad(tee.get(), "sink"));
  if (!pad) return;
  gst_pad_add_probe(
      pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      [](GstPad*, GstPadProbeInfo* info, gpointer self) -> GstPadProbeReturn {
        GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
        GstCaps* caps = nullptr;
        gst_event_parse_caps(event, &caps);
        const GstStructure* s = caps ? gst_caps_get_structure(caps, 0) : nullptr;
        int width = 0, height = 0;
        if (s && gst_structure_get_int(s, "width", &width) && gst_structure_get_int(s, "height", &height)) {
          static_cast<GstCameraSource*>(self)->source_width_ = width;
          static_cast<GstCameraSource*>(self)->source_height_ = height;
        }
        int num = 0, den = 0;
        if (s && gst_structure_get_fraction(s, "framerate", &num, &den) && num > 0 && den > 0)
          static_cast<GstCameraSource*>(self)->unit_period_ns_ = gst_util_uint64_scale_int(GST_SECOND, den, num);
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);
}

// An access unit that leaves the parser with no timestamp gets one (AccessUnitClock) before the tee, so both
// branches see it: the packets (ring, clips, stall watchdog) and the decoder (frame times). Measured under CPU
// starvation with rtpjitterbuffer in slave mode: it clamped backwards-going times to the previous one, the
// parser then left every repeat untimed, and the watchdog read the untimed units as "timestamps jumped back"
// (bench/journal/2026-11-29-overload.md). Runs on the parser's streaming thread only.
void GstCameraSource::stamp_untimed_units(GstElement* pipeline) {
  auto tee = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline), "t"));
  if (!tee) return;
  auto pad = gst::adopt(gst_element_get_static_pad(tee.get(), "sink"));
  if (!pad) return;
  gst_pad_add_probe(
      pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer raw) -> GstPadProbeReturn {
        auto* self = static_cast<GstCameraSource*>(raw);
        GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        if (buffer == nullptr) return GST_PAD_PROBE_OK;
        const std::int64_t duration =
            GST_BUFFER_DURATION_IS_VALID(buffer) ? static_cast<std::int64_t>(GST_BUFFER_DURATION(buffer)) : -1;
        const std::int64_t period = static_cast<std::int64_t>(self->unit_period_ns_.load(std::memory_order_relaxed));
        if (GST_BUFFER_PTS_IS_VALID(buffer)) {
          self->unit_clock_.stamp(static_cast<std::int64_t>(GST_BUFFER_PTS(buffer)), duration, period);
          return GST_PAD_PROBE_OK;
        }
        const std::int64_t known =
            GST_BUFFER_DTS_IS_VALID(buffer) ? static_cast<std::int64_t>(GST_BUFFER_DTS(buffer)) : -1;
        const std::int64_t t = self->unit_clock_.stamp(known, duration, period);
        if (t < 0) return GST_PAD_PROBE_OK;
        buffer = gst_buffer_make_writable(buffer);
        GST_PAD_PROBE_INFO_DATA(info) = buffer;
        GST_BUFFER_PTS(buffer) = static_cast<GstClockTime>(t);
        if (!GST_BUFFER_DTS_IS_VALID(buffer)) GST_BUFFER_DTS(buffer) = static_cast<GstClockTime>(t);
        if (self->unit_clock_.stamped() == 1)
          camera_logger(self->camera_)->debug("an access unit left the parser with no timestamp; interpolated");
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);
}

// A stream Matthan cannot record or decode stops the run with an error that names the codec, instead of a
// negotiation failure deep inside parsebin. Checked where the codec is first known: the RTP caps of the
// camera's video stream (encoding-name) and the parsed stream leaving parsebin.
void GstCameraSource::watch_codec(GstElement* pipeline) {
  auto on_pad = [](GstElement* element, GstPad* pad, gpointer) {
    gst::CapsPtr caps(gst_pad_get_current_caps(pad));
    if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
    if (!caps || gst_caps_is_empty(caps.get()) || gst_caps_is_any(caps.get())) return;
    const std::string unsupported = unsupported_codec(gst_caps_get_structure(caps.get(), 0));
    if (unsupported.empty()) return;
    GError* error = g_error_new(GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND,
                                "unsupported video codec %s: Matthan records and analyses H.264 and H.265 only "
                                "(set the camera's video codec to H.264 or H.265)",
                                unsupported.c_str());
    gst_element_post_message(element, gst_message_new_error(GST_OBJECT(element), error, nullptr));
    g_error_free(error);
  };
  for (const char* name : {"src", "parse"}) {
    auto element = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline), name));
    if (element) g_signal_connect(element.get(), "pad-added", G_CALLBACK(+on_pad), nullptr);
  }
}

// `dec` is a decodebin: its decoder gets one thread (decoding is the costliest step, and the analysis
// needs few frames) and no error limit (damaged frames are counted, not fatal). The stream is already
// parsed into access units, so decodebin plugs no second parser.
void GstCameraSource::configure_decoder(GstElement* pipeline) {
  auto dec = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline), "dec"));
  if (!dec) return;
  // GstAutoplugSelectResult's values (the enum is private to decodebin): 0 try, 2 skip.
  constexpr int kTry = 0, kSkip = 2;
  g_signal_connect(dec.get(), "autoplug-select",
                   G_CALLBACK(+[](GstElement*, GstPad*, GstCaps*, GstElementFactory* factory, gpointer) -> int {
                     const gchar* klass = gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS);
                     return klass != nullptr && std::string_view(klass).find("Parser") != std::string_view::npos ? kSkip
                                                                                                                 : kTry;
                   }),
                   nullptr);
  g_signal_connect(dec.get(), "deep-element-added", G_CALLBACK(+[](GstBin*, GstBin*, GstElement* element, gpointer) {
                     GstElementFactory* factory = gst_element_get_factory(element);
                     const gchar* name = factory ? gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(factory)) : nullptr;
                     if (name == nullptr || std::string_view(name).rfind("avdec_", 0) != 0) return;
                     g_object_set(element, "max-threads", 1, "max-errors", -1, nullptr);
                   }),
                   nullptr);
}

// MJPEG: every picture stands alone, so those beyond detect.fps are dropped before they are decoded (the
// recorded branch keeps them all). Runs on the frame branch's streaming thread only.
void GstCameraSource::limit_mjpeg_rate(GstElement* pipeline) {
  auto dec = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline), "dec"));
  if (!dec) return;
  auto in = gst::adopt(gst_element_get_static_pad(dec.get(), "sink"));
  if (!in) return;
  gst_pad_add_probe(
      in.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer raw) -> GstPadProbeReturn {
        auto* self = static_cast<GstCameraSource*>(raw);
        const GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        if (buffer == nullptr || !GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
        const auto pts = static_cast<std::int64_t>(GST_BUFFER_PTS(buffer));
        const std::int64_t period = kNsPerSecond / std::max(self->options_.fps, 1);
        // A quarter period of slack: pictures that arrive a little early on a jittery link still count.
        if (self->mjpeg_next_pts_ >= 0 && pts + period / 4 < self->mjpeg_next_pts_) return GST_PAD_PROBE_DROP;
        self->mjpeg_next_pts_ = std::max(self->mjpeg_next_pts_ + period, pts);
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);
}

// A damaged access unit either comes out of the decoder flagged as concealed, or does not come out at all
// ("no frame!"). Both count as decode errors; a frame or two in flight inside the decoder does not.
void GstCameraSource::watch_decoder_output(GstElement* pipeline) {
  auto dec = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline), "dec"));
  auto rate = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline), "rate"));
  if (!dec || !rate) return;
  // decodebin's source pads come and go with the stream, so what it outputs is counted where it arrives.
  auto in = gst::adopt(gst_element_get_static_pad(dec.get(), "sink"));
  auto out = gst::adopt(gst_element_get_static_pad(rate.get(), "sink"));
  if (!in || !out) return;
  // keyframes_only: a delta unit never reaches the decoder (IDR frames decode on their own; the
  // decoder's `skip-frame` property has no effect on H.264 in GStreamer 1.22), and is not counted as
  // decoder input, so the lost-frame check below is unaffected.
  gst_pad_add_probe(
      in.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer self) -> GstPadProbeReturn {
        auto* source = static_cast<GstCameraSource*>(self);
        GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        if (source->options_.keyframes_only && buffer != nullptr &&
            GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
          return GST_PAD_PROBE_DROP;
        }
        source->decoder_in_.fetch_add(1, std::memory_order_relaxed);
        if (source->sink_.on_decoder_input) source->sink_.on_decoder_input();
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);
  gst_pad_add_probe(
      out.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer self) -> GstPadProbeReturn {
        static_cast<GstCameraSource*>(self)->on_decoded(GST_PAD_PROBE_INFO_BUFFER(info));
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);
}

// Decoder streaming thread only (decoder_lost_ and decoder_out_ are touched nowhere else).
void GstCameraSource::on_decoded(GstBuffer* buffer) {
  constexpr std::uint64_t kInFlight = 2;
  const std::uint64_t out = ++decoder_out_;
  std::uint64_t errors = 0;
  if (buffer != nullptr && GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_CORRUPTED)) ++errors;
  const std::uint64_t in = decoder_in_.load(std::memory_order_relaxed);
  if (in > out + kInFlight && in - out - kInFlight > decoder_lost_) {
    errors += in - out - kInFlight - decoder_lost_;
    decoder_lost_ = in - out - kInFlight;
  }
  for (std::uint64_t i = 0; i < errors && sink_.on_decode_error; ++i) sink_.on_decode_error();
}

void GstCameraSource::reset_run_state() {
  packet_caps_.reset();
  stream_.reset();
  seen_keyframe_ = false;
  settling_.clear();
  wall_settled_ = false;
  wall_map_.reset();
  {
    std::lock_guard lock(shift_mu_);
    shift_ns_.reset();
  }
  packets_ = 0;
  unit_period_ns_ = 0;
  unit_clock_.reset();
  decoder_in_ = 0;
  decoder_out_ = 0;
  decoder_lost_ = 0;
  mjpeg_next_pts_ = -1;
  run_started_steady_ns_ = steady_now_ns();
  last_packet_steady_ns_ = run_started_steady_ns_;
}

bool GstCameraSource::is_rtsp() const {
  return url_ && is_rtsp_url(*url_);
}

Status GstCameraSource::run(std::stop_token stop) {
  ensure_gstreamer_initialized();
  if (!is_rtsp() || options_.transport != RtspTransport::kAuto) return run_once(stop, options_.transport, 0);
  // auto: TCP first; when it fails or stays silent before any video, the same run tries UDP. A refusal that
  // another transport cannot fix (401, 404) ends the run at once.
  Status tcp = run_once(stop, RtspTransport::kTcp, options_.auto_tcp_timeout_ms);
  // Nothing listening, or nothing answering, is not a transport question either.
  if (tcp.ok() || stop.stop_requested() || packets_.load() > 0 || !another_transport_may_help(tcp.error().code)) {
    return tcp;
  }
  camera_logger(camera_)->info("TCP gave no video ({}); trying UDP", tcp.error().message);
  return run_once(stop, RtspTransport::kUdp, 0);
}

Status GstCameraSource::run_once(const std::stop_token& stop, RtspTransport transport, int first_packet_timeout_ms) {
  reset_run_state();
  auto built = build(transport);
  if (!built) return built.error();
  gst::PipelineGuard pipeline(std::move(built).value());
  camera_logger(camera_)->debug("starting pipeline ({}): {}", to_string(transport),
                                redact_credentials(describe_pipeline(options_), options_.url));
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The reason is usually on the bus already; prefer it over a generic message.
    auto bus = gst::adopt(gst_element_get_bus(pipeline.get()));
    auto msg = gst::adopt_mini(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    if (msg) return error_from(msg.get());
    return make_error("the camera pipeline refused to start");
  }
  return watch(pipeline.get(), stop, first_packet_timeout_ms);
}

Status GstCameraSource::watch(GstElement* pipeline, const std::stop_token& stop, int first_packet_timeout_ms) {
  auto bus = gst::adopt(gst_element_get_bus(pipeline));
  const auto filter = static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_WARNING);
  while (!stop.stop_requested()) {
    const auto timeout = static_cast<GstClockTime>(std::chrono::nanoseconds(kBusPoll).count());
    auto msg = gst::adopt_mini(gst_bus_timed_pop_filtered(bus.get(), timeout, filter));
    if (msg) {
      switch (GST_MESSAGE_TYPE(msg.get())) {
        case GST_MESSAGE_ERROR:
          return error_from(msg.get());
        case GST_MESSAGE_EOS:
          return make_error("stream ended");
        case GST_MESSAGE_WARNING:
          on_warning(msg.get());
          break;
        default:
          break;
      }
    }
    if (auto reason = stall_reason(first_packet_timeout_ms); !reason.empty())
      return make_error(ErrorCode::kTimeout, reason);
    if (sink_.watchdog) {
      if (auto reason = sink_.watchdog(); !reason.empty()) return make_error(ErrorCode::kTimeout, reason);
    }
  }
  return {};
}

// Decoder warnings are damaged frames (the decoder conceals and goes on): counted, not logged one by one.
// The decoder sits inside `dec` (a decodebin), so the message's source or one of its parents is `dec`.
void GstCameraSource::on_warning(GstMessage* msg) {
  if (from_decoder(msg)) {
    if (sink_.on_decode_error) sink_.on_decode_error();
    return;
  }
  GError* raw = nullptr;
  gst_message_parse_warning(msg, &raw, nullptr);
  gst::ErrorPtr warning(raw);
  camera_logger(camera_)->warn("gstreamer: {}", redact_credentials(warning ? warning->message : "", options_.url));
}

std::string GstCameraSource::stall_reason(int first_packet_timeout_ms) const {
  const int ms =
      packets_.load() == 0 && first_packet_timeout_ms > 0 ? first_packet_timeout_ms : options_.stall_timeout_ms;
  if (ms <= 0) return {};
  const std::int64_t limit = std::int64_t{ms} * 1'000'000;
  if (steady_now_ns() - last_packet_steady_ns_.load() < limit) return {};
  const double seconds = ms / 1000.0;
  return packets_.load() == 0 ? fmt::format("no video received within {:.1f} s of connecting", seconds)
                              : fmt::format("stream stalled: no video for {:.1f} s", seconds);
}

Status GstCameraSource::error_from(GstMessage* msg) const {
  const detail::GstBusError bus = detail::read_bus_error(msg);
  // The two refusals an operator must fix by hand get a plain reason; the retry policy reads the code.
  if (bus.code == ErrorCode::kUnauthorized)
    return make_error(bus.code, "unauthorized (401): the camera refused the user name or password");
  if (bus.code == ErrorCode::kNotFound)
    return make_error(bus.code, "not found (404): the camera has no stream at this path");
  // rtspsrc's own connect failure ("Failed to connect. (Generic error)") names no socket error: the camera
  // could not be reached, whatever the transport.
  ErrorCode code = bus.code;
  if (code != ErrorCode::kRefused && bus.text.find("Failed to connect") != std::string::npos)
    code = ErrorCode::kUnreachable;
  const char* element = GST_MESSAGE_SRC_NAME(msg);
  return make_error(code,
                    redact_credentials(fmt::format("{}: {}", element ? element : "pipeline", bus.text), options_.url));
}

GstFlowReturn GstCameraSource::on_packet_sample(GstAppSink* sink, gpointer self) {
  auto sample = gst::adopt_mini(gst_app_sink_pull_sample(sink));
  if (sample) static_cast<GstCameraSource*>(self)->handle_packet(sample.get());
  return GST_FLOW_OK;
}

GstFlowReturn GstCameraSource::on_frame_sample(GstAppSink* sink, gpointer self) {
  auto sample = gst::adopt_mini(gst_app_sink_pull_sample(sink));
  if (sample) static_cast<GstCameraSource*>(self)->handle_frame(sample.get());
  return GST_FLOW_OK;
}

void GstCameraSource::handle_packet(GstSample* sample) {
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstCaps* caps = gst_sample_get_caps(sample);
  if (buffer == nullptr || caps == nullptr) return;
  const WallTime arrival = std::chrono::system_clock::now();
  last_packet_steady_ns_ = steady_now_ns();
  if (packets_.fetch_add(1) == 0 && sink_.on_connected) sink_.on_connected();
  // Stream info is rebuilt only when the caps change, so consumers can compare pointers cheaply.
  if (!packet_caps_ || !gst_caps_is_equal(packet_caps_.get(), caps)) {
    packet_caps_ = gst::share_mini(caps);
    stream_ = stream_info_from_caps(caps);
    source_width_ = stream_->width;
    source_height_ = stream_->height;
  }
  EncodedPacket packet;
  auto data = std::make_shared<std::vector<std::uint8_t>>(gst_buffer_get_size(buffer));
  gst_buffer_extract(buffer, 0, data->data(), data->size());
  packet.data = std::move(data);
  packet.stream = stream_;
  const MediaTimeNs pts = running_time(sample, GST_BUFFER_PTS(buffer));
  const MediaTimeNs dts = running_time(sample, GST_BUFFER_DTS(buffer));
  packet.pts = shifted(pts >= 0 ? pts : dts);
  packet.dts = shifted(dts >= 0 ? dts : (pts >= 0 ? pts : dts));
  packet.duration = GST_BUFFER_DURATION_IS_VALID(buffer) ? static_cast<MediaTimeNs>(GST_BUFFER_DURATION(buffer)) : 0;
  packet.keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  // Only a unit ahead of any timed one can still be untimed here (stamp_untimed_units): nothing can place it.
  if (packet.pts < 0) {
    if (sink_.on_untimed_packet) sink_.on_untimed_packet();
    return;
  }
  // Joining a shared or live stream mid-GOP: what comes before the first keyframe cannot be decoded
  // or recorded, so the first packet handed out is always a keyframe.
  if (!seen_keyframe_) {
    if (!packet.keyframe) return;
    seen_keyframe_ = true;
  }
  wall_map_.observe(wall_ns(arrival), packet.pts);
  if (!wall_settled_) {
    // The first second of a session can arrive as a burst (a camera's or a relay's buffered GOP): held until
    // the map has seen it, so a clip that opens on these packets is dated as the frames' incidents are.
    settling_.push_back(std::move(packet));
    if (!wall_map_.settled(wall_ns(arrival))) return;
    wall_settled_ = true;
    for (EncodedPacket& held : settling_) {
      held.wall = wall_for(held.pts);
      if (sink_.on_packet) sink_.on_packet(std::move(held));
    }
    settling_.clear();
    return;
  }
  packet.wall = wall_for(packet.pts);
  if (sink_.on_packet) sink_.on_packet(std::move(packet));
}

// Running time -> the camera's media time. The first buffer of a run (packet or frame) fixes the shift.
MediaTimeNs GstCameraSource::shifted(MediaTimeNs running) {
  if (!options_.media_epoch || running < 0) return running;
  std::lock_guard lock(shift_mu_);
  if (!shift_ns_) {
    const auto since_epoch =
        std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - *options_.media_epoch).count();
    shift_ns_ = since_epoch - running;
  }
  return running + *shift_ns_;
}

// Packets and frames share one map, so a frame and its packets agree (a frame decoded before any packet was
// seen takes its own decode time as the arrival).
WallTime GstCameraSource::wall_for(MediaTimeNs pts) {
  const std::int64_t ns = wall_map_.wall_ns_or_observe(wall_ns(std::chrono::system_clock::now()), pts);
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(ns)));
}

void GstCameraSource::handle_frame(GstSample* sample) {
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstCaps* caps = gst_sample_get_caps(sample);
  GstVideoInfo info;
  if (buffer == nullptr || caps == nullptr || !gst_video_info_from_caps(&info, caps)) return;
  auto mapped = std::make_shared<MappedFrame>();
  mapped->sample = gst::share_mini(sample);
  if (!gst_video_frame_map(&mapped->frame, &info, buffer, GST_MAP_READ)) return;
  mapped->mapped = true;

  Frame frame;
  frame.camera = camera_;
  frame.format = GST_VIDEO_INFO_FORMAT(&info) == GST_VIDEO_FORMAT_GRAY8 ? PixelFormat::kGray8 : PixelFormat::kI420;
  frame.width = GST_VIDEO_INFO_WIDTH(&info);
  frame.height = GST_VIDEO_INFO_HEIGHT(&info);
  const guint planes = GST_VIDEO_FRAME_N_PLANES(&mapped->frame);
  for (guint i = 0; i < planes && i < frame.plane.size(); ++i) {
    frame.plane[i] = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&mapped->frame, i));
    frame.stride[i] = GST_VIDEO_FRAME_PLANE_STRIDE(&mapped->frame, i);
  }
  frame.source_width = source_width_.load();
  frame.source_height = source_height_.load();
  const MediaTimeNs pts = running_time(sample, GST_BUFFER_PTS(buffer));
  frame.pts = shifted(pts >= 0 ? pts : 0);
  frame.wall = wall_for(frame.pts);
  frame.index = frame_index_.fetch_add(1);
  frame.owner = std::shared_ptr<const void>(std::move(mapped));
  if (sink_.on_frame) sink_.on_frame(std::move(frame));
}

}  // namespace

std::unique_ptr<CameraSource> make_gst_source(CameraId camera, SourceOptions options, SourceSink sink) {
  return std::make_unique<GstCameraSource>(std::move(camera), std::move(options), std::move(sink));
}

}  // namespace matthan
