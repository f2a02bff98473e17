// EventBus against a real ZeroMQ SUB socket on 127.0.0.1: the bus's own thread numbers, journals, sends and hands
// out every message, in that order; posters never touch the journal.
#include "matthan/events/event_bus.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

namespace matthan {
namespace {

using namespace std::chrono_literals;

struct Entry {
  std::uint64_t seq;
  std::string topic, payload;
  std::thread::id thread;
};

class MemoryJournal final : public EventJournal {
 public:
  Status append(std::uint64_t seq, const std::string& topic, const std::string& payload, WallTime) override {
    std::lock_guard lock(mu_);
    entries_.push_back({seq, topic, payload, std::this_thread::get_id()});
    if (fail_) return make_error("disk full");
    return {};
  }
  std::vector<Entry> entries() const {
    std::lock_guard lock(mu_);
    return entries_;
  }
  bool has(std::uint64_t seq) const {
    std::lock_guard lock(mu_);
    for (const auto& e : entries_)
      if (e.seq == seq) return true;
    return false;
  }
  void fail(bool f) {
    std::lock_guard lock(mu_);
    fail_ = f;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  bool fail_ = false;
};

class Sub {
 public:
  explicit Sub(const std::string& endpoint) : socket_(context_, zmq::socket_type::sub) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::subscribe, "");
    socket_.connect(endpoint);
  }
  std::optional<std::pair<std::string, std::string>> receive(std::chrono::milliseconds timeout) {
    zmq::pollitem_t item{static_cast<void*>(socket_), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) <= 0) return std::nullopt;
    zmq::message_t topic, payload;
    if (!socket_.recv(topic) || !socket_.recv(payload)) return std::nullopt;
    return std::make_pair(topic.to_string(), payload.to_string());
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

std::string seq_payload(std::uint64_t seq) {
  return "{\"seq\":" + std::to_string(seq) + "}";
}

// The slow joiner: keep posting probes until one arrives.
void join(EventBus& bus, Sub& sub) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    bus.post("probe", seq_payload);
    if (sub.receive(20ms)) {
      while (sub.receive(50ms)) {
      }
      return;
    }
  }
  FAIL() << "the subscriber never received a probe";
}

TEST(EventBus, NumbersJournalsThenSendsOnItsOwnThreadContinuingFromTheJournal) {
  MemoryJournal journal;
  std::mutex heard_mu;
  std::vector<std::uint64_t> heard;
  auto started = EventBus::start({"node-a", "tcp://127.0.0.1:*", 41}, journal,
                                 {[&](std::uint64_t seq, const std::string&, const std::string& payload) {
                                   EXPECT_EQ(payload, seq_payload(seq));
                                   std::lock_guard lock(heard_mu);
                                   heard.push_back(seq);
                                 }});
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto& bus = *started.value();
  Sub sub(bus.endpoint());
  join(bus, sub);
  const std::uint64_t first = bus.last_seq() + 1;
  EXPECT_GT(first, 42u) << "numbering goes on from the journal's newest seq";

  constexpr int kCount = 100;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(bus.post("health.cam1", seq_payload));
  for (int i = 0; i < kCount; ++i) {
    const auto m = sub.receive(5s);
    ASSERT_TRUE(m.has_value()) << "message " << i << " never arrived";
    EXPECT_EQ(m->first, "health.cam1");
    const auto seq = nlohmann::json::parse(m->second)["seq"].get<std::uint64_t>();
    EXPECT_EQ(seq, first + static_cast<std::uint64_t>(i)) << "sent in seq order, without gaps";
    EXPECT_TRUE(journal.has(seq)) << "seq " << seq << " was sent before it could be replayed";
  }
  bus.stop();
  const auto entries = journal.entries();
  std::uint64_t expect = 42;
  for (const auto& e : entries) {
    EXPECT_EQ(e.seq, expect++) << "the journal holds every seq once, in order";
    EXPECT_EQ(e.payload, seq_payload(e.seq));
    EXPECT_NE(e.thread, std::this_thread::get_id()) << "the poster never writes the journal";
  }
  std::lock_guard lock(heard_mu);
  EXPECT_EQ(heard.size(), entries.size()) << "every subscriber hears every message";
}

TEST(EventBus, ManyPostersGetDistinctSeqsAndNothingIsLostBelowTheBound) {
  MemoryJournal journal;
  auto started = EventBus::start({"n", "tcp://127.0.0.1:*", 0, 100000}, journal);
  ASSERT_TRUE(started.ok());
  auto& bus = *started.value();
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t)
    posters.emplace_back([&bus] {
      for (int i = 0; i < 2000; ++i) bus.post("heartbeat", seq_payload);
    });
  for (auto& p : posters) p.join();
  bus.stop();
  const auto entries = journal.entries();
  ASSERT_EQ(entries.size(), 8000u);
  std::set<std::uint64_t> seqs;
  for (const auto& e : entries) seqs.insert(e.seq);
  EXPECT_EQ(seqs.size(), 8000u);
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), 8000u);
  EXPECT_EQ(bus.dropped(), 0u);
}

TEST(EventBus, AJournalFailureIsLoggedAndTheEventStillGoesOut) {
  MemoryJournal journal;
  journal.fail(true);
  std::atomic<int> heard{0};
  auto started = EventBus::start({"n", "tcp://127.0.0.1:*", 0}, journal,
                                 {[&](std::uint64_t, const std::string&, const std::string&) { ++heard; }});
  ASSERT_TRUE(started.ok());
  started.value()->post("storage", seq_payload);
  started.value()->stop();
  EXPECT_EQ(heard.load(), 1);
  EXPECT_EQ(started.value()->sent(), 1u);
}

TEST(EventBus, IncidentStartsAreCountedByCameraAndKindAndCarryTheNode) {
  MemoryJournal journal;
  auto started = EventBus::start({"commune-7", "tcp://127.0.0.1:*", 0}, journal);
  ASSERT_TRUE(started.ok());
  auto& bus = *started.value();
  bus.declare_incident_kind("gate", "tamper");
  Incident inc;
  inc.id = make_incident_id("gate", std::chrono::system_clock::now());
  inc.camera = "gate";
  inc.started_at = std::chrono::system_clock::now();
  bus.post_incident(inc, IncidentPhase::kStart, "snapshots/gate/x.jpg", std::nullopt);
  bus.post_incident(inc, IncidentPhase::kUpdate, "snapshots/gate/x.jpg", std::nullopt);
  bus.stop();
  const auto counts = bus.incidents_started();
  EXPECT_EQ(counts.at("gate").at("motion"), 1u);
  EXPECT_EQ(counts.at("gate").at("tamper"), 0u);
  const auto entries = journal.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].topic, "incident.gate.start");
  const auto j = nlohmann::json::parse(entries[0].payload);
  EXPECT_EQ(j["seq"], 1);
  EXPECT_EQ(j["node"], "commune-7");
  EXPECT_EQ(j["snapshot"], "snapshots/gate/x.jpg");
}

TEST(EventBus, BindErrorsComeBackFromStart) {
  MemoryJournal journal;
  auto first = EventBus::start({"n", "tcp://127.0.0.1:*", 0}, journal);
  ASSERT_TRUE(first.ok());
  auto second = EventBus::start({"n", first.value()->endpoint(), 0}, journal);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;
}

}  // namespace
}  // namespace matthan
