// Cameras take turns at the analysis workers, round robin.
//
// Each camera (a "slot") has a small queue of decoded frames and a `scheduled` flag. The flag is set while the
// camera is in the ready line or held by a worker, so it is in the line at most once and only one worker
// analyses it at a time (its analysis state needs no lock). A worker analyses ONE frame of the camera at the
// head of the line, then puts the camera back at the end if more frames wait. So a camera whose frames come in
// faster than they are analysed (a detector that falls behind under overload) cannot keep a worker: every
// camera with a frame waiting is served within one round of the line, and what the machine cannot analyse is
// dropped from each camera's own queue (oldest first) and counted there.
#pragma once

#include <atomic>
#include <chrono>
#include <utility>

#include "matthan/core/bounded_queue.hpp"

namespace matthan {

// A slot is any type with `frames` (a BoundedQueue) and `std::atomic<bool> scheduled`.

// Producer side (a GStreamer thread): hands a frame over, and puts the camera in line unless it is there or held.
template <class Slot, class Item>
void hand_over(BoundedQueue<Slot*>& ready, Slot& slot, Item item) {
  slot.frames.push(std::move(item));
  if (!slot.scheduled.exchange(true)) ready.push(&slot);
}

// Worker side: waits up to `wait` for the camera at the head of the line, runs `analyse(slot, frame)` on its
// oldest waiting frame, and puts it back at the end of the line if frames are still waiting. Returns false when
// no camera came within `wait` (or the line is closed and empty).
template <class Slot, class Analyse, class Rep, class Period>
bool take_turn(BoundedQueue<Slot*>& ready, Analyse&& analyse, std::chrono::duration<Rep, Period> wait) {
  auto next = ready.pop_for(wait);
  if (!next) return false;
  Slot& slot = **next;
  if (auto frame = slot.frames.try_pop()) analyse(slot, *frame);
  // Still ours (`scheduled` stays set): to the back of the line, behind every camera that waited meanwhile.
  // Once the line is closed (stopping) the push is refused and the flag stays set; the stopping thread then
  // analyses what is left itself.
  if (slot.frames.size() > 0) {
    ready.push(&slot);
    return true;
  }
  slot.scheduled = false;
  // A frame may have arrived between the size check and clearing the flag.
  if (slot.frames.size() > 0 && !slot.scheduled.exchange(true)) ready.push(&slot);
  return true;
}

}  // namespace matthan
