// Cameras take turns at the analysis workers (analysis_turns.hpp): one frame per turn, round robin, so a
// camera whose frames arrive faster than they are analysed cannot keep a worker from the others.
#include "analysis_turns.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace matthan {
namespace {

using namespace std::chrono_literals;

struct Slot {
  explicit Slot(char n) : name(n) {}
  char name;
  BoundedQueue<int> frames{2};
  std::atomic<bool> scheduled{false};
};

class AnalysisTurns : public ::testing::Test {
 protected:
  BoundedQueue<Slot*> ready{16};
  std::string order;  // the camera of each analysed frame, in turn order
  std::vector<int> seen;

  // A turn with no wait: the tests run every step on this thread.
  bool turn(bool frames_keep_coming = false) {
    return take_turn(
        ready,
        [&](Slot& s, int frame) {
          order += s.name;
          seen.push_back(frame);
          // An overloaded camera: a new frame has arrived by the time its analysis ends.
          if (frames_keep_coming) hand_over(ready, s, frame + 1);
        },
        0ms);
  }
};

TEST_F(AnalysisTurns, CamerasWhoseFramesKeepComingStillTakeTurnsFrameByFrame) {
  Slot a('a'), b('b');
  hand_over(ready, a, 100);
  hand_over(ready, b, 200);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(turn(/*frames_keep_coming=*/true));
  // Draining a camera while frames kept coming would have analysed only `a`.
  EXPECT_EQ(order, "abababab");
  EXPECT_EQ(seen, (std::vector<int>{100, 200, 101, 201, 102, 202, 103, 203}));
}

TEST_F(AnalysisTurns, EveryWaitingCameraIsServedOnceARoundThenTheLineEmpties) {
  Slot a('a'), b('b'), c('c');
  for (Slot* s : {&a, &b, &c}) {
    hand_over(ready, *s, 1);
    hand_over(ready, *s, 2);
  }
  EXPECT_EQ(ready.size(), 3u);  // each camera is in line once, however many frames it has waiting
  while (turn()) {
  }
  EXPECT_EQ(order, "abcabc");
  EXPECT_EQ(seen, (std::vector<int>{1, 1, 1, 2, 2, 2}));
  for (Slot* s : {&a, &b, &c}) {
    EXPECT_FALSE(s->scheduled) << s->name;
    EXPECT_EQ(s->frames.size(), 0u) << s->name;
  }
}

TEST_F(AnalysisTurns, ACameraBehindInItsQueueDropsItsOldestFramesNotItsTurn) {
  Slot a('a'), b('b');
  for (int f = 1; f <= 5; ++f) hand_over(ready, a, f);  // a 2-deep queue: 1, 2 and 3 are dropped and counted
  hand_over(ready, b, 10);
  while (turn()) {
  }
  EXPECT_EQ(order, "aba");
  EXPECT_EQ(seen, (std::vector<int>{4, 10, 5}));
  EXPECT_EQ(a.frames.dropped(), 3u);
}

TEST_F(AnalysisTurns, ACameraLeftWithFramesWhenTheLineClosesStaysHeldForTheStoppingThread) {
  Slot a('a');
  hand_over(ready, a, 1);
  hand_over(ready, a, 2);
  ready.close();
  ASSERT_TRUE(turn());   // a worker still drains what was in line
  EXPECT_FALSE(turn());  // but the camera could not go back in
  EXPECT_EQ(order, "a");
  // No worker holds it and the flag is still set, so the stopping thread owns it and analyses frame 2 itself.
  EXPECT_TRUE(a.scheduled);
  EXPECT_EQ(a.frames.size(), 1u);
}

TEST_F(AnalysisTurns, TwoWorkersNeverAnalyseOneCameraAtOnceAndNoFrameIsLostUncounted) {
  constexpr int kCameras = 6, kFramesEach = 3000;
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < kCameras; ++i) slots.push_back(std::make_unique<Slot>(static_cast<char>('a' + i)));
  BoundedQueue<Slot*> line(64);
  std::vector<std::atomic<int>> in_use(kCameras);
  std::vector<std::atomic<int>> analysed(kCameras);
  std::atomic<int> overlaps{0};
  std::atomic<bool> producing{true};
  const auto analyse = [&](Slot& s, int) {
    const int i = s.name - 'a';
    if (in_use[i].fetch_add(1) != 0) overlaps.fetch_add(1);
    analysed[i].fetch_add(1);
    std::this_thread::yield();
    in_use[i].fetch_sub(1);
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < 2; ++w)
    workers.emplace_back([&] {
      while (producing || line.size() > 0) take_turn(line, analyse, 1ms);
    });
  std::vector<std::thread> producers;
  for (int i = 0; i < kCameras; ++i)
    producers.emplace_back([&, i] {
      for (int f = 0; f < kFramesEach; ++f) hand_over(line, *slots[i], f);
    });
  for (auto& p : producers) p.join();
  producing = false;
  for (auto& w : workers) w.join();
  EXPECT_EQ(overlaps.load(), 0);
  for (int i = 0; i < kCameras; ++i) {
    // Every frame was analysed or dropped from the camera's own queue and counted; none is left waiting
    // with the camera out of line.
    EXPECT_EQ(slots[i]->frames.size(), 0u) << i;
    EXPECT_FALSE(slots[i]->scheduled) << i;
    EXPECT_EQ(static_cast<std::uint64_t>(analysed[i].load()) + slots[i]->frames.dropped(),
              static_cast<std::uint64_t>(kFramesEach))
        << i;
    EXPECT_GT(analysed[i].load(), 0) << i;
  }
}

}  // namespace
}  // namespace matthan
