// The config file's field tables: every key once, with the member of its module's settings it sets, its bounds and
// its docs row. config.cpp reads through them; config_key_tables() prints docs/config.md's key tables from them.
#include "config_tables.hpp"

#include <regex>
#include <set>

#include "matthan/core/time_zone.hpp"

namespace matthan {
namespace config {
namespace {

// ---- detect.objects ----

// A model file path, relative to the config file; it must exist (a missing model is a config error).
void read_model_file(ConfigReader& r, const YAML::Node& n, const char* key, const std::string& path,
                     std::filesystem::path& out, bool required) {
  std::string text;
  if (!r.string(n, key, path, text, 4096)) {
    if (required && !n[key].IsDefined()) r.issue(n, ConfigReader::join(path, key), "is required");
    return;
  }
  std::filesystem::path p(text);
  if (p.is_relative()) p = r.base_dir / p;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) {
    r.issue(n[key], ConfigReader::join(path, key), fmt::format("model file {} does not exist", p.string()));
    return;
  }
  out = p.lexically_normal();
}

template <std::filesystem::path ObjectModelSettings::*M>
auto model_file(const char* key, bool required) {
  return [key, required](ConfigReader& r, const YAML::Node& n, const std::string& path, ObjectModelSettings& m) {
    read_model_file(r, n, key, path, m.*M, required);
  };
}

const Table<ObjectModelSettings>& model_table() {
  static const Table<ObjectModelSettings> t{
      custom<ObjectModelSettings>(
          "cfg", {"", "path", "required with `model`", "must exist", "Darknet `.cfg`, relative to the config file"},
          model_file<&ObjectModelSettings::cfg>("cfg", true)),
      custom<ObjectModelSettings>("weights",
                                  {"", "path", "required with `model`", "must exist",
                                   "Darknet `.weights`; a file cv::dnn refuses is an error at start-up naming it"},
                                  model_file<&ObjectModelSettings::weights>("weights", true)),
      custom<ObjectModelSettings>(
          "names", {"", "path", "COCO's 80 names", "must exist", "class names, one a line (spaces become `_`)"},
          model_file<&ObjectModelSettings::names>("names", false)),
      number("input", &ObjectModelSettings::input, 96, 1280, "network input side", bounds_note(", multiple of 32")),
  };
  return t;
}

void read_object_model(ConfigReader& r, const YAML::Node& map, const std::string& parent, ObjectSettings& o) {
  const YAML::Node n = map["model"];
  if (!n.IsDefined()) return;
  const std::string path = ConfigReader::join(parent, "model");
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, keys_of(model_table()));
  ObjectModelSettings m = o.model.value_or(ObjectModelSettings{});
  read_fields(r, n, path, model_table(), m);
  if (m.input % 32 != 0) r.issue(n["input"], ConfigReader::join(path, "input"), "must be a multiple of 32");
  o.model = m;
}

void read_object_labels(ConfigReader& r, const YAML::Node& map, const std::string& parent, ObjectSettings& o) {
  const YAML::Node n = map["labels"];
  if (!n.IsDefined()) return;
  const std::string path = ConfigReader::join(parent, "labels");
  if (!n.IsSequence() || n.size() == 0) {
    r.issue(n, path, "must be a non-empty list of labels, e.g. [person, car]");
    return;
  }
  static const std::regex kLabel("[a-z][a-z0-9_]{0,63}");
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar() || !std::regex_match(n[i].Scalar(), kLabel)) {
      r.issue(n[i], fmt::format("{}[{}]", path, i), "must be a label such as person, motorbike, car");
      continue;
    }
    labels.push_back(n[i].Scalar());
  }
  o.labels = std::move(labels);
}

void read_min_scores(ConfigReader& r, const YAML::Node& map, const std::string& parent, ObjectSettings& o) {
  const YAML::Node n = map["min_score"];
  if (!n.IsDefined()) return;
  const std::string path = ConfigReader::join(parent, "min_score");
  if (!r.expect_map(n, path)) return;
  for (const auto& kv : n) {
    const std::string label = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    double v = 0;
    if (!kv.second.IsScalar() || !YAML::convert<double>::decode(kv.second, v) || v < 0.01 || v > 1.0) {
      r.issue(kv.second, ConfigReader::join(path, label), "must be a score in [0.01, 1]");
      continue;
    }
    o.min_score[label] = v;
  }
}

const Table<CropSettings>& crop_table() {
  static const Table<CropSettings> t{
      number("min_side", &CropSettings::min_side, 0, 4096,
             "smallest side of a crop around a motion box, in frame pixels; 0: the model's input size (objects are "
             "never shrunk, never zoomed). Smaller than the input size zooms in: a 128 px crop is stretched to a 320 "
             "px input, 2.5 ×, so a small model sees small, far objects (docs/ACCURACY.md); it costs more crops, hence "
             "forward calls, on a busy scene",
             zero_or_at_least(32, " pixels", "for the model's input size")),
      number("margin", &CropSettings::margin, 0.0, 2.0,
             "each motion box grows by this share of its size on every side before it is squared up"),
      number("whole_frame", &CropSettings::whole_frame, 0.05, 1.0,
             "when the crops together cover at least this share of the frame, the detector looks at the whole frame "
             "once instead"),
      number("one_pass_min_px", &CropSettings::one_pass_min_px, 0.0, 4096.0,
             "one pass instead of several: each crop costs a whole forward pass (about 12 ms of CPU at 320, whatever "
             "its size), so two crops of a frame become one on the square around them while every motion box in it "
             "still spans at least this many pixels of the model's input (the geometric mean of its width and height "
             "there); the nearest crops first, until no two can join. Only what the joined crops themselves would have "
             "seen counts (a detection at least half inside one of them), so a parked car between two walkers is no "
             "news. 0: never. Off by default: on a busy 720p scene with `recheck_s: 0`, 32 cuts the crops 14 % and "
             "loses 3.4 % of the per-crop detections, 24 cuts 31 % and loses 6.8 %; with the default `recheck_s: 1` "
             "most calls have one crop already, it saves 2–12 % and breaks more tracks (docs/ACCURACY.md \"One pass "
             "instead of several crops\"). Frames of 384 px and less are one crop anyway with the default `min_side`"),
  };
  return t;
}

const Table<ObjectSettings>& objects_table() {
  static const Table<ObjectSettings> t{
      block<ObjectSettings, ObjectModelSettings>("model", &model_table, read_object_model),
      custom<ObjectSettings>("labels",
                             {"", "list", "`[person, bicycle, motorbike, car, bus, truck]`", "labels of the model",
                              "labels that raise incidents (docs/events.md)"},
                             read_object_labels),
      custom<ObjectSettings>("min_score",
                             {"", "mapping label → number", "`{person: 0.4, default: 0.5}`", "0.01 .. 1",
                              "score floor per label; `default` for the others"},
                             read_min_scores),
      number("confirm_frames", &ObjectSettings::confirm_frames, 1, 50,
             "detections of a track before it is confirmed and may raise an incident"),
      block("crop", &ObjectSettings::crop, &crop_table),
      number("recheck_s", &ObjectSettings::recheck_s, 0.0, 10.0,
             "detection budget: a motion box lying at least half inside the predicted box of a confirmed track "
             "detected less than this many seconds ago is not sent to the detector again (the track keeps its incident "
             "and its id; its box is re-measured about once per `recheck_s`). New motion is looked at on the frame it "
             "appears, and a track is detected on every frame until it is confirmed. 0: every analysed frame with "
             "motion goes to the detector (the default before it was measured). On a busy scene it cuts forward calls "
             "several times (docs/PERFORMANCE.md) for the same incidents and box recall (docs/ACCURACY.md, \"Detection "
             "budget\"); between rechecks the track is followed by its predicted box while its incident, zones and "
             "lines keep its last detected box, so keep it under `motion.end_seconds` and, with line or zone rules, "
             "short or 0 (a crossing is seen up to `recheck_s` late): a camera with `rules` therefore defaults to 0 "
             "unless the key is given, in its block or in `defaults`",
             default_note("; 0 on a camera with `rules`")),
  };
  return t;
}

// `objects:` alone (or empty) turns object detection on with every default (the HOG people detector).
void read_objects(ConfigReader& r, const YAML::Node& map, const std::string& parent, DetectSettings& d) {
  const YAML::Node n = map["objects"];
  if (!n.IsDefined()) return;
  const std::string path = ConfigReader::join(parent, "objects");
  ObjectSettings& o = d.objects;
  o.enabled = true;
  if (n.IsNull()) return;
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, keys_of(objects_table()));
  read_fields(r, n, path, objects_table(), {"model", "labels", "min_score", "confirm_frames", "recheck_s"}, o);
  if (n["recheck_s"].IsDefined()) o.recheck_s_given = true;
}

// ---- detect, motion, clip, watchdog, tamper ----

const Table<DetectSettings>& detect_table();

// The width and height are read, then checked (each, then together), before the rest.
void read_detect(ConfigReader& r, const YAML::Node& map, const std::string& parent, CameraConfig& c) {
  const YAML::Node n = map["detect"];
  if (!n.IsDefined()) return;
  const std::string path = ConfigReader::join(parent, "detect");
  if (!r.expect_map(n, path)) return;
  const Table<DetectSettings>& table = detect_table();
  r.check_keys(n, path, keys_of(table));
  DetectSettings& d = c.detect;
  for (auto key : {"width", "height"}) read_field(r, n, path, table, key, d, false);
  for (auto key : {"width", "height"}) check_field(r, n, path, table, key, d);
  if ((d.width == 0) != (d.height == 0))
    r.issue(n, path, "set width and height together (or neither: the camera's own size)");
  for (const auto& f : table)
    if (f.key != "width" && f.key != "height") read_field(r, n, path, table, f.key, d);
}

const Table<DetectSettings>& detect_table() {
  static const Table<DetectSettings> t{
      number("width", &DetectSettings::width, 0, 3840,
             "width of the analysis copy; 0 (with `height` 0) analyses the decoded picture at the camera's own size "
             "with no scaling in the pipeline, which is the cheapest (docs/PERFORMANCE.md): motion scales the luma "
             "plane itself, and object detection crops from the full picture",
             zero_or_at_least(64, "", "for the camera's own size")),
      number("height", &DetectSettings::height, 0, 2160, "height of the analysis copy; set together with `width`",
             zero_or_at_least(64, "", "for the camera's own size")),
      number("fps", &DetectSettings::fps, 1, 30, "frames per second analysed (the rest are dropped before conversion)"),
      choice("mode", &DetectSettings::mode,
             Choices<DetectMode>{{"every_frame", DetectMode::kEveryFrame}, {"keyframes", DetectMode::kKeyframes}}, 16,
             "'{}' is not every_frame or keyframes",
             "`keyframes`: the low-power mode for dense nodes and weak machines. Only keyframes reach the analysis "
             "decoder (every other access unit is dropped before it), so the camera is analysed about once per GOP "
             "(0.5 fps with a keyframe every 2 s) at about a third of the decode cost; recording still keeps every "
             "packet, so clips are full rate. It costs up to one keyframe interval of alert latency and some accuracy "
             "(see \"detect.mode keyframes\" below and docs/PERFORMANCE.md)"),
      block<DetectSettings, ObjectSettings>("objects", &objects_table, read_objects,
                                            {"", "mapping or empty", "absent", "",
                                             "object detection on motion; absent: the camera raises `motion` "
                                             "incidents; present: `object` incidents (see below)"}),
  };
  return t;
}

const Table<MotionSettings>& motion_table() {
  using S = MotionSettings;
  static const Table<S> t{
      number("min_area", &S::min_area, 0.00001, 0.9, "smallest moving region, as a fraction of the frame"),
      number("start_frames", &S::start_frames, 1, 100,
             "analysed frames with motion before an incident starts. Without the gate (`motion.gate: false`): that "
             "many consecutive frames with motion. With the gate (the default): the frames a region must have been "
             "seen in within its persistence (`motion.gate_persist_s`), counted in the same window, so the two waits "
             "no longer add up (0.4 s at 5 fps instead of 0.8 s); a solid region takes the quick path instead "
             "(`motion.gate_solid_persist_s`). Either way the incident is dated (`started_at`) from the first frame of "
             "the run: with the gate, the first frame the region was seen in within the last second"),
      number("end_seconds", &S::end_seconds, 0.5, 600.0, "seconds without motion before an incident ends"),
      number("veto_fraction", &S::veto_fraction, 0.1, 1.0,
             "global-change veto: when this share of the frame turns foreground at once and the scene's structure is "
             "kept (next key), only the light changed (lights, IR day/night switch, auto-exposure, headlights): no "
             "motion, the background is learnt afresh (a new warm-up of 10 analysed frames), and the camera's "
             "`global_changes` count goes up. 1 disables the veto"),
      number("veto_structure", &S::veto_structure, 0.05, 1.0,
             "the veto holds only when fewer than this share of textured grid cells changed their "
             "brightness-normalised edges against the background (the comparison tamper detection uses); a large "
             "object in front of the camera changes more"),
      boolean("gate", &S::gate,
              "persistence gate: only regions that persist and travel (or are large and solid) raise motion incidents; "
              "false: every frame with a moving region counts. Object incidents (`detect.objects`) are not gated"),
      number("gate_persist_s", &S::gate_persist_s, 0.0, 10.0,
             "a region must be seen this long (in at least 4 of 5 frames) before it can count"),
      number("gate_solid_persist_s", &S::gate_solid_persist_s, 0.0, 10.0,
             "a solid region (it fills ≥ 75 % of a box of ≥ 3 % of the frame) where at most a tenth of its box is "
             "habitual foreground (trees, a flickering screen), and that is not a change of light "
             "(`motion.gate_light_match`), counts once it has been seen this long, instead of `motion.gate_persist_s` "
             "and `motion.start_frames`: at 0, a person or a car stepping into a still area starts its incident on its "
             "first analysed frame (the alert-latency target, docs/PERFORMANCE.md). Smaller or scattered regions, and "
             "solid ones over habitual foreground (someone in front of the trees), still wait `gate_persist_s`. Set it "
             "to `gate_persist_s` or more for the behaviour before this key. In `detect.mode: keyframes` solid regions "
             "wait `gate_persist_s` as before. Measured with no new, lost or split incident on the clips of the "
             "accuracy table (docs/ACCURACY.md)"),
      number(
          "gate_travel", &S::gate_travel, 0.0, 1.0,
          "... and have travelled this far within the last second (both edges of its box the same way, in frame widths "
          "/ heights; an edge on the frame's border, where someone walks in, is left out; its size kept within 2.5 ×, "
          "as flicker's pieces swell and shrink), unless it fills ≥ 75 % of a box of ≥ 3 % of the frame"),
      number("gate_activity_s", &S::gate_activity_s, 1.0, 600.0,
             "time constant of the activity map: per pixel, the share of recent time it was foreground"),
      number("gate_nuisance", &S::gate_nuisance, 0.05, 1.0,
             "foreground where the activity map is at least this (widened a little) is habitual (swaying trees, a "
             "flickering screen) and counts only inside a region far denser than its habit (someone in front of the "
             "trees); the gate learns the map for 2 s after start-up"),
      number(
          "gate_travel_area", &S::gate_travel_area, 0.0, 0.5,
          "a region counts by travel only once its box is at least this share of the frame (light and flicker throw "
          "off small drifting pieces; 0.003 of a 320x180 analysis frame is about 9x20 px). A region under 0.6 % of the "
          "frame must also have gone one way over the travel window (its centre's steps at most twice its net move): "
          "flicker pieces hop to and fro, walkers do not; this stops the small pieces of Wallflower TimeOfDay and "
          "WavingTrees while the distant walkers of sbi-hallandmonitor still count (docs/ACCURACY.md)"),
      number("gate_light_match", &S::gate_light_match, 0.1, 1.0,
             "gradual lighting (a lamp warming up, daylight creeping over a wall) drifts like a slow object, but under "
             "it the surface is the background times one brightness gain: a region where at least this share of pixels "
             "is within 15 % of the region's median brightness ratio to the background is light and does not count. "
             "Measured on Wallflower TimeOfDay: 0.82–1.0 on the lighting ramp, 0.07–0.47 on the person. 1 disables"),
      number("still_level", &S::still_level, 0.0, 64.0,
             "still-frame gate: before the colour conversion and the background model, an 80-wide thumbnail of the "
             "picture (luma and chroma, one cell per 16x16 block of a 1280-wide frame) is compared with the thumbnail "
             "of the last fully processed frame; when that frame's mask was empty and no cell differs by more than "
             "this many levels (0..255) in any plane, the frame skips the conversion, the model update and the "
             "morphology and gives no motion (the empty mask stands). Slow drift adds up against the last processed "
             "frame until it is processed. The camera's `still_skipped` health counter counts the skipped frames. 0 "
             "disables; `detect.mode: keyframes` never skips"),
      number("still_refresh_s", &S::still_refresh_s, 0.2, 60.0,
             "with the still-frame gate, a frame is fully processed at least this often (media time), so the "
             "background model keeps following the light"),
  };
  return t;
}

const Table<ClipSettings>& clip_table() {
  static const Table<ClipSettings> t{
      number("pre_roll", &ClipSettings::pre_roll, 0.0, 60.0,
             "seconds of video kept before the incident (the clip starts on the keyframe at or before)"),
      number("post_roll", &ClipSettings::post_roll, 0.0, 300.0, "seconds of video after the incident"),
      number("max_length", &ClipSettings::max_length, 10.0, 3600.0,
             "an incident longer than this ends (reason `max_length`); continued motion starts a new one"),
  };
  return t;
}

const Table<WatchdogPolicy>& watchdog_table() {
  static const Table<WatchdogPolicy> t{
      number("stall_s", &WatchdogPolicy::stall_s, 1.0, 120.0,
             "no packets, or no decoded frames while packets arrive, for this long: `stalled`"),
      number("frozen_s", &WatchdogPolicy::frozen_s, 0.0, 3600.0,
             "identical pictures for this long: `stalled` (0 disables)"),
      number("max_rate_factor", &WatchdogPolicy::max_rate_factor, 1.5, 100.0,
             "packets arriving this many times faster than the stream's rate: `stalled`"),
  };
  return t;
}

const Table<TamperConfig>& tamper_table() {
  using S = TamperConfig;
  static const Table<S> t{
      boolean("enabled", &S::enabled,
              "tamper detection (covered / turned / defocused view: a `tamper` incident, see docs/operations.md)"),
      number("interval_s", &S::interval_s, 0.1, 10.0, "how often the view is judged (frames in between cost nothing)"),
      number("learn_s", &S::learn_s, 1.0, 600.0,
             "the reference view is learnt this long first (after start-up, a size change or a re-baseline)"),
      number("persist_s", &S::persist_s, 0.5, 600.0,
             "a tamper condition must hold this long before the incident starts"),
      number("clear_s", &S::clear_s, 0.5, 600.0,
             "the view must look normal this long before the incident ends (`restored`)"),
      number("reference_time_s", &S::reference_time_s, 5.0, 86400.0,
             "time constant of the reference's slow update while the view is normal (daylight, shadows)"),
      number("rebaseline_s", &S::rebaseline_s, 0.0, 86400.0,
             "a `turned` view held this long ends its incident (`rebaselined`) and becomes the new reference; 0: "
             "never; otherwise it must be longer than `tamper.persist_s`"),
      number("min_stddev", &S::min_stddev, 0.5, 64.0,
             "luma standard deviation below which the picture is near-uniform"),
      number("brightness_factor", &S::brightness_factor, 1.2, 50.0,
             "mean luminance this many times darker or brighter than the reference"),
      number("contrast_drop", &S::contrast_drop, 0.01, 0.9,
             "contrast below this fraction of the reference's (or of the last 5 s, for a sudden blackout)"),
      number("structure_change", &S::structure_change, 0.1, 1.0,
             "share of textured grid cells whose brightness-normalised edges no longer match the reference: above it "
             "the structure is lost (`turned`, or `covered` with one of the next three)"),
      number("sharpness_drop", &S::sharpness_drop, 0.05, 0.95,
             "sharpness (Laplacian over gradient energy) below this fraction of the reference's, with the structure "
             "kept: `defocused`"),
  };
  return t;
}

void check_tamper(ConfigReader& r, const YAML::Node& n, const std::string& path, TamperConfig& t) {
  if (t.rebaseline_s > 0 && t.rebaseline_s <= t.persist_s)
    r.issue(n, path, "rebaseline_s must be 0 (never) or longer than persist_s");
}

}  // namespace

const Table<CameraConfig>& camera_settings_table() {
  using S = CameraConfig;
  static const Table<S> t{
      block<S, DetectSettings>("detect", &detect_table, read_detect),
      block("motion", &S::motion, &motion_table),
      block("clip", &S::clip, &clip_table),
      number("rtsp_latency_ms", &S::rtsp_latency_ms, 0, 10000, "jitter-buffer latency of the RTSP client"),
      choice("transport", &S::transport,
             Choices<RtspTransport>{
                 {"auto", RtspTransport::kAuto}, {"tcp", RtspTransport::kTcp}, {"udp", RtspTransport::kUdp}},
             8, "must be one of auto, tcp, udp",
             "RTSP transport; `auto` tries TCP, then UDP when TCP is refused or silent"),
      block("watchdog", &S::watchdog, &watchdog_table),
      number("offline_after", &S::offline_after, 1.0, 86400.0,
             "seconds without video before a `camera_offline` incident"),
      block("tamper", &S::tamper, &tamper_table, check_tamper),
  };
  return t;
}

void read_camera_settings(ConfigReader& r, const YAML::Node& n, const std::string& path, CameraConfig& c) {
  read_fields(r, n, path, camera_settings_table(),
              {"detect", "motion", "clip", "tamper", "rtsp_latency_ms", "watchdog", "offline_after"}, c);
}

void read_root_settings(ConfigReader& r, const YAML::Node& root, Config& cfg) {
  read_fields(r, root, "", root_table(), {"node", "time_zone", "storage", "events", "health", "ingest"}, cfg);
}

const Table<Zone>& zone_table() {
  static const Table<Zone> t{
      custom<Zone>("name", {"", "string", "required", "1..64 printable characters, unique among the camera's zones",
                            "the name in events (`zones`, `rule.zone`)"}),
      custom<Zone>("polygon",
                   {"", "list of points", "required", "≥ 3 points `[x, y]`, each in 0..1", "the zone's outline"}),
  };
  return t;
}

const Table<Line>& line_table() {
  static const Table<Line> t{
      custom<Line>("name", {"", "string", "required", "1..64 printable characters, unique among the camera's lines",
                            "the name in events (`rule.line`)"}),
      custom<Line>("from",
                   {"", "point", "required", "`[x, y]` in 0..1", "the segment's first point, a: it runs from a to b"}),
      custom<Line>("to", {"", "point", "required", "`[x, y]` in 0..1, not `from`", "the segment's second point, b"}),
      custom<Line>("direction",
                   {"", "string", "`both`", "`a_to_b`, `b_to_a`, `both`", "which crossings count (below)"}),
  };
  return t;
}

const Table<Rule>& rule_table() {
  static const Table<Rule> t{
      custom<Rule>("kind",
                   {"", "string", "required", "`zone_enter`, `line_cross`, `loiter`", "what the rule watches for"}),
      custom<Rule>("zone", {"", "string", "required for `zone_enter` and `loiter`", "a zone of this camera",
                            "the zone watched (not allowed on `line_cross`)"}),
      custom<Rule>("line", {"", "string", "required for `line_cross`", "a line of this camera",
                            "the line watched (not allowed on the zone kinds)"}),
      custom<Rule>("labels", {"", "list", "every label of `detect.objects.labels`",
                              "non-empty, each in `detect.objects.labels`", "which objects the rule is about"}),
      custom<Rule>("schedule", {"", "string", "always", "`HH:MM-HH:MM` in `time_zone`; may wrap past midnight",
                                "the daily window in which the rule fires"}),
      custom<Rule>("seconds", {"", "number", "required for `loiter`", "> 0, at most 86400 (`loiter` only)",
                               "how long an object stays in the zone before `loiter` fires"}),
  };
  return t;
}

const Table<CameraConfig>& camera_table() {
  static const Table<CameraConfig> t = [] {
    Table<CameraConfig> fields{
        custom<CameraConfig>("id", {"", "string", "required", "`[a-z0-9_-]{1,64}`, unique",
                                    "the camera's id in topics, events, paths and logs"}),
        custom<CameraConfig>("name", {"", "string", "the id", "at most 200 characters, UTF-8", "human name"}),
        custom<CameraConfig>("url", {"", "string", "required",
                                     "`rtsp://`, `rtsps://`, or `http(s)://` for an MJPEG camera; valid host and port",
                                     "the camera's stream; `user:pass@` allowed. `http(s)://` is a multipart MJPEG "
                                     "stream, recorded as MJPEG in MP4 (docs/operations.md). Over RTSP: H.264 or H.265 "
                                     "video, chosen from the stream itself (nothing to configure); any other codec "
                                     "stops the connection with `unsupported video codec NAME` in `health.<camera>`"}),
        custom<CameraConfig>(
            "detect_url", {"", "string", "none", "as `url`; not empty, not equal to `url`",
                           "the camera's low-resolution substream: detection decodes it, while `url` is only recorded "
                           "and never decoded; each has its own supervisor and health (docs/operations.md)"}),
        custom<CameraConfig>(
            "masks", {"", "list of polygons", "none", "each ≥ 3 points `[x, y]` in 0..1", "motion inside is ignored"}),
    };
    for (const auto& f : camera_settings_table()) fields.push_back(f);
    fields.push_back(custom<CameraConfig>(
        "zones",
        {"", "list", "none", "see Rules", "named polygons; object incidents list the zones the object is in"}));
    fields.push_back(custom<CameraConfig>(
        "lines", {"", "list", "none", "see Rules", "named, directed segments for `line_cross` rules"}));
    fields.push_back(custom<CameraConfig>(
        "rules",
        {"", "list", "none", "see Rules; needs `detect.objects`",
         "with rules, the camera raises `zone_enter`, `line_cross` and `loiter` incidents instead of `object` ones"}));
    return fields;
  }();
  return t;
}

}  // namespace config

}  // namespace matthan
