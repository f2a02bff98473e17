// Incident event encoding (nlohmann, ordered keys) and JSON Schema validation (rapidjson, draft 04).
#include "matthan/events/event_json.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "matthan/core/time.hpp"

namespace matthan {
namespace {

using Json = nlohmann::ordered_json;

// Four decimals is a tenth of a pixel on a 1080p frame: enough, and keeps messages short.
double unit_value(double v, int decimals = 4) {
  if (!std::isfinite(v)) return 0;
  const double scale = std::pow(10.0, decimals);
  return std::round(std::clamp(v, 0.0, 1.0) * scale) / scale;
}

Json box_json(const Box& b) {
  const double x = unit_value(b.x);
  const double y = unit_value(b.y);
  // Keep the box inside the frame even if the caller's box spills over an edge.
  return Json::array(
      {x, y, std::min(unit_value(b.w), unit_value(1.0 - x)), std::min(unit_value(b.h), unit_value(1.0 - y))});
}

// Unique names in first-seen order, at most the schema's 64: zone names come from config.
Json zones_json(const std::vector<std::string>& zones) {
  Json out = Json::array();
  for (const auto& z : zones) {
    if (z.empty() || out.size() >= 64 || std::find(out.begin(), out.end(), z) != out.end()) continue;
    out.push_back(z.substr(0, 64));
  }
  return out;
}

Json clip_json(const ClipRef& clip) {
  const double duration = std::isfinite(clip.duration_s) ? std::clamp(clip.duration_s, 0.0, 86400.0) : 0.0;
  return Json{{"path", clip.path},
              {"start", format_iso8601(clip.start)},
              {"end", format_iso8601(clip.end)},
              {"duration_s", std::round(duration * 1000.0) / 1000.0}};
}

std::string pointer_text(const rapidjson::Pointer& p) {
  rapidjson::StringBuffer sb;
  p.Stringify(sb);
  return sb.GetSize() == 0 ? std::string("/") : std::string(sb.GetString(), sb.GetSize());
}

// rapidjson 1.1 names the failing keyword and the object, but not which required field is absent;
// work that out from the schema and the document so the error names the field.
std::string missing_required(const rapidjson::Value* schema, const rapidjson::Value* doc) {
  if (!schema || !doc || !schema->IsObject() || !doc->IsObject() || !schema->HasMember("required")) return {};
  const rapidjson::Value& required = (*schema)["required"];
  if (!required.IsArray()) return {};
  std::string names;
  for (const auto& name : required.GetArray()) {
    if (name.IsString() && !doc->HasMember(name))
      names += fmt::format("{}'{}'", names.empty() ? "" : ", ", name.GetString());
  }
  return names.empty() ? std::string() : ": missing " + names;
}

}  // namespace

std::string incident_topic(const CameraId& camera, IncidentPhase phase) {
  return fmt::format("incident.{}.{}", camera, to_string(phase));
}

std::string incident_event_json(const Incident& incident, IncidentPhase phase, std::uint64_t seq,
                                const std::string& node, const std::string& snapshot,
                                const std::optional<ClipRef>& clip, const std::string& clip_error) {
  const bool end = phase == IncidentPhase::kEnd;
  Json j;
  j["schema"] = kIncidentSchemaId;
  j["phase"] = to_string(phase);
  j["seq"] = seq;
  j["id"] = incident.id;
  j["node"] = node;
  j["camera"] = incident.camera;
  j["kind"] = std::string(to_string(incident.kind));
  j["label"] = incident.label ? Json(*incident.label) : Json(nullptr);
  j["score"] = unit_value(incident.score, 3);
  j["box"] = box_json(incident.box);
  j["track"] = incident.track && *incident.track > 0 ? Json(*incident.track) : Json(nullptr);
  j["zones"] = zones_json(incident.zones);
  if (incident.rule) {
    Json rule{{"kind", incident.rule->kind}};
    if (!incident.rule->zone.empty()) rule["zone"] = incident.rule->zone.substr(0, 64);
    if (!incident.rule->line.empty()) rule["line"] = incident.rule->line.substr(0, 64);
    j["rule"] = std::move(rule);
  }
  j["started_at"] = format_iso8601(incident.started_at);
  j["ended_at"] = end && incident.ended_at ? Json(format_iso8601(*incident.ended_at)) : Json(nullptr);
  if (end) j["end_reason"] = incident.end_reason;
  j["snapshot"] = snapshot.empty() ? Json(nullptr) : Json(snapshot);
  j["clip"] = end && clip ? clip_json(*clip) : Json(nullptr);
  // An end must still go out when its clip could not be written (disk full, no keyframe): say why.
  if (end && !clip) j["clip_error"] = clip_error.empty() ? std::string("no clip was recorded") : clip_error;
  // Replace invalid UTF-8 rather than throw: ids and labels come from config and models.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

struct JsonSchemaValidator::Impl {
  rapidjson::Document source;  // kept alive for the schema document built from it
  std::unique_ptr<rapidjson::SchemaDocument> schema;
};

Result<JsonSchemaValidator> JsonSchemaValidator::from_string(const std::string& schema_json) {
  auto impl = std::make_shared<Impl>();
  impl->source.Parse(schema_json.c_str(), schema_json.size());
  if (impl->source.HasParseError()) {
    return make_error(fmt::format("the schema is not valid JSON: {} at offset {}",
                                  rapidjson::GetParseError_En(impl->source.GetParseError()),
                                  impl->source.GetErrorOffset()));
  }
  if (!impl->source.IsObject()) return make_error("the schema is not a JSON object");
  impl->schema = std::make_unique<rapidjson::SchemaDocument>(impl->source);
  return JsonSchemaValidator(std::move(impl));
}

Result<JsonSchemaValidator> JsonSchemaValidator::from_file(const std::filesystem::path& schema_path) {
  std::ifstream in(schema_path, std::ios::binary);
  if (!in) return make_error(fmt::format("cannot read schema {}: {}", schema_path.string(), std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  auto v = from_string(text.str());
  if (!v) return make_error(fmt::format("{}: {}", schema_path.string(), v.error().message));
  return v;
}

Status JsonSchemaValidator::validate(const std::string& json) const {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError()) {
    return make_error(fmt::format("not valid JSON: {} at offset {}", rapidjson::GetParseError_En(doc.GetParseError()),
                                  doc.GetErrorOffset()));
  }
  rapidjson::SchemaValidator validator(*impl_->schema);
  if (doc.Accept(validator)) return {};
  const std::string keyword = validator.GetInvalidSchemaKeyword();
  const rapidjson::Pointer doc_ptr = validator.GetInvalidDocumentPointer();
  const rapidjson::Pointer schema_ptr = validator.GetInvalidSchemaPointer();
  std::string message =
      fmt::format("'{}' failed at document {} (schema #{})", keyword, pointer_text(doc_ptr), pointer_text(schema_ptr));
  if (keyword == "required") message += missing_required(schema_ptr.Get(impl_->source), doc_ptr.Get(doc));
  if (keyword == "oneOf" && doc_ptr.GetTokenCount() == 0) {
    message +=
        ": phase and end fields disagree (end needs ended_at, end_reason and clip; start and update "
        "need ended_at and clip null and no end_reason)";
  }
  return make_error(std::move(message));
}

}  // namespace matthan
