// EventBus: gives every outgoing message its per-node seq, stores it in the index for replay, then
// publishes it. One mutex keeps seq order and publish order the same.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "matthan/events/event_json.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/events/publisher.hpp"
#include "matthan/storage/index.hpp"

namespace matthan {

class EventBus {
 public:
  using Listener = std::function<void(const std::string& topic, const std::string& payload)>;

  EventBus(std::string node, Index& index, EventPublisher& publisher, std::uint64_t last_seq, Listener listener);

  // Returns the seq given to the message.
  std::uint64_t publish_incident(const Incident& incident, IncidentPhase phase, const std::string& snapshot,
                                 const std::optional<ClipRef>& clip, const std::string& clip_error = {});
  // Any other message (health, heartbeat): `make` builds the payload for the seq it is given.
  std::uint64_t publish(const std::string& topic, const std::function<std::string(std::uint64_t seq)>& make);

  // Incidents announced (`start` published) so far, by camera then kind; for /metrics.
  std::map<std::string, std::map<std::string, std::uint64_t>> incidents_started() const;
  // Makes a (camera, kind) pair show from the start, at 0.
  void declare_incident_kind(const std::string& camera, const std::string& kind);

 private:
  const std::string node_;
  Index& index_;
  EventPublisher& publisher_;
  Listener listener_;
  std::mutex mu_;
  std::uint64_t last_seq_;  // guarded by mu_
  // Its own mutex: a scrape must never wait behind an index write under mu_.
  mutable std::mutex counts_mu_;
  std::map<std::string, std::map<std::string, std::uint64_t>> started_;  // guarded by counts_mu_
};

}  // namespace matthan
