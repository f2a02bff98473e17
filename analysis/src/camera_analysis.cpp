// CameraAnalysis: motion, object detection only where motion is, tracking, and the incident logic.
#include "matthan/analysis/camera_analysis.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iterator>

#include "matthan/core/logging.hpp"

namespace matthan {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// detect.mode: keyframes analyses about one frame per GOP (typically 2 s, 0.5 fps) instead of detect.fps.
// Settings given in seconds keep their meaning at that rate once nothing forgets a region or a track
// between two keyframes; settings counted in frames are rescaled to the same time they cover at 5 fps.
// The values cover keyframe intervals up to about 4 s (docs/config.md "detect.mode").
bool keyframes(const AnalysisSettings& c) {
  return c.detect.mode == DetectMode::kKeyframes;
}
constexpr int kKeyframeHistory = 50;  // KNN history: ~100 s at a 2 s GOP (the default 500 is ~100 s at 5 fps)
constexpr int kKeyframePrime = 9;     // the first keyframe is learnt 10 times: KNN's samples are filled at once
constexpr int kKeyframeWarmup = 1;    // so motion is reported from the second keyframe on (~2 s, as 10 frames at 5 fps)
constexpr double kKeyframeMaxGapS = 5.0;     // the gate keeps a region across one missing keyframe or two
constexpr double kKeyframeTentativeS = 5.0;  // an unconfirmed track survives to the next keyframe
constexpr int kKeyframeConfirmHits = 2;      // two keyframes (~2 s) instead of three frames
constexpr double kKeyframePredictS = 4.0;    // the tracker's velocity reaches the next keyframe

// Two boxes of one kind overlapping by more than this are one object, the better-scored box stays. The
// model's own NMS (0.45) leaves a second, weaker box on one person (head and shoulders, or a shifted
// body): 83 of the 117 false boxes on sbi-hallandmonitor overlapped a found person by IoU 0.3-0.5. At
// 0.3 no true box was lost on caviar1, hallandmonitor or highwayi
// (bench/journal/2026-11-29-object-boxes-per-camera.md).
constexpr double kDuplicateIou = 0.3;

// How far back CameraAnalysis keeps the analysed frames' wall times: more than the gate's travel window
// (1 s), the farthest back GateResult::since reaches.
constexpr MediaTimeNs kRecentWallsNs = 3 * kNsPerSecond;

MotionConfig motion_config(const AnalysisSettings& c) {
  MotionConfig m;
  if (keyframes(c)) {
    m.history = kKeyframeHistory;
    m.warmup_frames = kKeyframeWarmup;
    m.prime_repeats = kKeyframePrime;
  }
  m.min_area = c.motion.min_area;
  m.veto_fraction = c.motion.veto_fraction;
  m.veto_structure = c.motion.veto_structure;
  // Keyframes are about one GOP (2 s) apart: each is analysed, as before the gate.
  m.still_level = keyframes(c) ? 0.0 : c.motion.still_level;
  m.still_refresh_s = c.motion.still_refresh_s;
  for (const auto& poly : c.masks) m.masks.emplace_back(poly.begin(), poly.end());
  return m;
}

std::unique_ptr<MotionGate> motion_gate(const AnalysisSettings& c) {
  if (!c.motion.gate) return nullptr;
  MotionGateConfig g;
  g.min_area = c.motion.min_area;
  g.persist_s = c.motion.gate_persist_s;
  // The incident's start_frames are counted by the gate, in its persistence window (motion_policy sets the
  // incident's own count to 1): in series they added up to 0.8 s at 5 fps.
  g.min_frames = keyframes(c) ? 1 : c.motion.start_frames;
  // Keyframes are about one GOP apart: a solid region waits for a second keyframe as before.
  g.solid_persist_s = keyframes(c) ? -1.0 : c.motion.gate_solid_persist_s;
  g.min_travel = c.motion.gate_travel;
  g.activity_s = c.motion.gate_activity_s;
  g.nuisance_level = c.motion.gate_nuisance;
  if (keyframes(c)) g.max_gap_s = std::max(g.max_gap_s, kKeyframeMaxGapS);
  g.travel_area = c.motion.gate_travel_area;
  g.light_match = c.motion.gate_light_match;
  return std::make_unique<MotionGate>(g);
}

IncidentPolicy motion_policy(const AnalysisSettings& c) {
  IncidentPolicy p;
  // start_frames counts analysed frames: 3 at 5 fps is 0.6 s, less than one keyframe interval. With the gate,
  // the gate counts them (MotionGateConfig::min_frames) and one gated frame starts the incident.
  p.start_frames = keyframes(c) || c.motion.gate ? 1 : c.motion.start_frames;
  p.end_seconds = c.motion.end_seconds;
  p.max_length_s = c.clip.max_length;
  return p;
}

// Motion score: how solid the largest moving region is (foreground share of its box), in 0..1.
double motion_score(const MotionResult& m) {
  if (m.boxes.empty()) return 0.0;
  const double area = std::max(m.boxes.front().area(), 1e-6);
  return std::clamp(m.foreground_fraction / area, 0.0, 1.0);
}

ObjectIncidentPolicy object_policy(const AnalysisSettings& c) {
  ObjectIncidentPolicy p;
  p.labels = c.detect.objects.labels;
  p.end_seconds = c.motion.end_seconds;
  p.max_length_s = c.clip.max_length;
  return p;
}

RuleIncidentPolicy rule_policy(const AnalysisSettings& c) {
  RuleIncidentPolicy p;
  p.end_seconds = c.motion.end_seconds;
  p.max_length_s = c.clip.max_length;
  return p;
}

TrackerConfig tracker_config(const AnalysisSettings& c) {
  TrackerConfig t;
  t.confirm_hits = c.detect.objects.confirm_frames;
  if (keyframes(c)) {
    t.confirm_hits = std::min(t.confirm_hits, kKeyframeConfirmHits);
    t.tentative_unseen_s = std::max(t.tentative_unseen_s, kKeyframeTentativeS);
    t.predict_horizon_s = std::max(t.predict_horizon_s, kKeyframePredictS);
  }
  return t;
}

Result<std::unique_ptr<ObjectDetector>> make_detector(const ObjectSettings& o) {
  if (!o.model) {
    HogConfig h;
    auto it = o.min_score.find("person");
    if (it == o.min_score.end()) it = o.min_score.find("default");
    if (it != o.min_score.end()) h.min_score = it->second;
    return make_hog_detector(h);
  }
  DnnModelConfig d;
  d.cfg = o.model->cfg;
  d.weights = o.model->weights;
  d.names = o.model->names;
  d.input = o.model->input;
  d.labels = o.labels;
  d.min_score = o.min_score;
  return make_dnn_detector(d);
}

}  // namespace

Result<std::unique_ptr<CameraAnalysis>> CameraAnalysis::create(const AnalysisSettings& camera) {
  std::unique_ptr<ObjectDetector> detector;
  if (camera.detect.objects.enabled) {
    auto d = make_detector(camera.detect.objects);
    if (!d.ok()) return make_error(fmt::format("camera {}: detect.objects.model: {}", camera.id, d.error().message));
    detector = std::move(d.value());
  }
  return create(camera, std::move(detector));
}

Result<std::unique_ptr<CameraAnalysis>> CameraAnalysis::create(const AnalysisSettings& camera,
                                                               std::unique_ptr<ObjectDetector> detector) {
  TimeZone tz = TimeZone::fixed("UTC", 0);
  if (detector && !camera.rules.rules.empty()) {
    auto z = TimeZone::load(camera.rules.time_zone);
    if (!z.ok()) return make_error(fmt::format("camera {}: time_zone: {}", camera.id, z.error().message));
    tz = std::move(z.value());
  }
  return std::unique_ptr<CameraAnalysis>(new CameraAnalysis(camera, std::move(detector), std::move(tz)));
}

CameraAnalysis::CameraAnalysis(const AnalysisSettings& camera, std::unique_ptr<ObjectDetector> detector,
                               TimeZone time_zone)
    : camera_(camera.id),
      motion_(motion_config(camera)),
      motion_incidents_(camera.id, motion_policy(camera)),
      motion_gate_(motion_gate(camera)),
      detector_(std::move(detector)),
      tracker_(tracker_config(camera)),
      zone_map_(camera.rules.zones, {}, {}),
      time_zone_(std::move(time_zone)) {
  if (detector_) {
    const CropSettings& crop = camera.detect.objects.crop;
    crop_plan_.min_side = crop.min_side > 0 ? crop.min_side : detector_->input_size();
    crop_plan_.margin = crop.margin;
    crop_plan_.whole_frame_fraction = crop.whole_frame;
    crop_plan_.input = detector_->input_size();
    crop_plan_.one_pass_min_px = crop.one_pass_min_px;
    recheck_s_ = camera.detect.objects.recheck_s;
    object_incidents_ = std::make_unique<ObjectIncidentManager>(camera.id, object_policy(camera));
    if (!camera.rules.rules.empty())
      rule_incidents_ = std::make_unique<RuleIncidentManager>(camera.id, camera.rules.zones, camera.rules.lines,
                                                              camera.rules.rules, rule_policy(camera));
  }
}

std::string CameraAnalysis::describe() const {
  if (!detector_) return "motion incidents (no detect.objects block)";
  if (rule_incidents_) {
    std::vector<std::string> rules;
    for (const Rule& r : rule_incidents_->rules()) rules.push_back(fmt::format("{} {}", to_string(r.kind), r.target));
    return fmt::format("rule incidents [{}] (time zone {}) on objects from {} on motion, labels [{}]",
                       fmt::join(rules, ", "), time_zone_.name(), detector_->describe(),
                       fmt::join(object_incidents_->policy().labels, ", "));
  }
  return fmt::format("object incidents from {} on motion (crops of at least {} px), labels [{}]", detector_->describe(),
                     crop_plan_.min_side, fmt::join(object_incidents_->policy().labels, ", "));
}

AnalysisOutput CameraAnalysis::process(const Frame& frame) {
  AnalysisOutput out;
  if (size_watch_.changed(frame)) {
    // A new picture: the background model, the gate's habits and the tracks start afresh. Open incidents
    // stay open and end the usual way (no motion for end_seconds once the new model has warmed up).
    camera_logger(camera_)->info("camera picture size changed to {}x{}: motion model and tracks restart",
                                 frame.source_width, frame.source_height);
    motion_.reset();
    if (motion_gate_) motion_gate_->reset();
    tracker_.reset();
  }
  // No frame is skipped as still while something is happening on this camera: a person who sits still must
  // keep his incident open with his small moves (Wallflower TimeOfDay: bench/journal/2026-11-29-still-frame-gate.md).
  motion_.hold_still_gate(detector_ ? (!tracker_.tracks().empty() || object_incidents_->open_count() > 0 ||
                                       (rule_incidents_ && rule_incidents_->open_count() > 0))
                                    : motion_incidents_.active());
  const auto t0 = std::chrono::steady_clock::now();
  out.motion = motion_.process(frame);
  out.motion_seconds = seconds_since(t0);
  last_pts_ = frame.pts;
  if (detector_)
    process_objects(frame, out);
  else
    process_motion_incidents(frame, out);
  return out;
}

void CameraAnalysis::process_motion_incidents(const Frame& frame, AnalysisOutput& out) {
  Observation o;
  o.pts = frame.pts;
  o.wall = frame.wall;
  // The analysed frames' wall times over the gate's travel window (and a little more), oldest first.
  while (!recent_walls_.empty() &&
         (recent_walls_.back().first > frame.pts || frame.pts - recent_walls_.front().first > kRecentWallsNs))
    recent_walls_.pop_front();
  recent_walls_.emplace_back(frame.pts, frame.wall);
  if (motion_gate_) {
    // Only regions that persist and travel (or are solid) count; the mask itself stays as it is.
    int w = 0, h = 0;
    const std::vector<std::uint8_t> mask = motion_.last_mask(w, h);
    const GateResult g = motion_gate_->update(mask, w, h, frame.pts,
                                              [this](const Box& region) { return motion_.background_match(region); });
    o.motion = g.motion;
    o.box = g.box;
    o.score = g.score;
    // Dated from the first frame of the region's run (the onset), not the frame that confirmed it.
    if (g.motion && g.since < frame.pts) {
      for (const auto& [pts, wall] : recent_walls_) {
        if (pts != g.since) continue;
        o.since_pts = pts;
        o.since_wall = wall;
        break;
      }
    }
  } else {
    o.motion = out.motion.motion;
    if (!out.motion.boxes.empty()) o.box = out.motion.boxes.front();
    o.score = motion_score(out.motion);
  }
  const ObserveResult r = motion_incidents_.observe(o);
  for (const auto& [phase, inc] : r.events) out.events.push_back({phase, inc});
  if (r.best_frame && motion_incidents_.active()) out.best_frame.push_back(*motion_incidents_.current());
}

CameraAnalysis::DetectionBudget CameraAnalysis::boxes_to_detect(const std::vector<Box>& motion, MediaTimeNs pts) const {
  DetectionBudget budget;
  if (recheck_s_ <= 0) {
    budget.to_detect = motion;
    return budget;
  }
  // A motion box is explained when at least half of it lies in the predicted boxes of confirmed tracks whose
  // last detection is recent: the objects are known, and moving as expected. (One motion box often holds
  // two people walking together, so the tracks' shares add up; tracks rarely overlap much.)
  const auto recent = static_cast<MediaTimeNs>(recheck_s_ * kNsPerSecond);
  std::vector<std::pair<std::int64_t, Box>> known;
  for (const Track& t : tracker_.tracks())
    if (t.confirmed && pts - t.last_seen < recent) known.emplace_back(t.id, t.predicted(pts, 1.0));
  std::vector<bool> explains(known.size(), false);
  for (const Box& m : motion) {
    double covered = 0;
    std::vector<std::size_t> overlapping;
    for (std::size_t k = 0; k < known.size(); ++k) {
      const double shared = intersection_area(m, known[k].second);
      if (shared <= 0) continue;
      covered += shared;
      overlapping.push_back(k);
    }
    if (covered < 0.5 * m.area()) {
      budget.to_detect.push_back(m);
      continue;
    }
    for (std::size_t k : overlapping) explains[k] = true;
  }
  for (std::size_t k = 0; k < known.size(); ++k)
    if (explains[k]) budget.explaining.push_back(known[k]);
  return budget;
}

std::vector<Detection> CameraAnalysis::tracked_boxes(const std::vector<std::pair<std::int64_t, Box>>& explaining,
                                                     const std::vector<Box>& looked_at, MediaTimeNs pts) const {
  std::vector<Detection> out;
  for (const auto& [id, predicted] : explaining) {
    // The part of the prediction inside the picture (an object leaving is predicted past the border).
    const Box box = clip_to_picture(predicted);
    if (box.w <= 0 || box.h <= 0) continue;
    const auto t =
        std::find_if(tracker_.tracks().begin(), tracker_.tracks().end(), [&](const Track& x) { return x.id == id; });
    // A track the detector saw on this frame (its motion also reached a crop) is already among the
    // detections.
    if (t == tracker_.tracks().end() || t->last_seen == pts) continue;
    // A crop of another motion box covered it and the detector did not find it there: it looked, so no belief
    // stands in for its answer (on small frames every crop is the whole picture).
    if (std::any_of(looked_at.begin(), looked_at.end(),
                    [&](const Box& r) { return intersection_area(box, r) >= 0.5 * box.area(); }))
      continue;
    out.push_back(Detection{t->label, t->score, box});
  }
  return out;
}

void CameraAnalysis::process_objects(const Frame& frame, AnalysisOutput& out) {
  // The detector only ever sees frames with motion, and only the parts that moved.
  const DetectionBudget budget = out.motion.motion ? boxes_to_detect(out.motion.boxes, frame.pts) : DetectionBudget{};
  std::vector<Box> looked_at;  // the crops the detector's passes stand for
  if (!budget.to_detect.empty()) {
    const std::vector<CropPass> passes = plan_crop_passes(budget.to_detect, frame.width, frame.height, crop_plan_);
    std::vector<CropRequest> crops;
    crops.reserve(passes.size());
    for (const CropPass& p : passes) {
      crops.push_back(CropRequest{&frame, p.region});
      looked_at.insert(looked_at.end(), p.crops.begin(), p.crops.end());
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto per_crop = detector_->detect(crops);
    out.detector_seconds = seconds_since(t0);
    // A pass that joined crops (detect.objects.crop.one_pass_min_px) also saw what lies between them: only
    // what the crops themselves would have seen counts (a parked car there is no news).
    for (std::size_t k = 0; k < per_crop.size(); ++k)
      std::copy_if(per_crop[k].begin(), per_crop[k].end(), std::back_inserter(out.detections),
                   [&](const Detection& d) { return within_crops(passes[k], d.box); });
    out.detections = suppress_duplicates(std::move(out.detections), kDuplicateIou);
    out.detector_ran = !crops.empty();
    out.detector_crops = crops.size();
    tracker_.update(out.detections, frame.pts);
  } else {
    tracker_.age(frame.pts);
  }
  out.tracked = tracked_boxes(budget.explaining, looked_at, frame.pts);
  // With rules, the rules decide what is an incident; without, every confirmed track of a wanted label.
  const std::vector<TrackObservation> tracks = track_observations(frame.pts);
  ObjectObserveResult r =
      rule_incidents_ ? rule_incidents_->observe(tracks, frame.pts, frame.wall, time_zone_.minute_of_day(frame.wall))
                      : object_incidents_->observe(tracks, frame.pts, frame.wall);
  for (auto& [phase, inc] : r.events) out.events.push_back({phase, std::move(inc)});
  for (const std::string& id : r.best_frame_ids) {
    // The incident as it stands now (after this frame's update), found among this frame's events or tracks.
    for (const auto& [phase, inc] : out.events) {
      if (inc.id == id) {
        out.best_frame.push_back(inc);
        break;
      }
    }
    if (!out.best_frame.empty() && out.best_frame.back().id == id) continue;
    if (auto inc = rule_incidents_ ? rule_incidents_->find(id) : object_incidents_->find(id))
      out.best_frame.push_back(*inc);
  }
}

std::vector<TrackObservation> CameraAnalysis::track_observations(MediaTimeNs pts) const {
  std::vector<TrackObservation> obs;
  obs.reserve(tracker_.tracks().size());
  for (const Track& t : tracker_.tracks()) {
    TrackObservation o;
    o.id = t.id;
    o.label = t.label;
    o.score = t.score;
    o.box = t.box;
    o.confirmed = t.confirmed;
    // Track::seen means "in the detector's latest run", which stays true over frames the detector
    // skipped (no motion): the incident logic needs "detected in this frame".
    o.seen = t.seen && t.last_seen == pts;
    o.speed = t.speed();
    o.last_seen = t.last_seen;
    o.zones = zone_map_.zones_of(t.box);
    obs.push_back(std::move(o));
  }
  return obs;
}

std::vector<Incident> CameraAnalysis::close(MediaTimeNs pts, WallTime wall, const std::string& reason) {
  if (rule_incidents_) return rule_incidents_->close_all(reason);
  if (object_incidents_) return object_incidents_->close_all(pts, wall, reason);
  std::vector<Incident> out;
  if (auto inc = motion_incidents_.close(pts, wall, reason)) out.push_back(*inc);
  return out;
}

}  // namespace matthan
