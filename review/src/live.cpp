// EventFeed: the bounded buffer between the engine's event bus and the SSE clients.
#include "matthan/review/live.hpp"

namespace matthan {

void EventFeed::push(FeedEvent e) {
  {
    std::lock_guard lock(mu_);
    if (e.seq > last_seq_) last_seq_ = e.seq;
    events_.push_back(std::move(e));
    while (events_.size() > capacity_) events_.pop_front();
  }
  cv_.notify_all();
}

std::vector<FeedEvent> EventFeed::wait_after(std::uint64_t after, std::chrono::milliseconds timeout, bool* gap) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return closed_ || last_seq_ > after; });
  std::vector<FeedEvent> out;
  if (gap) *gap = !events_.empty() && events_.front().seq > after + 1 && last_seq_ > after;
  for (const auto& e : events_)
    if (e.seq > after) out.push_back(e);
  return out;
}

std::uint64_t EventFeed::last_seq() const {
  std::lock_guard lock(mu_);
  return last_seq_;
}

void EventFeed::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool EventFeed::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

}  // namespace matthan
