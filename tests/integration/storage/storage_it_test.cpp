// Storage end to end: kill -9 mid-clip, reconcile, a 6 s keyframe interval, export + verify, a full disk.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "matthan/storage/index.hpp"
#include "matthan/test/clip_probe.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// What a full decode printed, minus the null muxer's "non monotonically increasing dts" notes: those come
// from two camera frames closer than one frame interval (bunched RTP timestamps from a simulator starved of
// CPU), which the decode test rounds to the same output tick; the file's own DTS are strictly increasing
// (strictly_increasing_dts checks that on every clip).
std::string decode_errors(const ClipProbe& p) {
  std::istringstream in(p.errors);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.find("non monotonically increasing dts to muxer") == std::string::npos && !line.empty())
      out += line + "\n";
  return out;
}

// ffprobe's packet listing: every DTS in the file is strictly greater than the one before.
bool strictly_increasing_dts(const fs::path& clip) {
  auto [rc, out] = run_command({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=dts",
                                "-of", "csv=p=0", clip.string()});
  if (rc != 0) return false;
  std::istringstream in(out);
  long long last = std::numeric_limits<long long>::min();
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const long long dts = std::stoll(line);
    if (dts <= last) return false;
    last = dts;
    ++n;
  }
  return n > 0;
}

std::vector<fs::path> files_ending(const fs::path& root, const std::string& suffix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it); it.increment(ec))
    if (it->path().string().ends_with(suffix)) out.push_back(it->path());
  return out;
}

// Polls `pred` every 100 ms until it holds or `timeout` passes (conditions, never fixed sleeps).
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

struct ConfigOptions {
  double pre_roll = 1, post_roll = 1, max_length = 10;  // 10 s is the shortest max_length allowed
  std::string storage_extra;                            // more keys for the storage map, e.g. "min_free_bytes: 0"
};

class StorageIT : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (vtest_avi().empty()) return;
    dir_ = new fs::path(make_temp_dir("matthan-storage-it"));
    const fs::path cut = cut_vtest(*dir_, 30);
    ASSERT_FALSE(cut.empty());
    sim_ = new SimCamera("vtest", cut, *dir_);
    ASSERT_TRUE(sim_->ok()) << sim_->log();
    // A keyframe only every 6 s (-g 60 at 10 fps), served as it is (already H.264 avc1): 8 s of the scene,
    // then its last frame held for 20 s, looped, so each loop is a separate incident.
    const fs::path gop6 = *dir_ / "gop6.mp4";
    auto [rc, out] = run_command({"ffmpeg",
                                  "-v",
                                  "error",
                                  "-y",
                                  "-t",
                                  "8",
                                  "-i",
                                  cut.string(),
                                  "-an",
                                  "-vf",
                                  "fps=10,tpad=stop_mode=clone:stop_duration=20",
                                  "-c:v",
                                  "libx264",
                                  "-preset",
                                  "veryfast",
                                  "-g",
                                  "60",
                                  "-keyint_min",
                                  "60",
                                  "-sc_threshold",
                                  "0",
                                  "-bf",
                                  "0",
                                  "-pix_fmt",
                                  "yuv420p",
                                  gop6.string()});
    ASSERT_EQ(rc, 0) << out;
    sim_gop6_ = new SimCamera("gop6", gop6, *dir_);
    ASSERT_TRUE(sim_gop6_->ok()) << sim_gop6_->log();
  }
  static void TearDownTestSuite() {
    delete sim_;
    delete sim_gop6_;
    sim_ = sim_gop6_ = nullptr;
    // Kept for inspection when a test failed.
    if (dir_ && ::testing::UnitTest::GetInstance()->failed_test_count() == 0) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
    ASSERT_TRUE(sim_ && sim_->ok() && sim_gop6_ && sim_gop6_->ok());
  }

  fs::path write_config(const fs::path& root, const std::string& name, const SimCamera& cam, const ConfigOptions& o) {
    fs::path cfg = *dir_ / (name + ".yaml");
    std::ofstream(cfg) << "node: storage-it\n"
                       << "storage:\n  root: \"" << root.string() << "\"\n"
                       << (o.storage_extra.empty() ? "" : "  " + o.storage_extra + "\n")
                       << "events: {bind: \"tcp://127.0.0.1:" << free_tcp_port() << "\"}\n"
                       << "defaults:\n"
                       << "  detect: {width: 640, height: 360, fps: 5}\n"
                       << "  motion: {min_area: 0.002, start_frames: 2, end_seconds: 1}\n"
                       << "  clip: {pre_roll: " << o.pre_roll << ", post_roll: " << o.post_roll
                       << ", max_length: " << o.max_length << "}\n"
                       << "cameras:\n  - id: cam\n    name: \"Cổng chợ\"\n    url: " << cam.url() << "\n";
    return cfg;
  }
  std::unique_ptr<Process> start_engine(const fs::path& cfg, const fs::path& log) {
    return std::make_unique<Process>(
        std::vector<std::string>{matthan_binary().string(), "run", "--config", cfg.string()}, log.string());
  }
  static void stop_engine(Process& p) {
    p.signal(SIGTERM);
    ASSERT_EQ(p.wait(60s), 0);
  }
  static std::unique_ptr<Index> open_index(const fs::path& root) {
    auto index = Index::open(root / "index.db");
    EXPECT_TRUE(index.ok()) << index.error().message;
    return index.ok() ? std::move(index).value() : nullptr;
  }
  static int clips_in(const fs::path& root, ClipState state) {
    auto index = Index::open(root / "index.db");
    if (!index) return 0;
    auto clips = (*index)->clips_in_state(state);
    return clips ? static_cast<int>(clips->size()) : 0;
  }
  // Runs the engine until `complete` clips are finished, then stops it gracefully.
  void record_clips(const fs::path& cfg, const fs::path& root, int complete, const fs::path& log) {
    auto engine = start_engine(cfg, log);
    ASSERT_TRUE(wait_until(
        [&] {
          return !engine->running() ||
                 (fs::exists(root / "index.db") && clips_in(root, ClipState::kComplete) >= complete);
        },
        180s))
        << read_file(log);
    ASSERT_TRUE(engine->running()) << "the engine exited:\n" << read_file(log);
    stop_engine(*engine);
  }

  static fs::path* dir_;
  static SimCamera* sim_;
  static SimCamera* sim_gop6_;
};
fs::path* StorageIT::dir_ = nullptr;
SimCamera* StorageIT::sim_ = nullptr;
SimCamera* StorageIT::sim_gop6_ = nullptr;

TEST_F(StorageIT, KillNineMidClipTwentyTimesLeavesOnlyPlayableClips) {
  const fs::path root = *dir_ / "kill";
  const fs::path cfg =
      write_config(root, "kill", *sim_, {.pre_roll = 1, .post_roll = 1, .max_length = 30, .storage_extra = ""});
  const fs::path log = *dir_ / "kill.log";
  int killed_mid_clip = 0;
  for (int i = 0; i < 20; ++i) {
    const fs::path run_log = *dir_ / fmt::format("kill-{}.log", i);
    auto engine = start_engine(cfg, run_log);
    // First the start-up recovery of the previous kill's clip, then mid-clip: a new .part being written.
    const bool writing = wait_until(
        [&] {
          return read_file(run_log).find("reconcile: ") != std::string::npos &&
                 !files_ending(root / "clips", ".mp4.part").empty();
        },
        60s);
    ASSERT_TRUE(writing) << "iteration " << i << ": no clip started\n" << read_file(run_log);
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 150 * (i % 10)));  // kill at varied points
    engine->signal(SIGKILL);
    ASSERT_TRUE(engine->wait(30s).has_value());
    ++killed_mid_clip;
  }
  EXPECT_EQ(killed_mid_clip, 20);
  // The next start recovers everything; then a clean stop.
  auto engine = start_engine(cfg, log);
  ASSERT_TRUE(wait_until([&] { return read_file(log).find("reconcile: ") != std::string::npos; }, 60s));
  stop_engine(*engine);

  EXPECT_TRUE(files_ending(root, ".part").empty()) << "no temporary file may be left after the next start";
  EXPECT_TRUE(files_ending(root, ".tmp").empty());
  auto index = open_index(root);
  ASSERT_TRUE(index);
  EXPECT_TRUE(index->clips_in_state(ClipState::kWriting).value().empty());
  const auto partial = index->clips_in_state(ClipState::kPartial).value();
  const auto complete = index->clips_in_state(ClipState::kComplete).value();
  // Most kills land after the first fragment reached the disk; a kill inside the first second may leave
  // nothing readable (recorded as deleted, reason unrecoverable), never a broken "complete" clip.
  EXPECT_GE(partial.size(), 10u);
  for (const auto& c : partial) {
    const ClipProbe p = probe_clip(root / c.path);
    ASSERT_TRUE(p.opened) << c.path << ": " << p.errors;
    EXPECT_TRUE(p.first_packet_keyframe) << c.path;
    EXPECT_EQ(decode_errors(p), "") << c.path;
    EXPECT_TRUE(strictly_increasing_dts(root / c.path)) << c.path;
    EXPECT_NEAR(p.duration_s, c.duration_s, 0.5) << c.path << " plays up to its recorded duration";
    EXPECT_FALSE(c.flag.empty());
    EXPECT_EQ(c.sha256.size(), 64u);
  }
  for (const auto& c : complete) {
    const ClipProbe p = probe_clip(root / c.path);
    EXPECT_EQ(decode_errors(p), "") << c.path;
    EXPECT_TRUE(strictly_increasing_dts(root / c.path)) << c.path;
    EXPECT_NEAR(p.duration_s, c.duration_s, 0.5) << c.path;
  }
}

TEST_F(StorageIT, ReconcileFindsADeletedFileAndAStrayFile) {
  const fs::path root = *dir_ / "reconcile";
  const fs::path cfg = write_config(root, "reconcile", *sim_, {});
  const fs::path log = *dir_ / "reconcile.log";
  record_clips(cfg, root, 2, log);
  auto index = open_index(root);
  ASSERT_TRUE(index);
  const auto complete = index->clips_in_state(ClipState::kComplete).value();
  ASSERT_GE(complete.size(), 2u);
  index.reset();
  fs::remove(root / complete[0].path);  // behind the engine's back
  const fs::path stray = root / "clips/cam/stray-copy.mp4";
  fs::copy_file(root / complete[1].path, stray);
  fs::remove(log);

  auto engine = start_engine(cfg, log);
  ASSERT_TRUE(wait_until([&] { return read_file(log).find("reconcile: ") != std::string::npos; }, 60s));
  stop_engine(*engine);
  const std::string text = read_file(log);
  EXPECT_NE(text.find("1 missing files, 1 stray files"), std::string::npos) << text;
  EXPECT_NE(text.find(complete[0].path), std::string::npos) << "the missing file is named in the log";
  EXPECT_NE(text.find("stray-copy.mp4"), std::string::npos);
  index = open_index(root);
  auto gone = index->clip(complete[0].id).value();
  EXPECT_EQ(gone->state, ClipState::kDeleted);
  EXPECT_EQ(gone->deleted_reason, "missing");
  auto found = index->clip_by_path("clips/cam/stray-copy.mp4").value();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->state, ClipState::kPartial);
  EXPECT_FALSE(found->flag.empty());
}

TEST_F(StorageIT, SixSecondKeyframeIntervalStillStartsTheClipBeforeThePreRoll) {
  const fs::path root = *dir_ / "gop6";
  const fs::path cfg =
      write_config(root, "gop6", *sim_gop6_, {.pre_roll = 3, .post_roll = 1, .max_length = 30, .storage_extra = ""});
  const fs::path log = *dir_ / "gop6.log";
  const auto engine_start = std::chrono::system_clock::now();
  // Two loops of the source: at least one incident begins well after the ring has filled.
  record_clips(cfg, root, 2, log);
  // About 6 s (RTP timestamps put it at 5.9 .. 6.1): a health warning for the camera.
  const std::string text = read_file(log);
  const auto warned = text.find("health: keyframe interval ");
  ASSERT_NE(warned, std::string::npos) << text;
  const double interval = std::stod(text.substr(warned + std::string("health: keyframe interval ").size()));
  EXPECT_NEAR(interval, 6.0, 0.25);
  EXPECT_NE(text.find("s is over 4 s", warned), std::string::npos);
  auto index = open_index(root);
  int checked = 0;
  const auto complete_clips = index->clips_in_state(ClipState::kComplete).value();
  for (const auto& c : complete_clips) {
    const ClipProbe p = probe_clip(root / c.path);
    EXPECT_TRUE(p.first_packet_keyframe) << c.path;
    EXPECT_EQ(decode_errors(p), "") << c.path;
    EXPECT_TRUE(strictly_increasing_dts(root / c.path)) << c.path;
    // Only where the stream had run long enough to hold a keyframe that old (connect + one 6 s GOP, with
    // margin); continuations of a split recording owe no pre-roll (no requested start).
    if (!c.requested_start || *c.requested_start < engine_start + 12s) continue;
    EXPECT_LE(c.start, *c.requested_start + 50ms)
        << c.path << " starts after start - pre_roll although the ring reaches back a whole GOP";
    ++checked;
  }
  EXPECT_GE(checked, 1) << [&] {
    std::string d;
    for (const auto& c : complete_clips)
      d += fmt::format("clip {} {} start {} requested {}\n", c.id, c.path, c.start.time_since_epoch().count(),
                       c.requested_start ? c.requested_start->time_since_epoch().count() : 0);
    return d + read_file(log);
  }();
  // Each incident points at its clip with the offset of its start in it.
  IncidentQuery q;
  q.limit = 100;
  const auto page = index->incidents(q).value();
  for (const auto& v : page.items) {
    if (!v.clip || v.clip->state != ClipState::kComplete) continue;
    const double expected = std::chrono::duration<double>(v.incident.started_at - v.clip->start).count();
    EXPECT_NEAR(v.incident.clip_offset_s, std::max(0.0, expected), 0.3) << v.incident.id;
  }
}

// vtest's pedestrians never stop: with max_length 10 s an incident ends and the next starts within the
// post-roll, so the second one extends the open clip instead of opening a new file.
TEST_F(StorageIT, OverlappingIncidentsShareOneClipWithTheirOwnOffsets) {
  const fs::path root = *dir_ / "overlap";
  const fs::path cfg =
      write_config(root, "overlap", *sim_, {.pre_roll = 2, .post_roll = 4, .max_length = 10, .storage_extra = ""});
  const fs::path log = *dir_ / "overlap.log";
  record_clips(cfg, root, 1, log);
  auto index = open_index(root);
  IncidentQuery q;
  q.limit = 100;
  const auto page = index->incidents(q).value();
  std::map<std::int64_t, std::vector<const IncidentView*>> by_clip;
  for (const auto& v : page.items)
    if (v.clip && v.clip->state == ClipState::kComplete) by_clip[v.clip->id].push_back(&v);
  const auto shared =
      std::find_if(by_clip.begin(), by_clip.end(), [](const auto& kv) { return kv.second.size() >= 2; });
  ASSERT_NE(shared, by_clip.end()) << "no two incidents share a clip\n" << read_file(log);
  auto incidents = shared->second;
  std::sort(incidents.begin(), incidents.end(), [](const IncidentView* a, const IncidentView* b) {
    return a->incident.started_at < b->incident.started_at;
  });
  const ClipRecord& clip = *incidents.front()->clip;
  const ClipProbe p = probe_clip(root / clip.path);
  ASSERT_TRUE(p.opened) << clip.path;
  EXPECT_EQ(decode_errors(p), "") << clip.path;
  double previous = -1;
  for (const auto* v : incidents) {
    const double expected = std::chrono::duration<double>(v->incident.started_at - clip.start).count();
    EXPECT_NEAR(v->incident.clip_offset_s, std::max(0.0, expected), 0.3) << v->incident.id;
    EXPECT_GT(v->incident.clip_offset_s, previous) << "each incident has its own offset, in start order";
    EXPECT_LT(v->incident.clip_offset_s, p.duration_s) << "the offset lies inside the clip";
    previous = v->incident.clip_offset_s;
  }
  // The later incident started within the earlier one's post-roll, and the clip covers both.
  ASSERT_TRUE(incidents[0]->incident.ended_at.has_value());
  EXPECT_LE(incidents[1]->incident.started_at, *incidents[0]->incident.ended_at + 4s);
  EXPECT_GE(clip.end, *incidents[0]->incident.ended_at);
}

TEST_F(StorageIT, ExportVerifiesAndNamesTheFileWithAFlippedByte) {
  const fs::path root = *dir_ / "export";
  const fs::path cfg = write_config(root, "export", *sim_, {});
  record_clips(cfg, root, 1, *dir_ / "export.log");
  auto index = open_index(root);
  std::string id;
  IncidentQuery q;
  const auto page = index->incidents(q).value();
  for (const auto& v : page.items)
    if (v.clip && v.clip->state == ClipState::kComplete) id = v.incident.id;
  ASSERT_FALSE(id.empty());
  const auto view = index->incident(id).value();
  index.reset();

  const fs::path out = *dir_ / "export-out";
  auto [rc, text] = run_command(
      {matthan_binary().string(), "export", "--config", cfg.string(), "--incident", id, "--out", out.string()});
  ASSERT_EQ(rc, 0) << text;
  const auto manifest = nlohmann::json::parse(read_file(out / "manifest.json"));
  EXPECT_EQ(manifest["node"], "storage-it");
  EXPECT_EQ(manifest["camera"]["id"], "cam");
  EXPECT_EQ(manifest["camera"]["name"], "Cổng chợ");
  EXPECT_TRUE(manifest["start"]["utc"].get<std::string>().ends_with("Z"));
  EXPECT_FALSE(manifest["start"]["local"].get<std::string>().empty());
  EXPECT_FALSE(manifest["software"]["version"].get<std::string>().empty());
  const std::string clip_name = fs::path(view->clip->path).filename().string();
  bool clip_listed = false;
  for (const auto& f : manifest["files"]) {
    if (f["name"] == clip_name) {
      clip_listed = true;
      EXPECT_EQ(f["sha256"], view->clip->sha256) << "the export matches what was recorded";
    }
  }
  EXPECT_TRUE(clip_listed);
  EXPECT_TRUE(fs::exists(out / "incident.json"));

  auto [ok_rc, ok_text] = run_command({matthan_binary().string(), "verify", out.string()});
  EXPECT_EQ(ok_rc, 0) << ok_text;
  // A symlink swapped in for the clip under the storage root is refused, never followed (issue 19 D15).
  {
    const fs::path stored = root / view->clip->path;
    const fs::path kept = *dir_ / "kept-clip.mp4";
    fs::rename(stored, kept);
    fs::create_symlink("/etc/passwd", stored);
    auto [link_rc, link_text] = run_command({matthan_binary().string(), "export", "--config", cfg.string(),
                                             "--incident", id, "--out", (*dir_ / "export-link").string()});
    EXPECT_NE(link_rc, 0) << link_text;
    EXPECT_NE(link_text.find("symbolic link"), std::string::npos) << link_text;
    EXPECT_FALSE(fs::exists(*dir_ / "export-link" / clip_name)) << "the link was followed";
    fs::remove(stored);
    fs::rename(kept, stored);
  }
  {
    std::fstream f(out / clip_name, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(1000);
    char b = 0;
    f.read(&b, 1);
    b = static_cast<char>(b ^ 0x01);
    f.seekp(1000);
    f.write(&b, 1);
  }
  auto [bad_rc, bad_text] = run_command({matthan_binary().string(), "verify", out.string()});
  EXPECT_NE(bad_rc, 0);
  EXPECT_NE(bad_text.find("MISMATCH " + clip_name), std::string::npos) << bad_text;
  EXPECT_EQ(bad_text.find("MISMATCH manifest"), std::string::npos);

  auto [ev_rc, ev_text] =
      run_command({matthan_binary().string(), "events", "--config", cfg.string(), "--since", "1", "--until", "3"});
  ASSERT_EQ(ev_rc, 0) << ev_text;
  std::istringstream lines(ev_text);
  std::vector<std::uint64_t> seqs;
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("seq")) seqs.push_back(j["seq"].get<std::uint64_t>());
  }
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{2, 3}));
}

// A small tmpfs the test mounts (CI runs as root): retention, evidence, storage_full, recovery.
TEST_F(StorageIT, FullDiskKeepsEvidenceRefusesClipsCleanlyAndRecovers) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const fs::path mnt = *dir_ / "small";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=48m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const fs::path root = mnt / "var";
  const std::uint64_t floor = 8u << 20;
  const fs::path cfg = write_config(
      root, "full", *sim_, {.storage_extra = "min_free_bytes: " + std::to_string(floor) + "\n  retention_interval: 1"});
  const fs::path log = *dir_ / "full.log";
  record_clips(cfg, root, 3, log);

  // The oldest clip is evidence; then the disk is filled to leave less than the floor even after
  // retention removes everything else.
  auto index = open_index(root);
  IncidentQuery q;
  q.limit = 1000;
  std::string evidence_id;
  std::int64_t evidence_clip = 0;
  const auto page = index->incidents(q).value();
  for (const auto& v : page.items)
    if (v.clip && v.clip->state == ClipState::kComplete) {
      evidence_id = v.incident.id;  // newest first: the last one seen is the oldest
      evidence_clip = v.clip->id;
    }
  ASSERT_FALSE(evidence_id.empty());
  ASSERT_TRUE(index->set_evidence(evidence_id, true, "case 1", "it", std::chrono::system_clock::now()).ok());
  const auto before = index->live_clips().value();
  index.reset();
  // The filler keeps the free space under half the floor: once retention has removed every clip it may,
  // only evidence is left and nothing more can go. It is topped up while the engine runs, since each
  // deletion frees space again.
  const fs::path filler = mnt / "filler";
  auto top_up = [&] {
    const auto free_now = fs::space(mnt).available;
    if (free_now <= floor / 2 + (1 << 20)) return;
    std::ofstream f(filler, std::ios::binary | std::ios::app);
    const std::string block(1 << 20, 'x');
    for (std::uint64_t n = 0; n + (1 << 20) < free_now - floor / 2; n += block.size()) f << block;
  };
  top_up();
  fs::remove(log);
  auto engine = start_engine(cfg, log);
  ASSERT_TRUE(wait_until(
      [&] {
        top_up();
        return read_file(log).find("refused: storage_full") != std::string::npos;
      },
      120s))
      << "detection goes on and new clips are refused cleanly\n"
      << read_file(log);
  EXPECT_NE(read_file(log).find("storage_full: "), std::string::npos);
  index = open_index(root);
  ASSERT_TRUE(wait_until([&] { return index->live_clips().value().size() == 1u; }, 60s))
      << "every non-evidence clip is deleted";
  const auto after = index->live_clips().value();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].id, evidence_clip);
  EXPECT_TRUE(fs::exists(root / after[0].path));
  // Oldest first: deletion times follow clip end times.
  std::vector<ClipRecord> deleted;
  for (const auto& c : before)
    if (c.id != evidence_clip) deleted.push_back(*index->clip(c.id).value());
  for (std::size_t i = 0; i < deleted.size(); ++i) {
    EXPECT_EQ(deleted[i].state, ClipState::kDeleted);
    EXPECT_NE(deleted[i].deleted_reason.find("min_free_bytes"), std::string::npos);
    if (i > 0) {
      EXPECT_LE(*deleted[i - 1].deleted_at, *deleted[i].deleted_at);
    }
  }
  const int complete_while_full = static_cast<int>(index->clips_in_state(ClipState::kComplete).value().size());
  index.reset();
  // Events keep flowing while full: incident events are stored with growing seq.
  auto stored_events = [&] {
    auto i = Index::open(root / "index.db");
    if (!i) return std::uint64_t{0};
    auto seq = (*i)->last_event_seq();
    return seq ? *seq : std::uint64_t{0};
  };
  const auto seq_full = stored_events();
  EXPECT_TRUE(wait_until([&] { return stored_events() > seq_full; }, 60s)) << "events stopped while the disk is full";
  // The gate is published too (topic `storage`): storage_full, then a clip_refused naming the camera and
  // an incident whose `end` carries clip_error instead of a clip.
  auto storage_events = [&] {
    std::vector<nlohmann::json> out;
    auto i = Index::open(root / "index.db");
    if (!i) return out;
    auto events = (*i)->events_after(0, 1'000'000);
    if (!events) return out;
    for (const auto& e : *events)
      if (e.topic == "storage") out.push_back(nlohmann::json::parse(e.payload));
    return out;
  };
  auto count_kind = [](const std::vector<nlohmann::json>& events, const std::string& kind) {
    return std::count_if(events.begin(), events.end(), [&](const nlohmann::json& e) { return e["event"] == kind; });
  };
  {
    const auto gate = storage_events();
    ASSERT_FALSE(gate.empty()) << "no `storage` event was published";
    EXPECT_EQ(gate.front()["event"], "storage_full");
    EXPECT_EQ(count_kind(gate, "storage_full"), 1);
    const auto refused =
        std::find_if(gate.begin(), gate.end(), [](const auto& e) { return e["event"] == "clip_refused"; });
    ASSERT_NE(refused, gate.end());
    EXPECT_EQ((*refused)["camera"], "cam");
    EXPECT_GE((*refused)["clips_refused"].get<int>(), 1);
    EXPECT_LT((*refused)["free_bytes"].get<std::uint64_t>(), floor);
  }

  fs::remove(filler);  // space returns: recording resumes by itself
  ASSERT_TRUE(wait_until([&] { return read_file(log).find("recording resumes") != std::string::npos; }, 60s));
  EXPECT_TRUE(wait_until([&] { return count_kind(storage_events(), "storage_ok") == 1; }, 10s))
      << "room again is published once";
  EXPECT_TRUE(wait_until([&] { return clips_in(root, ClipState::kComplete) > complete_while_full; }, 90s))
      << read_file(log);
  stop_engine(*engine);
  EXPECT_TRUE(files_ending(root, ".part").empty());
  EXPECT_EQ(clips_in(root, ClipState::kWriting), 0);
}

}  // namespace
}  // namespace matthan::test
