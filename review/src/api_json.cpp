// Builds the API's JSON from index records; times go out as ISO-8601 and as epoch milliseconds (the
// page formats the latter in the node's time zone).
#include "api_json.hpp"

#include "http_util.hpp"
#include "matthan/core/time.hpp"

namespace matthan::review_detail {

using nlohmann::json;

namespace {

json time_or_null(const std::optional<WallTime>& t) {
  return t ? json(format_iso8601(*t)) : json(nullptr);
}
json ms_or_null(const std::optional<WallTime>& t) {
  return t ? json(to_ms(*t)) : json(nullptr);
}

json clip_json(const IncidentView& v) {
  if (!v.clip) return nullptr;
  const ClipRecord& c = *v.clip;
  const std::string base = "/api/incidents/" + v.incident.id;
  return json{{"url", base + "/clip.mp4"},
              {"state", to_string(c.state)},
              {"duration_s", c.duration_s},
              {"bytes", c.bytes},
              {"sha256", c.sha256},
              {"offset_s", v.incident.clip_offset_s},
              {"start", format_iso8601(c.start)},
              {"end", format_iso8601(c.end)}};
}

bool has_snapshot(const IncidentView& v) {
  if (v.snapshot) return v.snapshot->state == "present" && !v.snapshot->path.empty();
  return !v.incident.snapshot.empty();
}

}  // namespace

json review_json(const ReviewRecord& r) {
  return json{{"state", r.state},
              {"evidence", r.evidence},
              {"note", r.note},
              {"by", r.updated_by.empty() ? json(nullptr) : json(r.updated_by)},
              {"at", time_or_null(r.updated_at)},
              {"at_ms", ms_or_null(r.updated_at)}};
}

json incident_json(const IncidentView& v, const CameraNames& names) {
  const IncidentRecord& i = v.incident;
  const auto name = names.find(i.camera);
  json duration = nullptr;
  if (i.ended_at) duration = std::chrono::duration<double>(*i.ended_at - i.started_at).count();
  return json{{"id", i.id},
              {"camera", i.camera},
              {"camera_name", name == names.end() ? i.camera : name->second},
              {"kind", i.kind},
              {"label", i.label ? json(*i.label) : json(nullptr)},
              {"score", i.score},
              {"box", json::array({i.box.x, i.box.y, i.box.w, i.box.h})},
              {"started_at", format_iso8601(i.started_at)},
              {"started_at_ms", to_ms(i.started_at)},
              {"ended_at", time_or_null(i.ended_at)},
              {"ended_at_ms", ms_or_null(i.ended_at)},
              {"duration_s", duration},
              {"snapshot_url", has_snapshot(v) ? json("/api/incidents/" + i.id + "/snapshot.jpg") : json(nullptr)},
              {"clip", clip_json(v)},
              {"review", review_json(v.review)}};
}

std::string visible_payload(const std::string& topic, const std::string& payload, bool details) {
  if (details || topic.rfind("health.", 0) != 0) return payload;
  // Ordered, so that what goes out differs from what was published only in the reason.
  auto j = nlohmann::ordered_json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return payload;
  if (!j.contains("reason") || j["reason"].is_null()) return payload;
  j["reason"] = nullptr;
  return j.dump();
}

json event_json(const EventRecord& e, bool details) {
  json payload = json::parse(visible_payload(e.topic, e.payload, details), nullptr, false);
  if (payload.is_discarded()) payload = e.payload;
  return json{{"seq", e.seq}, {"topic", e.topic}, {"at", format_iso8601(e.at)}, {"payload", std::move(payload)}};
}

json camera_json(const CameraStatus& c, bool has_snapshot, bool details) {
  json j{{"id", c.id},
         {"name", c.name},
         {"state", c.state},
         {"online", c.state == "streaming"},
         {"tampered", c.tampered},
         {"fps", c.fps},
         {"last_frame_age_s", c.last_frame_age_s ? json(*c.last_frame_age_s) : json(nullptr)},
         {"reconnects", c.reconnects},
         {"global_changes", c.global_changes},
         {"snapshot_url", has_snapshot ? json("/api/cameras/" + c.id + "/snapshot.jpg") : json(nullptr)}};
  // A camera with a detect_url: the substream is analysed on its own and can be down while the recording
  // stream is up (the camera then records but raises no incident).
  j["detect_stream"] = c.detect_stream
                           ? json{{"state", c.detect_stream->state}, {"online", c.detect_stream->state == "streaming"}}
                           : json(nullptr);
  if (details) {
    j["details"] = json{{"reason", c.reason}, {"frames", c.frames}, {"packets", c.packets}};
    if (c.detect_stream) j["details"]["detect_reason"] = c.detect_stream->reason;
  }
  return j;
}

std::string error_body(const std::string& message) {
  return json{{"error", message}}.dump();
}

}  // namespace matthan::review_detail
