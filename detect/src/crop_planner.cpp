// Crop planning and box geometry for object detection: which parts of a frame a detector looks at.
#include <algorithm>
#include <cmath>

#include "matthan/detect/object_detector.hpp"

namespace matthan {
namespace {

struct PixelRect {
  double x0, y0, x1, y1;
  double w() const { return x1 - x0; }
  double h() const { return y1 - y0; }
  double area() const { return std::max(0.0, w()) * std::max(0.0, h()); }
};

double overlap_area(const PixelRect& a, const PixelRect& b) {
  const double w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const double h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0.0;
}

// The smallest rectangle holding both.
PixelRect bounding(const PixelRect& a, const PixelRect& b) {
  return {std::min(a.x0, b.x0), std::min(a.y0, b.y0), std::max(a.x1, b.x1), std::max(a.y1, b.y1)};
}

// Moves [lo, lo+len) inside [0, limit) without changing its length (unless it is longer than the limit).
void fit_span(double& lo, double& hi, double limit) {
  const double len = std::min(hi - lo, limit);
  lo = std::clamp(lo, 0.0, limit - len);
  hi = lo + len;
}

// A motion box grown by the margin and squared up to at least min_side, kept inside the frame. Square
// because the network stretches every crop to a square input: a square crop keeps objects' shapes.
PixelRect crop_around(const Box& b, double W, double H, const CropPlan& plan) {
  const double bw = b.w * W * (1 + 2 * plan.margin);
  const double bh = b.h * H * (1 + 2 * plan.margin);
  const double side = std::max({static_cast<double>(plan.min_side), bw, bh});
  const double cx = (b.x + b.w / 2) * W;
  const double cy = (b.y + b.h / 2) * H;
  PixelRect r{cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2};
  fit_span(r.x0, r.x1, W);
  fit_span(r.y0, r.y1, H);
  return r;
}

// A crop, the motion boxes (frame pixels) it was cut for, and the crops it joined (one_pass_min_px).
struct CropGroup {
  PixelRect crop;
  std::vector<PixelRect> objects;
  std::vector<PixelRect> parts;  // empty: the crop itself
};

void absorb(CropGroup& into, CropGroup&& from, const PixelRect& crop) {
  into.crop = crop;
  into.objects.insert(into.objects.end(), from.objects.begin(), from.objects.end());
}

// Joining keeps the crops it joined as the pass's parts.
void join(CropGroup& into, CropGroup&& from, const PixelRect& crop) {
  if (into.parts.empty()) into.parts.push_back(into.crop);
  if (from.parts.empty()) from.parts.push_back(from.crop);
  into.parts.insert(into.parts.end(), from.parts.begin(), from.parts.end());
  absorb(into, std::move(from), crop);
}

// Two crops that share a good part of their area are one forward call on their union.
void merge_overlapping(std::vector<CropGroup>& groups) {
  bool merged = true;
  while (merged) {
    merged = false;
    for (std::size_t i = 0; i < groups.size() && !merged; ++i) {
      for (std::size_t j = i + 1; j < groups.size(); ++j) {
        const PixelRect& a = groups[i].crop;
        const PixelRect& b = groups[j].crop;
        if (overlap_area(a, b) < 0.3 * std::min(a.area(), b.area())) continue;
        absorb(groups[i], std::move(groups[j]), bounding(a, b));
        groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(j));
        merged = true;
        break;
      }
    }
  }
}

// The square around two crops, kept inside the frame: what one pass instead of two looks at.
PixelRect joint_crop(const PixelRect& a, const PixelRect& b, double W, double H) {
  const PixelRect u = bounding(a, b);
  const double side = std::max(u.w(), u.h());
  const double cx = (u.x0 + u.x1) / 2, cy = (u.y0 + u.y1) / 2;
  PixelRect r{cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2};
  fit_span(r.x0, r.x1, W);
  fit_span(r.y0, r.y1, H);
  return r;
}

// How big a motion box is on the network's input once `crop` is stretched to input x input: the geometric
// mean of its width and height there, in input pixels.
double size_on_input(const PixelRect& object, const PixelRect& crop, double input) {
  return input * std::sqrt(object.w() / crop.w() * object.h() / crop.h());
}

// Each crop is one network input and costs as much as any other (a batch shares no work on the CPU
// backend): two crops become one pass on the square around them while every motion box in it still spans
// one_pass_min_px of the input. The smallest such square first; until no two crops can join.
void join_while_resolved(std::vector<CropGroup>& groups, double W, double H, const CropPlan& plan) {
  const double input = plan.input > 0 ? plan.input : plan.min_side;
  const auto resolved = [&](const CropGroup& g, const PixelRect& crop) {
    return std::all_of(g.objects.begin(), g.objects.end(),
                       [&](const PixelRect& o) { return size_on_input(o, crop, input) >= plan.one_pass_min_px; });
  };
  while (groups.size() >= 2) {
    std::size_t bi = 0, bj = 0;
    PixelRect best{0, 0, 0, 0};
    for (std::size_t i = 0; i < groups.size(); ++i) {
      for (std::size_t j = i + 1; j < groups.size(); ++j) {
        const PixelRect c = joint_crop(groups[i].crop, groups[j].crop, W, H);
        if ((bj != 0 && c.area() >= best.area()) || !resolved(groups[i], c) || !resolved(groups[j], c)) continue;
        bi = i;
        bj = j;
        best = c;
      }
    }
    if (bj == 0) return;
    join(groups[bi], std::move(groups[bj]), best);
    groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(bj));
  }
}

// Car, bus and truck are one kind of object for suppression: the model often calls one vehicle both a
// car and a truck with nearly the same box, and the class-aware NMS inside a crop keeps both. Measured on
// sbi-highwayi with the xl model: 265 of 359 false boxes were such a second label on a found vehicle.
bool vehicle(const std::string& label) {
  return label == "car" || label == "bus" || label == "truck";
}
bool same_kind(const std::string& a, const std::string& b) {
  return a == b || (vehicle(a) && vehicle(b));
}

}  // namespace

std::vector<CropPass> plan_crop_passes(const std::vector<Box>& motion_boxes, int frame_width, int frame_height,
                                       const CropPlan& plan) {
  if (motion_boxes.empty() || frame_width <= 0 || frame_height <= 0) return {};
  const double W = frame_width;
  const double H = frame_height;
  std::vector<CropGroup> groups;
  groups.reserve(motion_boxes.size());
  for (const Box& b : motion_boxes)
    groups.push_back({crop_around(b, W, H, plan), {PixelRect{b.x * W, b.y * H, (b.x + b.w) * W, (b.y + b.h) * H}}, {}});
  merge_overlapping(groups);
  // The whole frame once when the crops cover most of it, judged on the crops themselves (before any join).
  double covered = 0;
  for (const auto& g : groups) covered += g.crop.area();
  if (covered >= plan.whole_frame_fraction * W * H) return {CropPass{Box{0, 0, 1, 1}, {Box{0, 0, 1, 1}}}};
  if (plan.one_pass_min_px > 0) join_while_resolved(groups, W, H, plan);
  const auto normalised = [&](const PixelRect& r) { return Box{r.x0 / W, r.y0 / H, r.w() / W, r.h() / H}; };
  std::vector<CropPass> out;
  out.reserve(groups.size());
  for (const auto& g : groups) {
    CropPass pass{normalised(g.crop), {}};
    if (g.parts.empty()) pass.crops.push_back(pass.region);
    for (const auto& part : g.parts) pass.crops.push_back(normalised(part));
    out.push_back(std::move(pass));
  }
  return out;
}

std::vector<Box> plan_crops(const std::vector<Box>& motion_boxes, int frame_width, int frame_height,
                            const CropPlan& plan) {
  std::vector<Box> out;
  for (const CropPass& pass : plan_crop_passes(motion_boxes, frame_width, frame_height, plan))
    out.push_back(pass.region);
  return out;
}

bool within_crops(const CropPass& pass, const Box& detection) {
  if (pass.crops.size() <= 1) return true;  // nothing joined: the pass is the crop, every detection counts
  return std::any_of(pass.crops.begin(), pass.crops.end(),
                     [&](const Box& c) { return intersection_area(c, detection) >= 0.5 * detection.area(); });
}

std::vector<Detection> suppress_duplicates(std::vector<Detection> detections, double iou_limit) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (auto& d : detections) {
    const bool duplicate = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return same_kind(k.label, d.label) && iou(k.box, d.box) > iou_limit;
    });
    if (!duplicate) kept.push_back(std::move(d));
  }
  return kept;
}

}  // namespace matthan
