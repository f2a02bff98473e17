// Config reload diff: cameras added, removed, changed and untouched; node-level changes flagged, not applied.
#include "matthan/app/config_diff.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "matthan/app/config.hpp"

namespace matthan {
namespace {

Config parse(const std::string& yaml) {
  ConfigLoad l = load_config_text(yaml, "cam.yaml", "/etc/matthan");
  EXPECT_TRUE(l.ok()) << l.error_text();
  return l.config;
}

const char* kBase = R"(node: n1
storage: {root: /var/lib/matthan}
defaults:
  motion: {start_frames: 3}
cameras:
  - {id: a, url: rtsp://127.0.0.1:8554/a}
  - {id: b, url: rtsp://127.0.0.1:8554/b}
  - {id: c, url: rtsp://127.0.0.1:8554/c}
  - {id: d, url: rtsp://127.0.0.1:8554/d}
)";

std::vector<std::string> ids(const std::vector<CameraConfig>& cams) {
  std::vector<std::string> out;
  for (const auto& c : cams) out.push_back(c.id);
  return out;
}

TEST(ConfigDiff, SameTextIsNoChange) {
  const Config a = parse(kBase), b = parse(kBase);
  const ConfigDiff d = diff_config(a, b);
  EXPECT_FALSE(d.cameras_differ());
  EXPECT_EQ(d.unchanged, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_TRUE(d.needs_restart.empty());
}

TEST(ConfigDiff, AddedRemovedChangedUnchanged) {
  const Config a = parse(kBase);
  const Config b = parse(R"(node: n1
storage: {root: /var/lib/matthan}
defaults:
  motion: {start_frames: 3}
cameras:
  - {id: a, url: rtsp://127.0.0.1:8554/a}
  - {id: c, url: rtsp://127.0.0.1:8554/c, clip: {post_roll: 9}}
  - {id: d, url: rtsp://127.0.0.1:8554/d}
  - {id: e, url: rtsp://127.0.0.1:8554/e}
)");
  const ConfigDiff d = diff_config(a, b);
  EXPECT_EQ(ids(d.added), std::vector<std::string>{"e"});
  EXPECT_EQ(d.removed, std::vector<std::string>{"b"});
  ASSERT_EQ(ids(d.changed), std::vector<std::string>{"c"});
  EXPECT_EQ(d.changed[0].clip.post_roll, 9);
  EXPECT_EQ(d.unchanged, (std::vector<std::string>{"a", "d"}));
  EXPECT_TRUE(d.needs_restart.empty());
  EXPECT_TRUE(d.cameras_differ());
}

TEST(ConfigDiff, ADefaultThatChangesEveryCameraChangesThemAll) {
  const Config a = parse(kBase);
  std::string text = kBase;
  text.replace(text.find("start_frames: 3"), 15, "start_frames: 4");
  const ConfigDiff d = diff_config(a, parse(text));
  EXPECT_EQ(ids(d.changed), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_TRUE(d.unchanged.empty());
}

TEST(ConfigDiff, ReorderingOrReformattingIsNoChange) {
  const Config a = parse(kBase);
  const Config b = parse(R"(node: n1
storage:
  root: /var/lib/matthan
defaults:
  motion:
    start_frames: 3
cameras:
  - {id: d, url: rtsp://127.0.0.1:8554/d}
  - id: c
    url: rtsp://127.0.0.1:8554/c
    motion: {start_frames: 3}
  - {id: b, url: rtsp://127.0.0.1:8554/b}
  - {id: a, url: rtsp://127.0.0.1:8554/a}
)");
  EXPECT_FALSE(diff_config(a, b).cameras_differ());
}

TEST(ConfigDiff, NodeLevelChangesAreFlaggedAndNotApplied) {
  const Config a = parse(kBase);
  const Config b = parse(R"(node: n2
storage: {root: /srv/matthan}
events: {bind: "tcp://127.0.0.1:5999"}
metrics: {listen: "127.0.0.1:9108"}
control: {socket: /run/matthan/control.sock}
ingest: {max_connecting: 2}
cameras:
  - {id: a, url: rtsp://127.0.0.1:8554/a}
)");
  const ConfigDiff d = diff_config(a, b);
  auto has = [&](const std::string& k) {
    return std::find(d.needs_restart.begin(), d.needs_restart.end(), k) != d.needs_restart.end();
  };
  EXPECT_TRUE(has("node"));
  EXPECT_TRUE(has("storage.root"));
  EXPECT_TRUE(has("events.bind"));
  EXPECT_TRUE(has("metrics.listen"));
  EXPECT_TRUE(has("control.socket"));
  EXPECT_TRUE(has("ingest.max_connecting"));
  EXPECT_FALSE(has("review"));
  EXPECT_EQ(d.removed, (std::vector<std::string>{"b", "c", "d"}));
  // a's defaults changed (motion.start_frames back to 3 is the built-in default, so it is unchanged)
  EXPECT_EQ(d.unchanged, std::vector<std::string>{"a"});
}

TEST(ConfigDiff, ControlSocketDefaultsUnderTheStorageRoot) {
  const Config a = parse(kBase);
  EXPECT_EQ(a.control.socket, std::filesystem::path("/var/lib/matthan/control.sock"));
  ConfigLoad bad =
      load_config_text("control: {socket: /" + std::string(120, 'x') + "}\ncameras:\n  - {id: a, url: rtsp://h/a}\n",
                       "cam.yaml", "/etc/matthan");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.issues[0].line, 1);
  EXPECT_EQ(bad.issues[0].key, "control.socket");
}

}  // namespace
}  // namespace matthan

namespace matthan {
namespace {

// Each ingest key is named on its own: a changed backoff cap is not reported as max_connecting, nor the other way.
TEST(ConfigDiff, EachIngestKeyIsNamedOnItsOwn) {
  const Config a = load_config_text("cameras:\n  - {id: a, url: rtsp://127.0.0.1:8554/a}\n", "a.yaml", "/").config;
  const Config b =
      load_config_text("ingest: {backoff_max_s: 30}\ncameras:\n  - {id: a, url: rtsp://127.0.0.1:8554/a}\n", "b.yaml",
                       "/")
          .config;
  const ConfigDiff d = diff_config(a, b);
  EXPECT_EQ(d.needs_restart, std::vector<std::string>{"ingest.backoff_max_s"});
}

}  // namespace
}  // namespace matthan
