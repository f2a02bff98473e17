// render_metrics: the Prometheus text of a plain snapshot, read back with the strict test reader.
#include <gtest/gtest.h>

#include <iterator>

#include "matthan/review/metrics.hpp"
#include "matthan/test/prometheus_text.hpp"

namespace matthan {
namespace {

using test::parse_prometheus_text;
using test::PromText;

MetricsSnapshot sample_snapshot() {
  MetricsSnapshot s;
  s.node.node = "xom3";
  s.node.version = "0.1.0";
  s.node.uptime_s = 12.5;
  s.node.cpu_seconds = 3.25;
  s.node.rss_bytes = 123456789;
  s.node.threads = 17;
  s.node.open_fds = 40;
  s.node.analysis_workers = 2;
  s.node.events_sent = 99;
  s.node.clip_bytes = 5'000'000'000ull;
  s.node.free_bytes = 7'000'000'000ull;
  s.node.clips_written = 4;
  s.node.clip_write_errors = 1;
  s.node.retention_deleted_clips = 2;
  Histogram h(Histogram::latency_bounds_s());
  h.observe(0.002);
  h.observe(0.004);
  h.observe(3.0);
  s.node.detectors.push_back({"motion", h.snapshot(), std::nullopt});

  CameraMetrics a;
  a.id = "gate-1";
  a.name = "Cổng \"chính\" \\ 1\nbên trái";  // quote, backslash and newline must be escaped
  a.state = "streaming";
  a.packets = 1000;
  a.frames_decoded = 500;
  a.frames_analysed = 490;
  a.frames_dropped = 10;
  a.reconnects = 2;
  a.decode_errors = 3;
  a.untimed_packets = 4;
  a.stalls = 1;
  a.global_changes = 4;
  a.incidents_by_kind = {{"motion", 5}, {"camera_offline", 1}};
  a.fps_in = 25;
  a.fps_analysed = 4.8;
  a.last_frame_age_s = 0.1;
  a.keyframe_interval_s = 2;
  a.open_incidents = 1;
  CameraMetrics b;
  b.id = "yard";
  b.name = "yard";
  b.state = "backoff";  // never streamed: no frame age, no keyframe interval
  s.cameras = {a, b};
  return s;
}

TEST(MetricsRender, FollowsTheExpositionFormat) {
  const PromText t = parse_prometheus_text(render_metrics(sample_snapshot()));
  EXPECT_TRUE(t.errors.empty()) << ::testing::PrintToString(t.errors);
  for (const auto& [name, f] : t.families) {
    EXPECT_TRUE(name.starts_with("matthan_") || name.starts_with("process_")) << name;
    EXPECT_EQ(f.type == "counter", name.ends_with("_total")) << name;
  }
}

TEST(MetricsRender, CameraFigures) {
  const PromText t = parse_prometheus_text(render_metrics(sample_snapshot()));
  EXPECT_EQ(t.value("matthan_camera_up", {{"camera", "gate-1"}}), 1);
  EXPECT_EQ(t.value("matthan_camera_up", {{"camera", "yard"}}), 0);
  EXPECT_EQ(t.value("matthan_camera_frames_dropped_total", {{"camera", "gate-1"}}), 10);
  EXPECT_EQ(t.value("matthan_camera_frames_analysed_total", {{"camera", "gate-1"}}), 490);
  EXPECT_EQ(t.value("matthan_camera_packets_total", {{"camera", "gate-1"}}), 1000);
  EXPECT_EQ(t.value("matthan_camera_reconnects_total", {{"camera", "gate-1"}}), 2);
  EXPECT_EQ(t.value("matthan_camera_decode_errors_total", {{"camera", "gate-1"}}), 3);
  EXPECT_EQ(t.value("matthan_camera_untimed_packets_total", {{"camera", "gate-1"}}), 4);
  EXPECT_EQ(t.value("matthan_camera_global_changes_total", {{"camera", "gate-1"}}), 4);
  EXPECT_EQ(t.value("matthan_camera_global_changes_total", {{"camera", "yard"}}), 0);
  EXPECT_EQ(t.value("matthan_camera_incidents_total", {{"camera", "gate-1"}, {"kind", "motion"}}), 5);
  EXPECT_EQ(t.value("matthan_camera_incidents_total", {{"camera", "gate-1"}, {"kind", "camera_offline"}}), 1);
  EXPECT_EQ(t.value("matthan_camera_fps_in", {{"camera", "gate-1"}}), 25);
  EXPECT_DOUBLE_EQ(*t.value("matthan_camera_fps_analysed", {{"camera", "gate-1"}}), 4.8);
  EXPECT_EQ(t.value("matthan_camera_keyframe_interval_seconds", {{"camera", "gate-1"}}), 2);
  EXPECT_DOUBLE_EQ(*t.value("matthan_camera_last_frame_age_seconds", {{"camera", "gate-1"}}), 0.1);
  // Unknown values are absent, not zero.
  EXPECT_TRUE(t.find("matthan_camera_last_frame_age_seconds", {{"camera", "yard"}}).empty());
  EXPECT_TRUE(t.find("matthan_camera_keyframe_interval_seconds", {{"camera", "yard"}}).empty());
}

TEST(MetricsRender, StateIsOneHot) {
  const PromText t = parse_prometheus_text(render_metrics(sample_snapshot()));
  for (const char* cam : {"gate-1", "yard"}) {
    const auto states = t.find("matthan_camera_state", {{"camera", cam}});
    EXPECT_EQ(states.size(), std::size(kCameraStates));
    double sum = 0;
    for (const auto& s : states) sum += s.value;
    EXPECT_EQ(sum, 1) << cam;
  }
  EXPECT_EQ(t.value("matthan_camera_state", {{"camera", "yard"}, {"state", "backoff"}}), 1);
  EXPECT_EQ(t.value("matthan_camera_state", {{"camera", "gate-1"}, {"state", "streaming"}}), 1);
}

TEST(MetricsRender, LabelValuesAreEscapedAndReadBack) {
  const std::string text = render_metrics(sample_snapshot());
  EXPECT_NE(text.find(R"(name="Cổng \"chính\" \\ 1\nbên trái")"), std::string::npos) << text;
  const PromText t = parse_prometheus_text(text);
  const auto info = t.find("matthan_camera_info", {{"camera", "gate-1"}});
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].labels.at("name"), sample_snapshot().cameras[0].name);
}

TEST(MetricsRender, NodeFiguresAndDetectorHistogram) {
  const PromText t = parse_prometheus_text(render_metrics(sample_snapshot()));
  EXPECT_EQ(t.value("matthan_info", {{"node", "xom3"}, {"version", "0.1.0"}}), 1);
  EXPECT_EQ(t.value("process_resident_memory_bytes"), 123456789);
  EXPECT_EQ(t.value("process_cpu_seconds_total"), 3.25);
  EXPECT_EQ(t.value("matthan_storage_clip_bytes"), 5e9);
  EXPECT_EQ(t.value("matthan_storage_free_bytes"), 7e9);
  EXPECT_EQ(t.value("matthan_storage_clip_write_errors_total"), 1);
  EXPECT_EQ(t.value("matthan_storage_retention_deleted_clips_total"), 2);
  EXPECT_EQ(t.value("matthan_events_published_total"), 99);
  EXPECT_EQ(t.value("matthan_detector_calls_total", {{"detector", "motion"}}), 3);
  EXPECT_EQ(t.value("matthan_detector_latency_seconds_count", {{"detector", "motion"}}), 3);
  EXPECT_EQ(t.value("matthan_detector_latency_seconds_bucket", {{"detector", "motion"}, {"le", "0.0025"}}), 1);
  EXPECT_EQ(t.value("matthan_detector_latency_seconds_bucket", {{"detector", "motion"}, {"le", "0.005"}}), 2);
  EXPECT_EQ(t.value("matthan_detector_latency_seconds_bucket", {{"detector", "motion"}, {"le", "+Inf"}}), 3);
  EXPECT_NEAR(*t.value("matthan_detector_latency_seconds_sum", {{"detector", "motion"}}), 3.006, 1e-9);
}

// Crops per object detector call: each crop is one network input, so crops / calls is what a call costs.
TEST(MetricsRender, ObjectDetectorCropsBesideItsCalls) {
  MetricsSnapshot s = sample_snapshot();
  Histogram h(Histogram::latency_bounds_s());
  for (int i = 0; i < 4; ++i) h.observe(0.012);
  s.node.detectors.push_back({"objects", h.snapshot(), 7});
  s.cameras[0].object_calls = 4;
  s.cameras[0].object_crops = 7;  // gate-1 has detect.objects, yard has not
  const PromText t = parse_prometheus_text(render_metrics(s));
  EXPECT_TRUE(t.errors.empty()) << ::testing::PrintToString(t.errors);
  EXPECT_EQ(t.families.at("matthan_detector_crops_total").type, "counter");
  EXPECT_EQ(t.value("matthan_detector_calls_total", {{"detector", "objects"}}), 4);
  EXPECT_EQ(t.value("matthan_detector_crops_total", {{"detector", "objects"}}), 7);
  EXPECT_TRUE(t.find("matthan_detector_crops_total", {{"detector", "motion"}}).empty())
      << "the motion detector takes no crops";
  EXPECT_EQ(t.value("matthan_camera_object_calls_total", {{"camera", "gate-1"}}), 4);
  EXPECT_EQ(t.value("matthan_camera_object_crops_total", {{"camera", "gate-1"}}), 7);
  EXPECT_TRUE(t.find("matthan_camera_object_crops_total", {{"camera", "yard"}}).empty())
      << "a camera without object detection has no series";
  EXPECT_TRUE(t.find("matthan_camera_object_calls_total", {{"camera", "yard"}}).empty());
}

TEST(MetricsRender, NoFreeBytesWhenUnknown) {
  MetricsSnapshot s = sample_snapshot();
  s.node.free_bytes.reset();
  const PromText t = parse_prometheus_text(render_metrics(s));
  EXPECT_TRUE(t.errors.empty());
  EXPECT_TRUE(t.find("matthan_storage_free_bytes").empty());
  EXPECT_EQ(t.families.count("matthan_storage_free_bytes"), 1u);  // HELP and TYPE stay
}

// Counters come straight from monotonic sources: a later snapshot with more of everything renders
// values that are all >= the earlier ones, series by series.
TEST(MetricsRender, CountersOnlyGrow) {
  MetricsSnapshot early = sample_snapshot();
  MetricsSnapshot late = sample_snapshot();
  late.node.cpu_seconds += 1;
  late.node.events_sent += 5;
  late.cameras[0].frames_analysed += 20;
  late.cameras[0].incidents_by_kind["motion"] += 1;
  const PromText a = parse_prometheus_text(render_metrics(early));
  const PromText b = parse_prometheus_text(render_metrics(late));
  std::size_t compared = 0;
  for (const auto& s : a.samples) {
    const auto fam = a.families.find(s.name);
    if (fam == a.families.end() || fam->second.type != "counter") continue;
    const auto later = b.value(s.name, s.labels);
    ASSERT_TRUE(later) << s.name;
    EXPECT_GE(*later, s.value) << s.name;
    ++compared;
  }
  EXPECT_GT(compared, 15u);
  EXPECT_EQ(b.value("matthan_camera_frames_analysed_total", {{"camera", "gate-1"}}), 510);
}

TEST(PrometheusReader, FlagsBrokenText) {
  EXPECT_FALSE(parse_prometheus_text("x 1\n").errors.empty());  // no HELP/TYPE
  EXPECT_FALSE(
      parse_prometheus_text("# HELP x_total h\n# TYPE x_total counter\nx_total{a=\"\\q\"} 1\n").errors.empty());
  EXPECT_FALSE(parse_prometheus_text("# HELP x h\n# TYPE x counter\nx 1\n").errors.empty());  // counter without _total
  EXPECT_FALSE(parse_prometheus_text("# HELP x h\n# TYPE x gauge\nx 1\nx 2\n").errors.empty());  // duplicate series
  EXPECT_TRUE(parse_prometheus_text("# HELP x h\n# TYPE x gauge\nx{a=\"b\"} 1\n").errors.empty());
}

}  // namespace
}  // namespace matthan
