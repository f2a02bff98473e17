// BoundedQueue drops the oldest item and counts it.
#include "matthan/core/bounded_queue.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace matthan {
namespace {

TEST(BoundedQueue, DropsOldestAndCounts) {
  BoundedQueue<int> q(2);
  EXPECT_TRUE(q.push(1));
  EXPECT_TRUE(q.push(2));
  EXPECT_FALSE(q.push(3));
  EXPECT_EQ(q.dropped(), 1u);
  EXPECT_EQ(q.try_pop(), 2);
  EXPECT_EQ(q.try_pop(), 3);
  EXPECT_EQ(q.try_pop(), std::nullopt);
}

TEST(BoundedQueue, CloseWakesWaiter) {
  BoundedQueue<int> q(1);
  std::thread t([&] { q.close(); });
  auto v = q.pop_for(std::chrono::seconds(10));
  t.join();
  EXPECT_FALSE(v.has_value());
  EXPECT_FALSE(q.push(1));
  EXPECT_EQ(q.dropped(), 1u);
}

}  // namespace
}  // namespace matthan
