// JSON shapes of the review API (docs/api.md): incidents, reviews, events, cameras.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "matthan/review/live.hpp"
#include "matthan/storage/index.hpp"

namespace matthan::review_detail {

using CameraNames = std::map<std::string, std::string>;

nlohmann::json review_json(const ReviewRecord& r);
nlohmann::json incident_json(const IncidentView& v, const CameraNames& names);
// A published event's payload as the caller may see it: a camera's failure reason (health events of either
// stream) can name addresses, paths and a device's own error text, so like /api/cameras' details it is for
// admins only (`details`); others get "reason": null. Every other event, and admins, get the payload as is.
std::string visible_payload(const std::string& topic, const std::string& payload, bool details);
nlohmann::json event_json(const EventRecord& e, bool details);
nlohmann::json camera_json(const CameraStatus& c, bool has_snapshot, bool details);
// {"error": message}
std::string error_body(const std::string& message);

}  // namespace matthan::review_detail
