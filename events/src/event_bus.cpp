// EventBus: seq, journal, send and subscribers, all on the publisher's thread.
#include "matthan/events/event_bus.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace matthan {

EventBus::EventBus(EventBusOptions options, EventJournal& journal, std::vector<Subscriber> subscribers)
    : node_(std::move(options.node)),
      journal_(journal),
      subscribers_(std::move(subscribers)),
      last_seq_(options.last_seq) {}

Result<std::unique_ptr<EventBus>> EventBus::start(EventBusOptions options, EventJournal& journal,
                                                  std::vector<Subscriber> subscribers) {
  const std::string endpoint = options.endpoint;
  const std::size_t capacity = options.queue_capacity;
  std::unique_ptr<EventBus> bus(new EventBus(std::move(options), journal, std::move(subscribers)));
  EventBus* self = bus.get();
  auto pub = EventPublisher::bind(endpoint, capacity, [self](PublishedMessage& m) { self->stage(m); });
  if (!pub.ok()) return pub.error();
  bus->publisher_ = std::move(pub.value());
  return bus;
}

EventBus::~EventBus() {
  stop();
}

void EventBus::stop() {
  if (publisher_) publisher_->stop();
}

void EventBus::stage(PublishedMessage& m) {
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(seq_mu_);
    seq = ++last_seq_;
  }
  if (m.make) m.payload = m.make(seq);
  // Journaled before it is sent: a subscriber who sees this seq can always replay it.
  if (auto st = journal_.append(seq, m.topic, m.payload, std::chrono::system_clock::now()); !st.ok())
    spdlog::error("could not store {} seq {} for replay: {}", m.topic, seq, st.error().message);
  for (const auto& s : subscribers_) s(seq, m.topic, m.payload);
}

bool EventBus::post(std::string topic, PayloadMaker make) {
  PublishedMessage m;
  m.topic = std::move(topic);
  m.make = std::move(make);
  const std::string what = m.topic;
  if (publisher_->post(std::move(m))) return true;
  spdlog::warn("event queue full or stopped: an older event was dropped before it had a seq (posting {})", what);
  return false;
}

bool EventBus::post_incident(const Incident& incident, IncidentPhase phase, const std::string& snapshot,
                             const std::optional<ClipRef>& clip, const std::string& clip_error) {
  if (phase == IncidentPhase::kStart) {
    std::lock_guard counts(counts_mu_);
    ++started_[incident.camera][std::string(to_string(incident.kind))];
  }
  return post(incident_topic(incident.camera, phase),
              [incident, phase, node = node_, snapshot, clip, clip_error](std::uint64_t seq) {
                return incident_event_json(incident, phase, seq, node, snapshot, clip, clip_error);
              });
}

std::uint64_t EventBus::last_seq() const {
  std::lock_guard lock(seq_mu_);
  return last_seq_;
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
