// The bound on cameras connecting at once: places, first come first served, and a wait that stops.
#include "matthan/ingest/connect_gate.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace matthan {
namespace {

using namespace std::chrono_literals;

// Waits (politely) until `done` holds; false after a generous while, so a broken gate fails instead of
// hanging.
template <class Pred>
bool eventually(Pred done) {
  for (int i = 0; i < 5000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return done();
}

TEST(ConnectGate, HoldsAtMostItsBoundAndLetsTheNextInWhenOneLeaves) {
  ConnectGate gate(2);
  EXPECT_TRUE(gate.acquire({}));
  EXPECT_TRUE(gate.acquire({}));
  EXPECT_EQ(gate.connecting(), 2);
  std::atomic<bool> third{false};
  std::jthread waiter([&] { third = gate.acquire({}); });
  ASSERT_TRUE(eventually([&] { return gate.waiting() == 1; }));
  EXPECT_FALSE(third.load()) << "a third place while two are held";
  gate.release();
  ASSERT_TRUE(eventually([&] { return third.load(); }));
  EXPECT_EQ(gate.connecting(), 2);
  EXPECT_EQ(gate.waiting(), 0);
}

TEST(ConnectGate, WaitersGetTheirPlaceInTheOrderTheyCame) {
  ConnectGate gate(1);
  ASSERT_TRUE(gate.acquire({}));
  std::mutex mu;
  std::vector<int> order;  // guarded by mu
  std::vector<std::jthread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      ASSERT_TRUE(gate.acquire({}));
      {
        std::lock_guard lock(mu);
        order.push_back(i);
      }
      gate.release();
    });
    // Each one queued before the next starts, so the order they came in is known.
    ASSERT_TRUE(eventually([&] { return gate.waiting() == i + 1; }));
  }
  gate.release();
  waiters.clear();  // joins
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(gate.connecting(), 0);
}

TEST(ConnectGate, StoppedWaiterLeavesWithoutAPlaceAndDoesNotBlockThoseBehind) {
  ConnectGate gate(1);
  ASSERT_TRUE(gate.acquire({}));
  std::stop_source first_stop;
  std::atomic<int> first{-1}, second{-1};
  std::jthread a([&] { first = gate.acquire(first_stop.get_token()) ? 1 : 0; });
  ASSERT_TRUE(eventually([&] { return gate.waiting() == 1; }));
  std::jthread b([&] { second = gate.acquire({}) ? 1 : 0; });
  ASSERT_TRUE(eventually([&] { return gate.waiting() == 2; }));
  first_stop.request_stop();
  ASSERT_TRUE(eventually([&] { return first.load() == 0; }));
  EXPECT_EQ(gate.waiting(), 1);
  EXPECT_EQ(gate.connecting(), 1);
  gate.release();
  ASSERT_TRUE(eventually([&] { return second.load() == 1; })) << "the one behind the stopped waiter got its turn";
  EXPECT_EQ(gate.connecting(), 1);
}

TEST(ConnectGate, ZeroMeansNoBound) {
  ConnectGate gate(0);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(gate.acquire({}));
  EXPECT_EQ(gate.connecting(), 100);
  EXPECT_EQ(gate.waiting(), 0);
}

// The first-packet timeout follows how long this node's cameras took to connect lately: the base while they
// connect quickly, longer while they are slow (a starved machine), within a cap, and back once it is over.
TEST(ConnectGate, FirstPacketTimeoutStretchesWhileConnectingIsSlow) {
  ConnectGate gate(8);
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  EXPECT_DOUBLE_EQ(gate.first_packet_timeout_s(15, t0), 15) << "nothing measured yet: the base";
  gate.note_connected(0.4, t0);
  gate.note_connected(3, t0);
  EXPECT_DOUBLE_EQ(gate.first_packet_timeout_s(15, t0), 15) << "quick connects: the base";
  gate.note_connected(11, t0 + 1s);
  EXPECT_DOUBLE_EQ(gate.first_packet_timeout_s(15, t0 + 2s), 22) << "twice the slowest recent connect";
  gate.note_connected(400, t0 + 2s);
  EXPECT_DOUBLE_EQ(gate.first_packet_timeout_s(15, t0 + 3s), 120) << "at most 8 x the base";
  // Connects older than kRecentConnectAge no longer count.
  EXPECT_DOUBLE_EQ(gate.first_packet_timeout_s(15, t0 + 2s + ConnectGate::kRecentConnectAge + 1s), 15);
  // Only the last kRecentConnects count: eight quick ones push the slow ones out.
  for (std::size_t i = 0; i < ConnectGate::kRecentConnects; ++i) gate.note_connected(1, t0 + 4s);
  EXPECT_DOUBLE_EQ(gate.first_packet_timeout_s(15, t0 + 5s), 15);
}

}  // namespace
}  // namespace matthan
