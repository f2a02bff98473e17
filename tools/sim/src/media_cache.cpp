// One-off transcoding of files into H.264 or H.265 in a cache, so the live loop only ever remuxes.
#include "media_cache.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <system_error>

#include "access_unit_reader.hpp"
#include "matthan/ingest/gst_ptr.hpp"
#include "matthan/ingest/gst_source.hpp"

namespace matthan {
namespace {

Status run_to_eos(GstElement* pipeline, const std::filesystem::path& source) {
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return make_error(fmt::format("cannot start transcoding {}", source.string()));
  auto bus = gst::adopt(gst_element_get_bus(pipeline));
  const auto filter = static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  auto msg = gst::adopt_mini(gst_bus_timed_pop_filtered(bus.get(), GST_CLOCK_TIME_NONE, filter));
  Status result;
  if (msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
    GError* raw = nullptr;
    gst_message_parse_error(msg.get(), &raw, nullptr);
    gst::ErrorPtr error(raw);
    result = make_error(fmt::format("transcoding {} failed: {}", source.string(), error ? error->message : "?"));
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return result;
}

const char* codec_name(SimCodec codec) {
  return codec == SimCodec::kH265 ? "H.265" : "H.264";
}

Status transcode(const std::filesystem::path& source, const std::filesystem::path& target, int fps, SimCodec codec) {
  ensure_gstreamer_initialized();
  const int key_int = std::max(2, 2 * fps);
  // H.265 goes into MP4 as hvc1 (parameter sets in the hvcC record), the form ClipWriter and browsers use.
  const std::string encoder =
      codec == SimCodec::kH265
          ? fmt::format(
                "x265enc key-int-max={} speed-preset=ultrafast option-string=\"bframes=0\" ! h265parse "
                "! video/x-h265,stream-format=hvc1,alignment=au",
                key_int)
          : fmt::format("x264enc key-int-max={} bframes=0 speed-preset=veryfast ! h264parse", key_int);
  const std::string description = fmt::format(
      "filesrc name=in ! decodebin ! videoconvert ! video/x-raw,format=I420 ! {} ! mp4mux ! filesink name=out",
      encoder);
  GError* raw = nullptr;
  auto pipeline = gst::adopt(gst_parse_launch(description.c_str(), &raw));
  gst::ErrorPtr error(raw);
  if (!pipeline || error)
    return make_error(fmt::format("cannot build the transcoder: {}", error ? error->message : "?"));
  auto in = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "in"));
  auto out = gst::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  g_object_set(in.get(), "location", source.c_str(), nullptr);
  g_object_set(out.get(), "location", target.c_str(), nullptr);
  return run_to_eos(pipeline.get(), source);
}

}  // namespace

std::filesystem::path cached_transcode_path(const std::filesystem::path& source, const std::filesystem::path& cache_dir,
                                            SimCodec codec) {
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(source, ec);
  const auto size = std::filesystem::file_size(source, ec);
  const auto mtime = std::filesystem::last_write_time(source, ec).time_since_epoch().count();
  const std::string key = fmt::format("{}|{}|{}", absolute.string(), size, mtime);
  const auto hash = std::hash<std::string>{}(key);
  // H.264 copies keep their historical names, so caches made before H.265 stay valid.
  return cache_dir /
         fmt::format("{}-{:016x}{}.mp4", source.stem().string(), hash, codec == SimCodec::kH265 ? "-h265" : "");
}

Result<std::filesystem::path> servable_file(const std::filesystem::path& source, const std::filesystem::path& cache_dir,
                                            SimCodec codec) {
  auto info = probe_video_file(source);
  if (!info) return info.error();
  auto fits = [codec](const VideoFileInfo& i) { return i.servable && i.codec == codec; };
  if (fits(info.value())) return source;
  const auto target = cached_transcode_path(source, cache_dir, codec);
  std::error_code ec;
  if (std::filesystem::exists(target, ec)) {
    if (auto cached = probe_video_file(target); cached && fits(cached.value())) return target;
    spdlog::warn("sim: cached copy {} is unreadable; transcoding again", target.string());
  }
  std::filesystem::create_directories(cache_dir, ec);
  if (ec) return make_error(fmt::format("cannot create cache directory {}: {}", cache_dir.string(), ec.message()));
  const int fps =
      info.value().fps_num > 0 ? (info.value().fps_num + info.value().fps_den / 2) / info.value().fps_den : 10;
  const auto temp = target.string() + fmt::format(".tmp-{}", ::getpid());
  spdlog::info("sim: transcoding {} to {} (once; cached at {})", source.string(), codec_name(codec), target.string());
  const auto started = std::chrono::steady_clock::now();
  if (auto s = transcode(source, temp, fps, codec); !s) {
    std::filesystem::remove(temp, ec);
    return s.error();
  }
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return make_error(fmt::format("cannot move the transcoded file into {}: {}", target.string(), ec.message()));
  }
  spdlog::info("sim: transcoded {} in {:.1f} s", source.filename().string(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return target;
}

}  // namespace matthan
