// Real-time feeding of looped access units into an appsrc, with running-time timestamps from its clock.
#include "stream_feeder.hpp"

#include <gst/app/gstappsrc.h>
#include <spdlog/spdlog.h>

#include <optional>

namespace matthan {
namespace {

using Steady = std::chrono::steady_clock;

// The pipeline's running time now, or nullopt before it has a clock (not yet PLAYING).
std::optional<std::int64_t> running_time_now(GstElement* element) {
  auto clock = gst::adopt(gst_element_get_clock(element));
  if (!clock) return std::nullopt;
  const GstClockTime now = gst_clock_get_time(clock.get());
  const GstClockTime base = gst_element_get_base_time(element);
  if (!GST_CLOCK_TIME_IS_VALID(now) || !GST_CLOCK_TIME_IS_VALID(base) || now < base) return std::nullopt;
  return static_cast<std::int64_t>(now - base);
}

// Only a playing pipeline's running time advances; pushing while paused would stamp buffers ahead of it.
bool is_playing(GstElement* element) {
  GstState state = GST_STATE_VOID_PENDING;
  gst_element_get_state(element, &state, nullptr, 0);
  return state == GST_STATE_PLAYING;
}

}  // namespace

gst::CapsPtr appsrc_caps(const VideoFileInfo& info) {
  auto codec_data = gst::adopt_mini(gst_buffer_new_memdup(info.codec_data.data(), info.codec_data.size()));
  const bool hevc = info.codec == SimCodec::kH265;
  gst::CapsPtr caps(gst_caps_new_simple(hevc ? "video/x-h265" : "video/x-h264", "stream-format", G_TYPE_STRING,
                                        hevc ? "hvc1" : "avc", "alignment", G_TYPE_STRING, "au", "codec_data",
                                        GST_TYPE_BUFFER, codec_data.get(), "width", G_TYPE_INT, info.width, "height",
                                        G_TYPE_INT, info.height, nullptr));
  if (info.fps_num > 0) {
    gst_caps_set_simple(caps.get(), "framerate", GST_TYPE_FRACTION, info.fps_num, info.fps_den, nullptr);
  }
  return caps;
}

StreamFeeder::StreamFeeder(std::string name, gst::ElementPtr appsrc, std::unique_ptr<AccessUnitReader> reader,
                           std::shared_ptr<const FaultSwitches> faults)
    : name_(std::move(name)), appsrc_(std::move(appsrc)), reader_(std::move(reader)), faults_(std::move(faults)) {
  thread_.start([this](std::stop_token stop) { run(stop); });
}

StreamFeeder::~StreamFeeder() {
  stop();
}

bool StreamFeeder::push(const AccessUnit& au, std::int64_t running_offset_ns) {
  auto buffer = gst::adopt_mini(gst_buffer_new_memdup(au.data.data(), au.data.size()));
  const int corrupt_every = faults_->corrupt_every();
  // Keyframes stay intact (they carry the stream's parameter sets): the damage is what a lossy link does to
  // the frames between them.
  if (corrupt_every > 0 && !au.keyframe && (pushed_ % static_cast<std::uint64_t>(corrupt_every)) == 0 &&
      au.data.size() > 8) {
    GstMapInfo map;
    if (gst_buffer_map(buffer.get(), &map, GST_MAP_WRITE)) {
      // Keep the 4-byte NAL length intact so the stream still parses, and garble the slice data.
      for (gsize i = 5; i < map.size; i += 7) map.data[i] ^= 0x5a;
      gst_buffer_unmap(buffer.get(), &map);
    }
  }
  GST_BUFFER_PTS(buffer.get()) = static_cast<GstClockTime>(running_offset_ns + au.pts_ns);
  GST_BUFFER_DTS(buffer.get()) = static_cast<GstClockTime>(running_offset_ns + au.dts_ns);
  GST_BUFFER_DURATION(buffer.get()) = static_cast<GstClockTime>(au.duration_ns);
  if (!au.keyframe) GST_BUFFER_FLAG_SET(buffer.get(), GST_BUFFER_FLAG_DELTA_UNIT);
  ++pushed_;
  const GstFlowReturn flow = gst_app_src_push_buffer(GST_APP_SRC(appsrc_.get()), buffer.release());
  return flow == GST_FLOW_OK;
}

// Time is anchored on the pipeline clock when it starts playing (and again after any pause or hold), so
// buffers carry running times close to "now" and leave at the pace of the file's own timestamps.
void StreamFeeder::run(std::stop_token stop) {
  std::optional<AccessUnit> pending;
  std::size_t file = 0;  // the playlist entry whose caps the appsrc has
  bool anchored = false;
  GstClockTime anchored_base = GST_CLOCK_TIME_NONE;
  std::int64_t running_offset = 0;  // running time = au time + running_offset
  Steady::time_point steady_zero;   // steady time of au time 0
  while (!stop.stop_requested()) {
    if (!pending) {
      auto au = reader_->next();
      if (!au) {
        spdlog::error("sim [{}]: {}", name_, au.error().message);
        return;
      }
      pending = std::move(au).value();
    }
    const auto now_rt = running_time_now(appsrc_.get());
    const GstClockTime base = gst_element_get_base_time(appsrc_.get());
    if (!now_rt || !is_playing(appsrc_.get()) || faults_->hold()) {
      anchored = false;
      if (!wait_until(stop, Steady::now() + std::chrono::milliseconds(20))) return;
      continue;
    }
    if (!anchored || base != anchored_base) {
      running_offset = *now_rt - pending->dts_ns;
      steady_zero = Steady::now() - std::chrono::nanoseconds(pending->dts_ns);
      anchored_base = base;
      anchored = true;
    }
    if (!wait_until(stop, steady_zero + std::chrono::nanoseconds(pending->dts_ns))) return;
    if (pending->file != file) {
      // The next file of the playlist: new caps in band, before its first access unit (a keyframe).
      file = pending->file;
      const VideoFileInfo& info = reader_->info(file);
      spdlog::info("sim [{}]: now {}x{}", name_, info.width, info.height);
      gst_app_src_set_caps(GST_APP_SRC(appsrc_.get()), appsrc_caps(info).get());
    }
    if (!push(*pending, running_offset)) {
      // Flushing or not yet started: wait a little and re-anchor rather than spin.
      anchored = false;
      if (!wait_until(stop, Steady::now() + std::chrono::milliseconds(20))) return;
    }
    pending.reset();
  }
}

}  // namespace matthan
