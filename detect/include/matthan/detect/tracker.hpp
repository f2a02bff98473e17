// Multi-object tracking of detections across frames: IoU / centroid association with a small
// constant-velocity model. Pure logic driven by plain values (media time in ns).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "matthan/core/types.hpp"
#include "matthan/detect/object_detector.hpp"

namespace matthan {

struct TrackerConfig {
  double iou_match = 0.2;  // a detection overlapping a track's predicted box this much is that track
  // Otherwise a detection whose centre lies within this many track-box sizes of the predicted centre may
  // still be it (fast objects at low frame rates overlap nothing).
  double centroid_gate = 1.0;
  int confirm_hits = 3;             // detections before a track is confirmed
  double tentative_unseen_s = 1.0;  // an unconfirmed track not seen this long is dropped (one-off false hits)
  // A confirmed track not seen this long is forgotten. Long, because the detector only looks where
  // something moves: a still object is unseen, not gone, and should keep its id when it is seen again.
  double max_unseen_s = 30.0;
  double predict_horizon_s = 1.0;  // the velocity model extrapolates at most this far past the last sighting
};

struct Track {
  std::int64_t id = 0;
  std::string label;
  double score = 0;       // of the latest detection
  double best_score = 0;  // best over the track's life
  Box box;                // latest detected box (normalised)
  double vx = 0, vy = 0;  // box centre velocity, frames widths / heights per second
  int hits = 0;
  bool confirmed = false;
  bool seen = false;  // detected in the latest update
  MediaTimeNs first_seen = 0;
  MediaTimeNs last_seen = 0;

  // Where the constant-velocity model expects the box at `pts`.
  Box predicted(MediaTimeNs pts, double horizon_s) const;
  double speed() const;  // |v| in frame fractions per second
};

class Tracker {
 public:
  explicit Tracker(TrackerConfig config = {});

  // Associates one analysed frame's detections (only frames the detector ran on) with the tracks.
  const std::vector<Track>& update(const std::vector<Detection>& detections, MediaTimeNs pts);
  // Drops tracks not seen for too long, without new detections (frames the detector skipped).
  const std::vector<Track>& age(MediaTimeNs pts);
  const std::vector<Track>& tracks() const { return tracks_; }
  void reset() { tracks_.clear(); }

 private:
  void match(const std::vector<Detection>& detections, MediaTimeNs pts, std::vector<bool>& used);
  void refresh(Track& t, const Detection& d, MediaTimeNs pts) const;

  TrackerConfig config_;
  std::vector<Track> tracks_;
  std::int64_t next_id_ = 1;
};

// Whether two labels may be the same object seen twice (a car the model calls a truck a frame later).
bool labels_compatible(const std::string& a, const std::string& b);

}  // namespace matthan
