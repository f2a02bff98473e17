// EventPublisher against a real ZeroMQ SUB socket on 127.0.0.1: ordering, filtering, drain on stop,
// counters, and clear bind errors.
#include "matthan/events/publisher.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

using namespace std::chrono_literals;

struct Received {
  std::string topic, payload;
};

class Subscriber {
 public:
  Subscriber(const std::string& endpoint, const std::string& prefix) : socket_(context_, zmq::socket_type::sub) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::subscribe, prefix);
    socket_.connect(endpoint);
  }

  // One multipart [topic, payload] message, or nullopt after `timeout`.
  std::optional<Received> receive(std::chrono::milliseconds timeout) {
    zmq::pollitem_t item{static_cast<void*>(socket_), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) <= 0) return std::nullopt;
    zmq::message_t topic, payload;
    if (!socket_.recv(topic)) return std::nullopt;
    EXPECT_TRUE(topic.more()) << "a message has two frames";
    if (!socket_.recv(payload)) return std::nullopt;
    EXPECT_FALSE(payload.more()) << "and only two";
    return Received{topic.to_string(), payload.to_string()};
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

std::unique_ptr<EventPublisher> bind_or_fail(const std::string& endpoint, std::size_t capacity = 4096) {
  auto r = EventPublisher::bind(endpoint, capacity);
  if (!r) {
    ADD_FAILURE() << r.error().message;
    return nullptr;
  }
  return std::move(r).value();
}

// The slow joiner: PUB drops everything until the subscription has reached it, so keep posting a
// probe until one arrives instead of sleeping for a guessed time.
void wait_until_joined(EventPublisher& pub, Subscriber& sub, const std::string& probe_topic) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    pub.post({probe_topic, "{}"});
    if (auto m = sub.receive(20ms)) {
      // Drain any further probes already in flight.
      while (sub.receive(50ms)) {
      }
      return;
    }
  }
  FAIL() << "the subscriber never received a probe";
}

TEST(EventPublisher, WildcardPortResolvesToTheBoundEndpoint) {
  auto pub = bind_or_fail("tcp://127.0.0.1:*");
  ASSERT_TRUE(pub);
  const std::string ep = pub->endpoint();
  EXPECT_EQ(ep.rfind("tcp://127.0.0.1:", 0), 0u) << ep;
  EXPECT_EQ(ep.find('*'), std::string::npos) << ep;
  EXPECT_GT(std::stoi(ep.substr(ep.rfind(':') + 1)), 0);
}

TEST(EventPublisher, SubscriberReceivesMultipartMessagesInOrder) {
  const int port = test::free_tcp_port();
  auto pub = bind_or_fail("tcp://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->endpoint(), "tcp://127.0.0.1:" + std::to_string(port));
  Subscriber sub(pub->endpoint(), "incident.");
  wait_until_joined(*pub, sub, "incident.probe.start");

  constexpr int kCount = 200;
  for (int i = 1; i <= kCount; ++i) {
    ASSERT_TRUE(pub->post({"incident.cam1.update", "{\"seq\":" + std::to_string(i) + "}"}));
    if (i == kCount / 2) pub->post({"health.cam1", "{}"});  // not subscribed: filtered out by ZeroMQ
  }
  for (int i = 1; i <= kCount; ++i) {
    const auto m = sub.receive(5s);
    ASSERT_TRUE(m.has_value()) << "message " << i << " never arrived";
    EXPECT_EQ(m->topic, "incident.cam1.update");
    EXPECT_EQ(m->payload, "{\"seq\":" + std::to_string(i) + "}");
  }
  EXPECT_FALSE(sub.receive(100ms).has_value()) << "nothing else, in particular no health message";
  EXPECT_EQ(pub->dropped(), 0u);
}

TEST(EventPublisher, StopSendsWhatIsQueuedThenRefusesPosts) {
  auto pub = bind_or_fail("tcp://127.0.0.1:*");
  ASSERT_TRUE(pub);
  Subscriber sub(pub->endpoint(), "incident.cam9.");
  wait_until_joined(*pub, sub, "incident.cam9.probe");
  const std::uint64_t sent_before = pub->sent();

  for (int i = 0; i < 50; ++i) pub->post({"incident.cam9.end", std::to_string(i)});
  pub->stop();
  pub->stop();  // idempotent
  EXPECT_EQ(pub->sent(), sent_before + 50);
  for (int i = 0; i < 50; ++i) {
    const auto m = sub.receive(5s);
    ASSERT_TRUE(m.has_value()) << i;
    EXPECT_EQ(m->payload, std::to_string(i));
  }
  const std::uint64_t dropped_before = pub->dropped();
  EXPECT_FALSE(pub->post({"incident.cam9.end", "late"}));
  EXPECT_EQ(pub->dropped(), dropped_before + 1);
}

TEST(EventPublisher, EveryPostIsEitherSentOrCountedAsDropped) {
  auto pub = bind_or_fail("tcp://127.0.0.1:*", 2);
  ASSERT_TRUE(pub);
  int accepted = 0;
  constexpr int kPosts = 5000;
  for (int i = 0; i < kPosts; ++i) accepted += pub->post({"incident.x.update", "{}"}) ? 1 : 0;
  pub->stop();
  EXPECT_EQ(pub->sent() + pub->dropped(), static_cast<std::uint64_t>(kPosts));
  EXPECT_GE(pub->dropped(), static_cast<std::uint64_t>(kPosts - accepted));
}

TEST(EventPublisher, BindingAPortInUseFailsClearly) {
  auto first = bind_or_fail("tcp://127.0.0.1:*");
  ASSERT_TRUE(first);
  const auto second = EventPublisher::bind(first->endpoint());
  ASSERT_FALSE(second.ok());
  const std::string& e = second.error().message;
  EXPECT_NE(e.find(first->endpoint()), std::string::npos) << e;
  EXPECT_NE(e.find("in use"), std::string::npos) << e;
}

TEST(EventPublisher, BadEndpointFailsClearly) {
  for (const char* ep : {"nonsense://x", "tcp://127.0.0.1:notaport", ""}) {
    const auto r = EventPublisher::bind(ep);
    ASSERT_FALSE(r.ok()) << ep;
    EXPECT_NE(r.error().message.find("cannot bind the event publisher"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace matthan
