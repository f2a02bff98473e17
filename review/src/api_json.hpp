// JSON shapes of the review API (docs/api.md): incidents, reviews, events, cameras.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "matthan/review/live.hpp"
#include "matthan/storage/index.hpp"

namespace matthan::review_detail {

using CameraNames = std::map<std::string, std::string>;

nlohmann::json review_json(const ReviewRecord& r);
nlohmann::json incident_json(const IncidentView& v, const CameraNames& names);
nlohmann::json event_json(const EventRecord& e);
nlohmann::json camera_json(const CameraStatus& c, bool has_snapshot, bool details);
// {"error": message}
std::string error_body(const std::string& message);

}  // namespace matthan::review_detail
