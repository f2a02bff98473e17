// EventBus: seq assignment, storage for replay, publication.
#include "event_bus.hpp"

#include <spdlog/spdlog.h>

namespace matthan {

EventBus::EventBus(std::string node, Index& index, EventPublisher& publisher, std::uint64_t last_seq,
                   Listener listener)
    : node_(std::move(node)), index_(index), publisher_(publisher), listener_(std::move(listener)), last_seq_(last_seq) {}

std::uint64_t EventBus::publish_incident(const Incident& incident, IncidentPhase phase, const std::string& snapshot,
                                         const std::optional<ClipRef>& clip, const std::string& clip_error) {
  std::lock_guard lock(mu_);
  const std::uint64_t seq = ++last_seq_;
  const std::string topic = incident_topic(incident.camera, phase);
  const std::string payload = incident_event_json(incident, phase, seq, node_, snapshot, clip, clip_error);
  // Stored first, so that a subscriber who sees this seq can always replay it.
  if (auto st = index_.record_event(seq, topic, payload, std::chrono::system_clock::now()); !st.ok())
    spdlog::error("[{}] could not store event seq {} for replay: {}", incident.camera, seq, st.error().message);
  if (!publisher_.post(PublishedMessage{topic, payload}))
    spdlog::warn("[{}] event queue full: event seq {} was dropped from the live feed (it is in the index)",
                 incident.camera, seq);
  if (listener_) listener_(topic, payload);
  if (phase == IncidentPhase::kStart) {
    std::lock_guard counts(counts_mu_);
    ++started_[incident.camera][incident.kind];
  }
  return seq;
}

std::uint64_t EventBus::publish(const std::string& topic, const std::function<std::string(std::uint64_t)>& make) {
  std::lock_guard lock(mu_);
  const std::uint64_t seq = ++last_seq_;
  const std::string payload = make(seq);
  if (auto st = index_.record_event(seq, topic, payload, std::chrono::system_clock::now()); !st.ok())
    spdlog::error("could not store {} seq {} for replay: {}", topic, seq, st.error().message);
  if (!publisher_.post(PublishedMessage{topic, payload}))
    spdlog::warn("event queue full: {} seq {} was dropped from the live feed (it is in the index)", topic, seq);
  if (listener_) listener_(topic, payload);
  return seq;
}

std::map<std::string, std::map<std::string, std::uint64_t>> EventBus::incidents_started() const {
  std::lock_guard lock(counts_mu_);
  return started_;
}

void EventBus::declare_incident_kind(const std::string& camera, const std::string& kind) {
  std::lock_guard lock(counts_mu_);
  started_[camera].try_emplace(kind, 0);
}

}  // namespace matthan
