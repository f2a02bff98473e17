#include "engine_run.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>

#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"

namespace matthan::test {

std::string short_run_defaults(const std::string& extra) {
  return "defaults:\n"
         "  detect: {fps: 5}\n"
         "  motion: {min_area: 0.002, start_frames: 3, end_seconds: 2}\n"
         "  clip: {pre_roll: 2, post_roll: 1, max_length: 10}\n" +
         extra;
}

EngineRun run_engine_for(const std::filesystem::path& dir, const std::string& name, const std::string& body,
                         int seconds) {
  EngineRun run;
  run.root = dir / name;
  const int port = free_tcp_port();
  const std::filesystem::path cfg = dir / (name + ".yaml");
  std::ofstream(cfg) << "node: it-node\n"
                     << "storage: {root: \"" << run.root.string() << "\"}\n"
                     << "events: {bind: \"tcp://127.0.0.1:" << port << "\"}\n"
                     << "health: {heartbeat_s: 2}\n"
                     << body;
  EventCollector events("tcp://127.0.0.1:" + std::to_string(port), "");
  const std::filesystem::path log_path = dir / (name + ".log");
  Process engine({matthan_binary().string(), "run", "--config", cfg.string(), "--for", std::to_string(seconds)},
                 log_path.string());
  const auto rc = engine.wait(std::chrono::seconds(seconds + 60));
  EXPECT_TRUE(rc.has_value()) << "engine did not stop after --for";
  if (rc) {
    EXPECT_EQ(*rc, 0) << engine.output();
  }
  std::ifstream log(log_path);
  run.output = engine.output() + std::string(std::istreambuf_iterator<char>(log), {});
  events.wait_for([](const auto&) { return false; }, std::chrono::seconds(1));  // the last messages in flight
  run.events = events.events();
  return run;
}

}  // namespace matthan::test
