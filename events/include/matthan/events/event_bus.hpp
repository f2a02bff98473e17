// EventBus: every message the node sends (incident, health, heartbeat, storage, config) goes through it. A poster
// hands over a topic and a payload maker and returns at once; the publisher's own thread then gives the message the
// next per-node seq, appends it to the journal (for replay), sends it on ZeroMQ and hands it to the subscribers,
// in that order, so no subscriber ever sees a seq that cannot be replayed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/events/publisher.hpp"

namespace matthan {

// Where sent events are kept for replay; the composition root implements it over the index. Called on the bus's
// thread only.
class EventJournal {
 public:
  virtual ~EventJournal() = default;
  virtual Status append(std::uint64_t seq, const std::string& topic, const std::string& payload, WallTime at) = 0;
};

struct EventBusOptions {
  std::string node;
  std::string endpoint;        // the ZeroMQ PUB endpoint (events.bind)
  std::uint64_t last_seq = 0;  // the journal's newest seq: numbering goes on from it
  std::size_t queue_capacity = 4096;
};

class EventBus {
 public:
  // Gets every message after it is journaled and sent, on the bus's thread: keep it short.
  using Subscriber = std::function<void(std::uint64_t seq, const std::string& topic, const std::string& payload)>;
  using PayloadMaker = std::function<std::string(std::uint64_t seq)>;

  // Binds the PUB socket (errors such as a port in use come back here). The journal must outlive the bus.
  static Result<std::unique_ptr<EventBus>> start(EventBusOptions options, EventJournal& journal,
                                                 std::vector<Subscriber> subscribers = {});
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Never blocks. False when the queue was full (the oldest waiting message was dropped, before it had a seq,
  // and counted) or the bus is stopped.
  bool post(std::string topic, PayloadMaker make);
  bool post_incident(const Incident& incident, IncidentPhase phase, const std::string& snapshot,
                     const std::optional<ClipRef>& clip, const std::string& clip_error = {});

  // Sends what is queued, then stops; idempotent.
  void stop();

  const std::string& node() const { return node_; }
  std::string endpoint() const { return publisher_->endpoint(); }
  std::uint64_t sent() const { return publisher_->sent(); }
  std::uint64_t dropped() const { return publisher_->dropped(); }
  std::uint64_t last_seq() const;  // the newest seq given (journaled or not)

  // Incidents announced (`start` posted) so far, by camera then kind; for /metrics.
  std::map<std::string, std::map<std::string, std::uint64_t>> incidents_started() const;
  // Makes a (camera, kind) pair show from the start, at 0.
  void declare_incident_kind(const std::string& camera, const std::string& kind);

 private:
  EventBus(EventBusOptions options, EventJournal& journal, std::vector<Subscriber> subscribers);
  void stage(PublishedMessage& m);  // the publisher's thread

  const std::string node_;
  EventJournal& journal_;
  const std::vector<Subscriber> subscribers_;
  std::unique_ptr<EventPublisher> publisher_;
  mutable std::mutex seq_mu_;  // a scrape may read last_seq while the bus thread writes it
  std::uint64_t last_seq_;     // guarded by seq_mu_; written on the bus's thread only
  mutable std::mutex counts_mu_;
  std::map<std::string, std::map<std::string, std::uint64_t>> started_;  // guarded by counts_mu_
};

}  // namespace matthan
