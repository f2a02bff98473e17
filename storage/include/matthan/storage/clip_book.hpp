// ClipBook: when may an incident's `end` go out? Only once its clip is final, failed or refused, so the `end`
// can say which clip holds it (or why there is none). Clips and incidents finish in either order, and
// overlapping incidents share a clip. Plain values in and out: no thread, no index, no clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "matthan/core/types.hpp"

namespace matthan {

// The clip an incident's start lies in.
struct ClipPlace {
  std::string relative_path;
  WallTime start{}, end{};
  double duration_s = 0;
  std::optional<std::int64_t> clip_id;  // its index row, when it was recorded
  double offset_s = 0;                  // where the incident starts in it
};

// What an incident's `end` says of its clip: the place, or why there is none.
struct ClipOutcome {
  std::optional<ClipPlace> clip;
  std::string error;
};

// End: what the caller needs to send an `end` (the root keeps the incident and its snapshot in it).
template <class End>
class ClipBook {
 public:
  struct Ready {
    std::string incident_id;
    End end;
    ClipOutcome outcome;
  };

  // No clip will be written for this incident (refused for lack of space, or its recording could not start).
  void no_clip(const std::string& incident_id, std::string why) {
    Entry& e = entries_[incident_id];
    e.done = true;
    e.outcome = ClipOutcome{std::nullopt, std::move(why)};
  }

  // The incident ended: its `end` is ready now if its clip is already done, else when the clip finishes.
  std::optional<Ready> incident_ended(const std::string& incident_id, End end) {
    Entry& e = entries_[incident_id];
    e.end = std::move(end);
    if (!e.done) return std::nullopt;
    return take(incident_id);
  }

  // A clip finished (`place` set) or failed (`place` empty, `error` says why), holding these incidents, each
  // starting offsets_s[i] into it. An incident whose start lies in an earlier clip of a split keeps that one.
  std::vector<Ready> clip_finished(const std::vector<std::string>& incident_ids, const std::vector<double>& offsets_s,
                                   const std::optional<ClipPlace>& place, const std::string& error) {
    std::vector<Ready> ready;
    for (std::size_t i = 0; i < incident_ids.size(); ++i) {
      Entry& e = entries_[incident_ids[i]];
      if (e.outcome.clip && e.outcome.clip->clip_id) continue;
      e.outcome = ClipOutcome{place, place ? std::string() : error};
      if (e.outcome.clip) e.outcome.clip->offset_s = i < offsets_s.size() ? offsets_s[i] : 0.0;
      e.done = true;
      if (e.end)
        if (auto r = take(incident_ids[i])) ready.push_back(std::move(*r));
    }
    return ready;
  }

  // Every ended incident still waiting that `which` picks goes out now without a clip (its camera stopped).
  std::vector<Ready> give_up(const std::function<bool(const End&)>& which, const std::string& why) {
    std::vector<std::string> ids;
    for (auto& [id, e] : entries_) {
      if (!e.end || !which(*e.end)) continue;
      if (e.outcome.error.empty()) e.outcome.error = why;
      ids.push_back(id);
    }
    std::vector<Ready> ready;
    for (const auto& id : ids)
      if (auto r = take(id)) ready.push_back(std::move(*r));
    return ready;
  }

  std::size_t waiting() const { return entries_.size(); }

 private:
  struct Entry {
    std::optional<End> end;
    ClipOutcome outcome;
    bool done = false;
  };
  std::optional<Ready> take(const std::string& id) {
    auto node = entries_.extract(id);
    if (node.empty() || !node.mapped().end) return std::nullopt;
    return Ready{id, std::move(*node.mapped().end), std::move(node.mapped().outcome)};
  }

  std::map<std::string, Entry> entries_;  // by incident id
};

}  // namespace matthan
