// Engine-to-review glue (see review_wiring.hpp).
#include "review_wiring.hpp"

#include <nlohmann/json.hpp>

#include "matthan/core/url.hpp"

namespace matthan {

using nlohmann::json;

namespace {
constexpr double kRateWindowS = 2.0;  // the frame rate is re-estimated at most this often
}

std::vector<CameraStatus> EngineLiveStatus::cameras() const {
  const auto now = std::chrono::steady_clock::now();
  std::vector<CameraStatus> out;
  std::lock_guard lock(mu_);
  for (const auto& s : sample_()) {
    CameraStatus c;
    c.id = s.id;
    c.name = s.name;
    c.state = std::string(to_string(s.health.state));
    c.reason = s.health.reason;
    c.reconnects = s.health.reconnects;
    c.frames = s.health.frames;
    c.packets = s.health.packets;
    c.tampered = s.tampered;
    c.global_changes = s.global_changes;
    if (s.detect) {
      c.detect_stream = StreamStatus{std::string(to_string(s.detect->state)), s.detect->reason};
      c.frames = s.detect->frames;  // a camera with a substream analyses the substream's frames
    }
    if (s.last_frame.time_since_epoch().count() != 0)
      c.last_frame_age_s = std::chrono::duration<double>(now - s.last_frame).count();
    Rate& r = rates_[s.id];
    const double dt = std::chrono::duration<double>(now - r.at).count();
    if (r.at.time_since_epoch().count() == 0) {
      r = Rate{c.frames, now, 0};
    } else if (dt >= kRateWindowS) {
      r.fps = c.frames >= r.frames ? static_cast<double>(c.frames - r.frames) / dt : 0;
      r.frames = c.frames;
      r.at = now;
    }
    // A camera that stopped delivering has no rate, whatever the last window said.
    const std::string& analysed_state = c.detect_stream ? c.detect_stream->state : c.state;
    c.fps = analysed_state == "streaming" ? r.fps : 0;
    out.push_back(std::move(c));
  }
  return out;
}

void feed_event(EventFeed& feed, const std::string& topic, const std::string& payload) {
  const json j = json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.contains("seq") || !j["seq"].is_number_unsigned()) return;
  feed.push(FeedEvent{j["seq"].get<std::uint64_t>(), topic, payload});
}

namespace {

// detect.objects as the admin sees it: null for a motion-only camera.
json objects_json(const ObjectSettings& o) {
  if (!o.enabled) return nullptr;
  return json{{"model",
               o.model ? json(o.model->weights.filename().string()) : json("hog (built-in people detector)")},
              {"labels", o.labels},
              {"min_score", o.min_score},
              {"confirm_frames", o.confirm_frames},
              {"recheck_s", o.recheck_s},
              {"crop",
               {{"min_side", o.crop.min_side},
                {"margin", o.crop.margin},
                {"whole_frame", o.crop.whole_frame},
                {"one_pass_min_px", o.crop.one_pass_min_px}}}};
}

}  // namespace

std::string admin_config_json(const Config& config) {
  json cams = json::array();
  for (const auto& c : config.cameras) {
    cams.push_back(json{{"id", c.id},
                        {"name", c.name},
                        {"url", redact_url(c.url)},
                        {"detect",
                         {{"width", c.detect.width},
                          {"height", c.detect.height},
                          {"fps", c.detect.fps},
                          {"objects", objects_json(c.detect.objects)}}},
                        {"clip", {{"pre_roll", c.clip.pre_roll}, {"post_roll", c.clip.post_roll}, {"max_length", c.clip.max_length}}}});
    if (!c.detect_url.empty()) cams.back()["detect_url"] = redact_url(c.detect_url);
  }
  json users = json::array();
  for (const auto& u : config.review.users) users.push_back(json{{"name", u.name}, {"role", to_string(u.role)}});
  return json{{"node", config.node},
              {"storage_root", config.storage_root.string()},
              {"events_bind", config.events_bind},
              {"cameras", cams},
              {"review",
               {{"listen", config.review.listen},
                {"users", users},
                {"api_tokens", config.review.api_tokens.size()},
                {"session_ttl", config.review.session_ttl_s},
                {"time_zone", config.review.time_zone},
                {"tls", config.review.tls.enabled()}}}}
      .dump();
}

}  // namespace matthan
