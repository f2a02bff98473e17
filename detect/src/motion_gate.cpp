// MotionGate: activity map (habitual foreground), novel regions, region tracks with persistence and travel.
#include "matthan/detect/motion_gate.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <utility>

#include "mask_filters.hpp"
#include "rect_box.hpp"

namespace matthan {
namespace {

struct Region {
  cv::Rect rect;
  double fill = 0;   // foreground share of the rect
  double habit = 1;  // share of the rect where foreground is habitual (solid-sized regions only; else 1)
};

struct RegionTrack {
  cv::Rect rect;
  double fill = 0;
  double habit = 1;
  cv::Rect first_rect;
  std::deque<std::pair<MediaTimeNs, cv::Rect>> path;  // where it was over the last travel window, oldest first
  int hits = 0, frames = 0;                           // frames seen / frames since first seen
  MediaTimeNs first_pts = 0, last_pts = 0;
  bool counts = false;
  bool seen_now = false;
};

// How far a region moved as a whole along one axis: both of its edges must have moved the same way, and
// the smaller move counts. A region that only grows or shrinks (light spreading, foliage opening) or whose
// pieces join and part moves its edges apart, not together. An edge on the frame's border then and now is
// not seen, so it cannot say: someone walking in from the side grows from the border, and only the inner
// edge shows the walk.
double edge_travel(int first_lo, int first_hi, int lo, int hi, int extent) {
  const bool lo_pinned = first_lo <= 0 && lo <= 0, hi_pinned = first_hi >= extent && hi >= extent;
  const int a = lo - first_lo, b = hi - first_hi;
  if (lo_pinned && hi_pinned) return 0.0;
  if (lo_pinned) return b > 0 ? 0.0 : std::abs(b);  // entering from the low side: its far edge moves on
  if (hi_pinned) return a < 0 ? 0.0 : std::abs(a);  // ... from the high side
  if ((a > 0) != (b > 0) || a == 0 || b == 0) return 0.0;
  return std::min(std::abs(a), std::abs(b));
}

// Something that travels keeps roughly its size over a second; flicker's pieces swell and shrink as they
// hop. Not asked of a region on the frame's border (someone walking in grows from nothing).
bool kept_size(const cv::Rect& then, const cv::Rect& now, int width, int height) {
  const auto on_border = [&](const cv::Rect& r) {
    return r.x <= 0 || r.y <= 0 || r.br().x >= width || r.br().y >= height;
  };
  if (on_border(then) || on_border(now)) return true;
  const double a = then.area(), b = now.area();
  return std::max(a, b) <= 2.5 * std::min(a, b);
}

// A small region's travel is also judged over its whole path in the window: a walker's centre goes one
// way, a flicker piece's hops to and fro (Wallflower TimeOfDay frame 452, WavingTrees frame 178). Below
// kSmallTravelShare of the frame, the centre's steps may add up to at most kMaxWander times its net move.
constexpr double kSmallTravelShare = 0.006;
constexpr double kMaxWander = 2.0;

// A solid region takes the quick path (MotionGateConfig::solid_persist_s) only where at most this share of its
// box is habitual foreground: someone stepping in front of swaying trees waits persist_s like the trees' gusts.
constexpr double kQuickHabitShare = 0.1;

bool went_straight(const std::deque<std::pair<MediaTimeNs, cv::Rect>>& path) {
  const auto centre = [](const cv::Rect& r) { return cv::Point2d(r.x + r.width / 2.0, r.y + r.height / 2.0); };
  double steps = 0;
  for (std::size_t i = 1; i < path.size(); ++i) {
    const cv::Point2d d = centre(path[i].second) - centre(path[i - 1].second);
    steps += std::hypot(d.x, d.y);
  }
  const cv::Point2d net = centre(path.back().second) - centre(path.front().second);
  const double moved = std::hypot(net.x, net.y);
  return moved > 0 && steps <= kMaxWander * moved;
}

}  // namespace

struct MotionGate::Impl {
  explicit Impl(MotionGateConfig c) : config(c) {}

  MotionGateConfig config;
  cv::Mat activity;            // CV_32F, 0..1
  bool activity_zero = false;  // activity is all zeros (it stays so while masks are empty)
  cv::Mat zeros;               // an all-zero CV_32F map of activity's size, for the decay on an empty mask
  cv::Mat fg, novel, habitual, grow, dilate_scratch;
  cv::Size grow_for;
  MediaTimeNs started = 0, last_pts = 0;
  bool learning = true;
  long frames = 0;
  std::vector<RegionTrack> tracks;

  void restart() {
    activity.release();
    tracks.clear();
    learning = true;
    frames = 0;
  }

  // The share of `r` where foreground is habitual (the widened map), asked only of regions large enough to be
  // solid: the others never take the quick path.
  double habitual_share(const cv::Rect& r) const {
    if (r.area() < config.solid_area * static_cast<double>(habitual.total())) return 1.0;
    return static_cast<double>(cv::countNonZero(habitual(r))) / r.area();
  }

  std::vector<Region> novel_regions() {
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(novel, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    const double min_pixels = config.min_area * novel.total();
    std::vector<Region> out;
    for (const auto& c : contours) {
      const cv::Rect r = cv::boundingRect(c);
      if (r.area() < min_pixels) continue;
      out.push_back({r, static_cast<double>(cv::countNonZero(novel(r))) / r.area(), habitual_share(r)});
    }
    return out;
  }

  // Large regions of the whole mask far denser than their area's habit: an object in front of the trees.
  void add_dense_regions(std::vector<Region>& out) {
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(fg, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    const double min_pixels = config.solid_area * fg.total();
    for (const auto& c : contours) {
      const cv::Rect r = cv::boundingRect(c);
      if (r.area() < min_pixels) continue;
      const double fill = static_cast<double>(cv::countNonZero(fg(r))) / r.area();
      if (fill - cv::mean(activity(r))[0] >= config.dense_excess) out.push_back({r, fill, habitual_share(r)});
    }
  }

  void associate(const std::vector<Region>& regions, MediaTimeNs pts) {
    for (auto& t : tracks) t.seen_now = false;
    std::vector<bool> used(regions.size(), false);
    // Greedy by intersection over union, best pairs first, one region per track. Without overlap there is
    // no match: flicker hops between nearby pieces, a real object overlaps where it was. IoU rather than
    // "share of the smaller box": when a walker's region swallows a small flicker piece, the walker's own
    // track (alike in size and place) keeps it, not the piece's.
    struct Pair {
      double v;
      std::size_t t, r;
    };
    std::vector<Pair> pairs;
    for (std::size_t ti = 0; ti < tracks.size(); ++ti)
      for (std::size_t ri = 0; ri < regions.size(); ++ri)
        if (const double v = iou(detail::box_of(tracks[ti].rect), detail::box_of(regions[ri].rect)); v > 0)
          pairs.push_back({v, ti, ri});
    std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.v > b.v; });
    for (const Pair& p : pairs) {
      RegionTrack& t = tracks[p.t];
      if (used[p.r] || t.seen_now) continue;
      used[p.r] = true;
      t.rect = regions[p.r].rect;
      t.fill = regions[p.r].fill;
      t.habit = regions[p.r].habit;
      t.last_pts = pts;
      t.seen_now = true;
      ++t.hits;
      t.path.emplace_back(pts, t.rect);
    }
    for (auto& t : tracks) ++t.frames;
    const auto gap = static_cast<MediaTimeNs>(config.max_gap_s * kNsPerSecond);
    std::erase_if(tracks, [&](const RegionTrack& t) { return pts - t.last_pts > gap; });
    for (std::size_t i = 0; i < regions.size(); ++i) {
      if (used[i]) continue;
      RegionTrack t;
      t.rect = regions[i].rect;
      t.fill = regions[i].fill;
      t.habit = regions[i].habit;
      t.first_rect = t.rect;
      t.first_pts = t.last_pts = pts;
      t.path.emplace_back(pts, t.rect);
      t.seen_now = true;
      t.hits = t.frames = 1;
      tracks.push_back(t);
    }
  }

  Box normalised(const cv::Rect& r, int width, int height) const {
    return Box{r.x / static_cast<double>(width), r.y / static_cast<double>(height),
               r.width / static_cast<double>(width), r.height / static_cast<double>(height)};
  }

  // update() on an all-zero mask, with the same outcome as the general path: the map decays towards zero
  // (the same arithmetic, so the map is bit for bit what it would be), no region is seen, tracks age.
  GateResult update_empty(MediaTimeNs pts) {
    GateResult result;
    const double dt = frames == 0 ? 0.0 : std::max(0.0, static_cast<double>(pts - last_pts) / kNsPerSecond);
    ++frames;
    double alpha = config.activity_s > 0 ? dt / config.activity_s : 1.0;
    alpha = std::clamp(std::max(alpha, 1.0 / static_cast<double>(frames)), 0.0, 1.0);
    if (!activity_zero) {
      if (zeros.size() != activity.size()) zeros = cv::Mat::zeros(activity.size(), CV_32F);
      cv::addWeighted(activity, 1.0 - alpha, zeros, alpha, 0.0, activity);
      activity_zero = cv::countNonZero(activity) == 0;
    }
    last_pts = pts;
    if (learning) {
      if (static_cast<double>(pts - started) / kNsPerSecond < config.learn_s) return result;
      learning = false;
    }
    associate({}, pts);
    return result;  // no track was seen now, so none counts
  }

  GateResult update(const std::vector<std::uint8_t>& mask, int width, int height, MediaTimeNs pts,
                    const BackgroundMatch& background) {
    GateResult result;
    if (mask.empty() || width <= 0 || height <= 0 || mask.size() < static_cast<std::size_t>(width) * height) {
      tracks.clear();  // no picture to judge (warm-up, re-learning): regions start afresh, the map is kept
      return result;
    }
    const cv::Size size(width, height);
    if (activity.size() != size) {
      restart();
      activity = cv::Mat::zeros(size, CV_32F);
      activity_zero = true;
      started = pts;
    }
    const cv::Mat m(size, CV_8UC1, const_cast<std::uint8_t*>(mask.data()));
    // An empty mask (a still scene: most frames) has no novel and no dense region whatever the map holds, so
    // only the map's decay and the tracks' ageing are left to do; on an all-zero map even the decay is nothing.
    if (cv::countNonZero(m) == 0) return update_empty(pts);
    activity_zero = false;
    cv::compare(m, 0, fg, cv::CMP_GT);  // 255 where foreground
    // Novel: foreground where the pixel is not habitually foreground (judged before this frame counts).
    // The habitual areas are widened a little: the fringe of a swaying tree is foreground less often than
    // its middle, but it is the same tree.
    cv::compare(activity, config.nuisance_level, habitual, cv::CMP_GE);
    if (grow.empty() || grow_for != size) {
      const int k = std::max(3, (width / 20) | 1);
      grow = cv::getStructuringElement(cv::MORPH_ELLIPSE, {k, k});
      grow_for = size;
    }
    detail::dilate_near_set(habitual, grow, dilate_scratch);
    cv::bitwise_not(habitual, novel);
    cv::bitwise_and(novel, fg, novel);
    // Exponential update; while learning, a running mean so the map is meaningful from the first seconds.
    const double dt = frames == 0 ? 0.0 : std::max(0.0, static_cast<double>(pts - last_pts) / kNsPerSecond);
    ++frames;
    double alpha = config.activity_s > 0 ? dt / config.activity_s : 1.0;
    alpha = std::clamp(std::max(alpha, 1.0 / static_cast<double>(frames)), 0.0, 1.0);
    cv::Mat fg01;
    fg.convertTo(fg01, CV_32F, 1.0 / 255.0);
    cv::addWeighted(activity, 1.0 - alpha, fg01, alpha, 0.0, activity);
    last_pts = pts;
    if (learning) {
      if (static_cast<double>(pts - started) / kNsPerSecond < config.learn_s) return result;
      learning = false;
    }

    std::vector<Region> regions = novel_regions();
    add_dense_regions(regions);
    associate(regions, pts);
    const auto persist = static_cast<MediaTimeNs>(config.persist_s * kNsPerSecond);
    const auto solid_persist = static_cast<MediaTimeNs>(std::max(0.0, config.solid_persist_s) * kNsPerSecond);
    const auto window = static_cast<MediaTimeNs>(config.travel_window_s * kNsPerSecond);
    const double area = static_cast<double>(size.area());
    const RegionTrack* best = nullptr;
    for (auto& t : tracks) {
      if (!t.seen_now) continue;
      ++result.regions;
      // Travel is judged over the last travel window only: people cross a frame in seconds, while light
      // creeping over a wall drifts as far in minutes.
      while (t.path.size() > 1 && pts - t.path[1].first >= window) t.path.pop_front();
      const bool solid = t.fill >= config.solid_fill && t.rect.area() >= config.solid_area * area;
      // Solid, where nothing habitually moves: confirmed sooner (solid_persist_s), without min_frames.
      const bool quick =
          solid && config.solid_persist_s >= 0 && t.habit <= kQuickHabitShare && pts - t.first_pts >= solid_persist;
      const bool persisted = pts - t.first_pts >= persist && t.hits >= config.min_frames;
      if (!t.counts && (persisted || quick)) {
        const cv::Rect& f = t.path.front().second;
        const double dx = edge_travel(f.x, f.br().x, t.rect.x, t.rect.br().x, width) / width;
        const double dy = edge_travel(f.y, f.br().y, t.rect.y, t.rect.br().y, height) / height;
        const double travel = std::hypot(dx, dy);
        // Seen in most frames since it appeared: flicker comes and goes.
        const bool steady = t.hits * 5 >= t.frames * 4;
        const bool travelled = travel >= config.min_travel && t.rect.area() >= config.travel_area * area &&
                               kept_size(f, t.rect, width, height) &&
                               (t.rect.area() >= kSmallTravelShare * area || went_straight(t.path));
        t.counts = steady && (quick || (persisted && (travelled || solid)));
        if (t.counts && background && config.light_match < 1.0) {
          t.counts = background(normalised(t.rect, width, height)) < config.light_match;
        }
      }
      if (t.counts && (!best || t.rect.area() > best->rect.area())) best = &t;
    }
    if (best) {
      result.motion = true;
      result.box = normalised(best->rect, width, height);
      result.score = std::clamp(best->fill, 0.0, 1.0);
      result.since = best->path.front().first;
    }
    return result;
  }
};

MotionGate::MotionGate(MotionGateConfig config) : impl_(std::make_unique<Impl>(config)) {}
MotionGate::~MotionGate() = default;
MotionGate::MotionGate(MotionGate&&) noexcept = default;
MotionGate& MotionGate::operator=(MotionGate&&) noexcept = default;

GateResult MotionGate::update(const std::vector<std::uint8_t>& mask, int width, int height, MediaTimeNs pts,
                              const BackgroundMatch& background) {
  return impl_->update(mask, width, height, pts, background);
}
void MotionGate::reset() {
  impl_->restart();
}
const MotionGateConfig& MotionGate::config() const {
  return impl_->config;
}

}  // namespace matthan
