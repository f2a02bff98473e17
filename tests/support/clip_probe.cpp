// ffprobe/ffmpeg wrappers for clip checks in tests.
#include "matthan/test/clip_probe.hpp"

#include <nlohmann/json.hpp>

#include "matthan/test/process.hpp"

namespace matthan::test {

ClipProbe probe_clip(const std::filesystem::path& path) {
  ClipProbe p;
  auto [rc, out] = run_command({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                "format=duration:stream=codec_name,codec_tag_string,width,height:packet=flags", "-of",
                                "json", path.string()});
  // ffprobe prints its errors before the JSON; keep them and parse from the first brace.
  const auto brace = out.find('{');
  p.errors = out.substr(0, brace == std::string::npos ? out.size() : brace);
  if (rc != 0 || brace == std::string::npos) return p;
  const auto j = nlohmann::json::parse(out.substr(brace), nullptr, false);
  if (j.is_discarded()) return p;
  p.opened = true;
  if (j.contains("format") && j["format"].contains("duration"))
    p.duration_s = std::stod(j["format"]["duration"].get<std::string>());
  if (j.contains("streams") && !j["streams"].empty()) {
    p.codec = j["streams"][0].value("codec_name", "");
    p.codec_tag = j["streams"][0].value("codec_tag_string", "");
    p.width = j["streams"][0].value("width", 0);
    p.height = j["streams"][0].value("height", 0);
  }
  if (j.contains("packets")) {
    p.video_packets = static_cast<int>(j["packets"].size());
    if (p.video_packets > 0)
      p.first_packet_keyframe = j["packets"][0].value("flags", "").find('K') != std::string::npos;
  }
  // Passthrough timing: judge the file's own timestamps, not ffmpeg's retiming to a constant output rate
  // (which complains "non monotonically increasing dts" about its own output when the input jitters by a tick).
  auto [drc, dout] = run_command({"ffmpeg", "-v", "error", "-i", path.string(), "-fps_mode", "passthrough",
                                  "-enc_time_base", "-1", "-f", "null", "-"});
  p.decodes_cleanly = drc == 0 && dout.empty();
  p.errors += dout;
  auto [frc, fout] = run_command({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                  "frame=width,height", "-of", "csv=p=0", path.string()});
  const std::string declared = std::to_string(p.width) + "," + std::to_string(p.height);
  std::size_t frames = 0, matching = 0, start = 0;
  for (std::size_t nl; (nl = fout.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = fout.substr(start, nl - start);
    while (!line.empty() && (line.back() == ',' || line.back() == '\r')) line.pop_back();
    if (line.empty()) continue;
    ++frames;
    if (line == declared) ++matching;
  }
  p.one_size = frc == 0 && frames > 0 && frames == matching;
  return p;
}

}  // namespace matthan::test
