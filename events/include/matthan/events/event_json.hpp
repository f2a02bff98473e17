// The incident event on the wire: topic strings, the JSON payload (schema matthan.incident/1) and a
// JSON Schema validator for it (schemas/incident.schema.json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"
#include "matthan/events/incident.hpp"

namespace matthan {

inline constexpr std::string_view kIncidentSchemaId = "matthan.incident/1";

struct ClipRef {
  std::string path;  // relative to the storage root
  WallTime start{}, end{};
  double duration_s = 0;
};

// "incident.<camera>.<start|update|end>"
std::string incident_topic(const CameraId& camera, IncidentPhase phase);

// One JSON object, keys in this order: schema, phase, seq, id, node, camera, kind, label (null for
// motion), score, box [x,y,w,h] (0..1, 4 decimals), track (tracker id; null for motion), zones (array of
// zone names, possibly empty), started_at, ended_at (ISO-8601 with offset and ms;
// null until end), end_reason (end only), snapshot (relative path; null when empty), clip (object on
// end; null otherwise). Numbers are clamped into the schema's bounds, so the output validates whenever
// the caller keeps the contract: seq >= 1, an ended_at and a clip on end.
std::string incident_event_json(const Incident& incident, IncidentPhase phase, std::uint64_t seq,
                                const std::string& node, const std::string& snapshot,
                                const std::optional<ClipRef>& clip, const std::string& clip_error = {});

// Draft-04 JSON Schema validation (rapidjson). Copyable and cheap to copy: copies share the parsed,
// immutable schema, and validate() may run on several threads at once.
class JsonSchemaValidator {
 public:
  static Result<JsonSchemaValidator> from_file(const std::filesystem::path& schema_path);
  static Result<JsonSchemaValidator> from_string(const std::string& schema_json);

  // The error names the failing keyword, where in the document (JSON pointer) and where in the schema.
  Status validate(const std::string& json) const;

 private:
  struct Impl;
  explicit JsonSchemaValidator(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace matthan
