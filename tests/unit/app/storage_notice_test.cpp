// The storage gate as events: StorageUpkeep tells its listener when the disk becomes full, when each clip
// is refused and when room returns; the messages match schemas/storage.schema.json and the heartbeat's
// storage figures match schemas/heartbeat.schema.json.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "matthan/events/event_json.hpp"
#include "matthan/events/node_events.hpp"
#include "matthan/storage/index.hpp"
#include "matthan/test/paths.hpp"
#include "storage_upkeep.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;
using Kind = StorageNotice::Kind;

JsonSchemaValidator schema(const char* name) {
  auto v = JsonSchemaValidator::from_file(fs::path(MATTHAN_SCHEMA_DIR) / name);
  if (!v.ok()) throw std::runtime_error(v.error().message);
  return std::move(v.value());
}

class StorageNoticeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("matthan-storage-notice");
    auto index = Index::open(dir_ / "index.db");
    ASSERT_TRUE(index.ok()) << index.error().message;
    index_ = std::move(index.value());
    RetentionSettings settings;
    settings.min_free_bytes = 1000;
    settings.interval_s = 3600;
    upkeep_ = std::make_unique<StorageUpkeep>(
        dir_, *index_, settings, [this](const fs::path&) -> Result<std::uint64_t> { return free_.load(); });
  }
  void TearDown() override {
    upkeep_.reset();
    index_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  std::unique_ptr<Index> index_;
  std::unique_ptr<StorageUpkeep> upkeep_;
  std::atomic<std::uint64_t> free_{1'000'000};
  std::vector<StorageNotice> notices_;
};

TEST_F(StorageNoticeTest, FullRefusedAndRoomAgainAreEachToldOnce) {
  ASSERT_TRUE(upkeep_->start_up().ok());
  upkeep_->set_notify([this](const StorageNotice& n) { notices_.push_back(n); });
  EXPECT_TRUE(notices_.empty()) << "a disk with room is not news";
  EXPECT_TRUE(upkeep_->admit_clip("gate-1", "inc-0"));
  EXPECT_TRUE(notices_.empty());

  free_ = 10;  // under the floor, and no clip that retention could delete
  EXPECT_FALSE(upkeep_->admit_clip("gate-1", "inc-1"));
  EXPECT_FALSE(upkeep_->admit_clip("gate-2", "inc-2"));
  ASSERT_EQ(notices_.size(), 3u);
  EXPECT_EQ(notices_[0].kind, Kind::kFull);
  EXPECT_EQ(notices_[0].free_bytes, std::optional<std::uint64_t>(10));
  EXPECT_EQ(notices_[0].min_free_bytes, 1000u);
  EXPECT_EQ(notices_[1].kind, Kind::kClipRefused);
  EXPECT_EQ(notices_[1].camera, "gate-1");
  EXPECT_EQ(notices_[1].incident, "inc-1");
  EXPECT_EQ(notices_[1].clips_refused, 1u);
  EXPECT_EQ(notices_[2].kind, Kind::kClipRefused);
  EXPECT_EQ(notices_[2].camera, "gate-2");
  EXPECT_EQ(notices_[2].clips_refused, 2u);
  EXPECT_TRUE(upkeep_->storage_full());

  free_ = 5000;  // space returns
  EXPECT_TRUE(upkeep_->admit_clip("gate-1", "inc-3"));
  ASSERT_EQ(notices_.size(), 4u);
  EXPECT_EQ(notices_[3].kind, Kind::kRoom);
  EXPECT_EQ(notices_[3].clips_refused, 2u);
  EXPECT_FALSE(upkeep_->storage_full());
}

TEST_F(StorageNoticeTest, AListenerSetWhileFullIsToldAtOnce) {
  free_ = 10;
  ASSERT_TRUE(upkeep_->start_up().ok());  // the start-up pass finds the disk full before any listener
  ASSERT_TRUE(upkeep_->storage_full());
  upkeep_->set_notify([this](const StorageNotice& n) { notices_.push_back(n); });
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_EQ(notices_[0].kind, Kind::kFull);
}

TEST(StorageEventJson, EveryKindMatchesTheSchema) {
  const JsonSchemaValidator v = schema("storage.schema.json");
  const auto at = std::chrono::system_clock::now();
  const StorageNotice full{Kind::kFull, 123, 1000, 0, {}, {}};
  const StorageNotice refused{Kind::kClipRefused, std::nullopt, 1000, 7, "gate-1", "gate-1-20261128T221249Z-abc"};
  const StorageNotice room{Kind::kRoom, 5000, 1000, 7, {}, {}};
  for (const auto* n : {&full, &refused, &room}) {
    const std::string text = storage_event_json(*n, 42, "hai-xuan", at);
    EXPECT_TRUE(v.validate(text).ok()) << text << "\n" << v.validate(text).error().message;
  }
  const auto j = nlohmann::json::parse(storage_event_json(refused, 42, "hai-xuan", at));
  EXPECT_EQ(j["event"], "clip_refused");
  EXPECT_EQ(j["camera"], "gate-1");
  EXPECT_EQ(j["incident"], "gate-1-20261128T221249Z-abc");
  EXPECT_TRUE(j["free_bytes"].is_null());
  EXPECT_EQ(j["clips_refused"], 7);
  EXPECT_EQ(j["seq"], 42);
  const auto f = nlohmann::json::parse(storage_event_json(full, 43, "hai-xuan", at));
  EXPECT_EQ(f["event"], "storage_full");
  EXPECT_FALSE(f.contains("camera"));
  EXPECT_FALSE(v.validate(R"({"schema":"matthan.storage/1","seq":1,"node":"n","at":"2026-11-28T22:12:49.121+00:00",)"
                          R"("event":"disk_on_fire","free_bytes":1,"min_free_bytes":1,"clips_refused":0})")
                   .ok())
      << "an unknown event kind is not valid";
}

TEST(HeartbeatJson, CarriesTheStorageFigures) {
  const JsonSchemaValidator v = schema("heartbeat.schema.json");
  HeartbeatFigures f;
  f.cameras = 2;
  f.streaming = 2;
  f.storage_full = true;
  f.free_bytes = 4096;
  f.clips_refused = 3;
  f.clips_deleted = 9;
  const std::string text = heartbeat_event_json(f, 5, "hai-xuan", std::chrono::system_clock::now());
  EXPECT_TRUE(v.validate(text).ok()) << text;
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["storage"]["full"], true);
  EXPECT_EQ(j["storage"]["free_bytes"], 4096);
  EXPECT_EQ(j["storage"]["clips_refused"], 3);
  EXPECT_EQ(j["storage"]["clips_deleted"], 9);
  f.free_bytes.reset();
  const std::string unknown = heartbeat_event_json(f, 6, "hai-xuan", std::chrono::system_clock::now());
  EXPECT_TRUE(v.validate(unknown).ok()) << unknown;
}

}  // namespace
}  // namespace matthan
