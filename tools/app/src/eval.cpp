// `matthan eval`: decode a clip, feed every frame through CameraAnalysis, score masks, boxes, incidents.
#include "matthan/app/eval.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "clip_decoder.hpp"
#include "matthan/analysis/camera_analysis.hpp"
#include "matthan/app/config.hpp"
#include "matthan/detect/eval_metrics.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

struct IncidentSpan {
  std::string id, kind, label;
  long start_frame = 0, end_frame = -1;
  double score = 0;
};

struct MaskTruth {
  fs::path dir;
  cv::Mat roi;                    // empty: everything scored
  int first = 0, last = 1 << 30;  // temporalROI, in ground-truth numbering
};

struct Scores {
  MaskCounts mask;
  int mask_frames = 0;
  BoxCounts boxes;
  int box_frames = 0;
  long box_frames_detected = 0;  // scored frames the detector ran on
  long tracked_boxes = 0;        // scored boxes that were a spared track's prediction (recheck_s)
};

Result<CameraConfig> camera_config(const EvalOptions& o) {
  CameraConfig c;
  c.id = "eval";
  if (!o.config.empty()) {
    auto cam = camera_settings_from(o.config, o.camera, "--camera");
    if (!cam) return cam.error();
    c = std::move(cam).value();
  }
  if (o.mode == "keyframes")
    c.detect.mode = DetectMode::kKeyframes;
  else if (o.mode == "every_frame")
    c.detect.mode = DetectMode::kEveryFrame;
  else if (!o.mode.empty())
    return make_error(fmt::format("--mode '{}': use every_frame or keyframes", o.mode));
  return c;
}

// detect.mode keyframes: whether the camera would analyse this frame (see EvalOptions::gop_s).
bool analysed_in_keyframes_mode(long frame, bool keyframe, double fps, double gop_s) {
  if (gop_s <= 0) return keyframe;
  const long every = std::max(1L, std::lround(gop_s * fps));
  return frame % every == 0;
}

MaskTruth mask_truth(const fs::path& dir) {
  MaskTruth t;
  t.dir = dir;
  const fs::path parent = dir.parent_path();
  if (fs::exists(parent / "ROI.bmp")) t.roi = cv::imread((parent / "ROI.bmp").string(), cv::IMREAD_GRAYSCALE);
  std::ifstream troi(parent / "temporalROI.txt");
  if (troi) troi >> t.first >> t.last;
  return t;
}

void score_mask_frame(const CameraAnalysis& a, const MaskTruth& truth, long gt_number, Scores& s) {
  if (gt_number < truth.first || gt_number > truth.last) return;
  const fs::path file = truth.dir / fmt::format("gt{:06d}.png", gt_number);
  if (!fs::exists(file)) return;
  const cv::Mat gt = cv::imread(file.string(), cv::IMREAD_GRAYSCALE);
  if (gt.empty()) return;
  int w = 0, h = 0;
  std::vector<std::uint8_t> mask = a.motion().last_mask(w, h);
  cv::Mat pred = cv::Mat::zeros(gt.size(), CV_8UC1);  // during warm-up: nothing predicted
  if (!mask.empty()) cv::resize(cv::Mat(h, w, CV_8UC1, mask.data()), pred, gt.size(), 0, 0, cv::INTER_NEAREST);
  cv::Mat roi;
  if (!truth.roi.empty()) cv::resize(truth.roi, roi, gt.size(), 0, 0, cv::INTER_NEAREST);
  s.mask.add(score_mask(pred.data, gt.data, roi.empty() ? nullptr : roi.data, gt.total()));
  ++s.mask_frames;
}

// The boxes a frame is scored on: with objects on, the detector's, plus (detect.objects.recheck_s) the
// predicted boxes of the confirmed tracks whose motion it was spared on this frame, which is what the camera
// believes is there; else the motion regions.
struct PredictedBox {
  const char* source = "pred";  // in --dump-boxes: "pred" (detector or motion) or "track" (a spared track)
  std::string label;            // the class, or "motion"
  double score = 1.0;
  Box box;
};

std::vector<PredictedBox> predicted_boxes(const CameraAnalysis& a, const AnalysisOutput& out) {
  std::vector<PredictedBox> boxes;
  if (a.objects_enabled()) {
    for (const auto& d : out.detections) boxes.push_back({"pred", d.label, d.score, d.box});
    for (const auto& t : out.tracked) boxes.push_back({"track", t.label, t.score, t.box});
  } else {
    for (const Box& b : out.motion.boxes) boxes.push_back({"pred", "motion", 1.0, b});
  }
  return boxes;
}

std::vector<Box> boxes_of(const std::vector<PredictedBox>& predicted) {
  std::vector<Box> out;
  out.reserve(predicted.size());
  for (const auto& p : predicted) out.push_back(p.box);
  return out;
}

void dump_frame_boxes(std::ofstream& out, long frame, const std::vector<PredictedBox>& predicted,
                      const std::vector<Box>& truth) {
  const auto line = [&](const char* source, const std::string& label, double score, const Box& b) {
    out << fmt::format("{},{},{},{:.3f},{:.4f},{:.4f},{:.4f},{:.4f}\n", frame, source, label, score, b.x, b.y, b.w,
                       b.h);
  };
  for (const auto& p : predicted) line(p.source, p.label, p.score, p.box);
  for (const Box& b : truth) line("gt", "", 1.0, b);
}

void record_events(const AnalysisOutput& out, long frame, double fps, std::map<std::string, IncidentSpan>& spans,
                   std::vector<std::string>& order) {
  for (const auto& [phase, inc] : out.events) {
    IncidentSpan& s = spans[inc.id];
    if (phase == IncidentPhase::kStart) {
      s.id = inc.id;
      s.kind = to_string(inc.kind);
      s.start_frame = frame;
      order.push_back(inc.id);
    }
    s.label = inc.label.value_or("");
    s.score = std::max(s.score, inc.score);
    if (phase == IncidentPhase::kEnd) s.end_frame = std::lround(static_cast<double>(inc.end_pts) / kNsPerSecond * fps);
  }
}

nlohmann::ordered_json report_json(const EvalOptions& o, long frames, double fps, const Scores& s,
                                   const std::vector<IncidentSpan>& incidents, const CameraAnalysis& a) {
  using J = nlohmann::ordered_json;
  J j;
  j["clip"] = o.clip.string();
  j["frames"] = frames;
  j["fps"] = fps;
  j["detector"] = a.describe();
  j["motion"] = s.mask_frames ? J{{"precision", s.mask.precision()},
                                  {"recall", s.mask.recall()},
                                  {"f1", s.mask.f1()},
                                  {"frames_scored", s.mask_frames}}
                              : J(nullptr);
  j["boxes"] = s.box_frames ? J{{"precision", s.boxes.precision()},
                                {"recall", s.boxes.recall()},
                                {"tp", s.boxes.tp},
                                {"fp", s.boxes.fp},
                                {"fn", s.boxes.fn},
                                {"frames_scored", s.box_frames},
                                {"frames_detected", s.box_frames_detected},
                                {"tracked_boxes", s.tracked_boxes}}
                            : J(nullptr);
  J list = J::array();
  for (const auto& i : incidents)
    list.push_back({{"start_frame", i.start_frame},
                    {"end_frame", i.end_frame},
                    {"kind", i.kind},
                    {"label", i.label.empty() ? J(nullptr) : J(i.label)},
                    {"score", std::round(i.score * 1000) / 1000}});
  j["incidents"] = list;
  if (a.detector()) {
    j["forward_calls"] = a.detector()->forward_calls();
    j["crops"] = a.detector()->crops_seen();  // images through the network: a call's cost grows with its crops
  }
  j["global_changes"] = a.global_changes();
  j["still_skipped"] = a.still_skipped();
  return j;
}

void print_text(const nlohmann::ordered_json& j) {
  fmt::print("clip      {}\nframes    {} at {:.2f} fps, {} analysed ({})\nanalysis  {}\n", j["clip"].get<std::string>(),
             j["frames"].get<long>(), j["fps"].get<double>(), j["frames_analysed"].get<long>(),
             j["mode"].get<std::string>(), j["detector"].get<std::string>());
  if (!j["motion"].is_null())
    fmt::print("motion    precision {:.3f}  recall {:.3f}  F {:.3f}  ({} frames)\n",
               j["motion"]["precision"].get<double>(), j["motion"]["recall"].get<double>(),
               j["motion"]["f1"].get<double>(), j["motion"]["frames_scored"].get<int>());
  if (!j["boxes"].is_null())
    fmt::print(
        "boxes     precision {:.3f}  recall {:.3f}  (tp {} fp {} fn {}, {} frames, detector on {}, {} track "
        "boxes)\n",
        j["boxes"]["precision"].get<double>(), j["boxes"]["recall"].get<double>(), j["boxes"]["tp"].get<long>(),
        j["boxes"]["fp"].get<long>(), j["boxes"]["fn"].get<long>(), j["boxes"]["frames_scored"].get<int>(),
        j["boxes"]["frames_detected"].get<long>(), j["boxes"]["tracked_boxes"].get<long>());
  if (j.contains("forward_calls"))
    fmt::print("detector  {} forward calls on {} crops\n", j["forward_calls"].get<long>(), j["crops"].get<long>());
  fmt::print("vetoed    {} global changes (lighting)\n", j["global_changes"].get<std::uint64_t>());
  fmt::print("still     {} frames skipped by the still-frame gate\n", j["still_skipped"].get<std::uint64_t>());
  fmt::print("incidents {}\n", j["incidents"].size());
  for (const auto& i : j["incidents"])
    fmt::print("  frames {:>5} .. {:>5}  {:<10} {:<10} {:.2f}\n", i["start_frame"].get<long>(),
               i["end_frame"].get<long>(), i["kind"].get<std::string>(),
               i["label"].is_null() ? "-" : i["label"].get<std::string>(), i["score"].get<double>());
}

}  // namespace

int run_eval(const EvalOptions& o) {
  auto cam = camera_config(o);
  if (!cam.ok()) {
    fmt::print(stderr, "{}\n", cam.error().message);
    return 2;
  }
  auto analysis = CameraAnalysis::create(cam.value().analysis());
  if (!analysis.ok()) {
    fmt::print(stderr, "{}\n", analysis.error().message);
    return 2;
  }
  CameraAnalysis& a = *analysis.value();
  auto dec = ClipDecoder::open(o.clip);
  if (!dec.ok()) {
    fmt::print(stderr, "{}\n", dec.error().message);
    return 2;
  }
  std::optional<MaskTruth> masks;
  if (!o.gt_masks.empty()) {
    if (!fs::is_directory(o.gt_masks)) {
      fmt::print(stderr, "--gt-masks {}: not a folder\n", o.gt_masks.string());
      return 2;
    }
    masks = mask_truth(o.gt_masks);
  }
  std::optional<std::map<int, std::vector<Box>>> boxes;
  if (!o.gt_boxes.empty()) {
    auto b = read_gt_summary(o.gt_boxes, (*dec)->width(), (*dec)->height());
    if (!b.ok()) {
      fmt::print(stderr, "{}\n", b.error().message);
      return 2;
    }
    boxes = std::move(b.value());
  }
  // Boxes are scored over the same temporal ROI as masks (temporalROI.txt next to the csv).
  const MaskTruth box_roi = o.gt_boxes.empty() ? MaskTruth{} : mask_truth(fs::absolute(o.gt_boxes).parent_path() / "x");
  if (!o.json) spdlog::info("eval: {}", a.describe());
  std::ofstream dump;
  if (!o.dump_boxes.empty()) {
    dump.open(o.dump_boxes);
    if (!dump) {
      fmt::print(stderr, "--dump-boxes {}: cannot write\n", o.dump_boxes.string());
      return 2;
    }
    dump << "frame,source,label,score,x,y,w,h\n";
  }

  Scores s;
  std::map<std::string, IncidentSpan> spans;
  std::vector<std::string> order;
  long frames = 0;
  MediaTimeNs last_pts = 0;
  WallTime last_wall{};
  const double fps = (*dec)->fps();
  const bool keyframes_only = cam.value().detect.mode == DetectMode::kKeyframes;
  long analysed = 0;
  while (auto frame = (*dec)->next()) {
    // Keyframes mode: the frames in between are never decoded for analysis, so they are neither analysed
    // nor scored (the mask and box figures are over the analysed frames).
    if (keyframes_only && !analysed_in_keyframes_mode(frames, (*dec)->keyframe(), fps, o.gop_s)) {
      last_pts = frame->pts;
      last_wall = frame->wall;
      ++frames;
      continue;
    }
    ++analysed;
    const AnalysisOutput out = a.process(*frame);
    const long gt_number = frames + o.gt_offset;
    if (masks) score_mask_frame(a, *masks, gt_number, s);
    if (boxes) {
      const auto it = boxes->find(static_cast<int>(gt_number));
      const bool in_roi = gt_number >= box_roi.first && gt_number <= box_roi.last;
      if (it != boxes->end() && in_roi) {
        const auto predicted = predicted_boxes(a, out);
        s.boxes.add(score_boxes(boxes_of(predicted), it->second, 0.3, o.min_box_area));
        ++s.box_frames;
        s.box_frames_detected += out.detector_ran;
        s.tracked_boxes += static_cast<long>(out.tracked.size());
        if (dump.is_open()) dump_frame_boxes(dump, frames, predicted, it->second);
      }
    }
    record_events(out, frames, fps, spans, order);
    last_pts = frame->pts;
    last_wall = frame->wall;
    ++frames;
  }
  AnalysisOutput tail;
  for (Incident& inc : a.close(last_pts, last_wall, "end_of_clip")) tail.events.emplace_back(IncidentPhase::kEnd, inc);
  record_events(tail, frames, fps, spans, order);

  std::vector<IncidentSpan> incidents;
  for (const auto& id : order) incidents.push_back(spans[id]);
  auto j = report_json(o, frames, fps, s, incidents, a);
  j["mode"] = keyframes_only ? "keyframes" : "every_frame";
  j["frames_analysed"] = analysed;
  if (o.json)
    fmt::print("{}\n", j.dump());
  else
    print_text(j);
  return 0;
}

}  // namespace matthan
