// Reload: a newly read config applied while running. Everything new is built first; removed and changed cameras
// are retired one at a time (their incidents end, their clips finish); the others are never touched.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

#include "engine_impl.hpp"

namespace matthan {
namespace {

constexpr auto kRetireClaimPoll = std::chrono::milliseconds(5);

}  // namespace

ReloadOutcome Engine::Impl::reload(const ConfigLoad& load) {
  std::lock_guard serial(reload_mu);
  ReloadOutcome out;
  if (!started || stopped) {
    out.errors.push_back("the engine is not running");
    return out;
  }
  if (!load.ok()) {
    for (const auto& i : load.issues) out.errors.push_back(i.to_string());
    return reject(std::move(out));
  }
  out.diff = diff_config(running_config(), load.config);
  for (const auto& key : out.diff.needs_restart)
    spdlog::warn("reload: {} changed; node-level settings need a restart (the running value stays in force)", key);
  // Everything new is built before anything is touched: a camera that cannot be built rejects the whole reload.
  std::vector<std::shared_ptr<CameraRuntime>> changed, added;
  for (const auto& c : out.diff.changed) {
    if (auto rt = build_camera(c); rt.ok())
      changed.push_back(std::move(rt.value()));
    else
      out.errors.push_back(rt.error().message);
  }
  for (const auto& c : out.diff.added) {
    if (auto rt = build_camera(c); rt.ok())
      added.push_back(std::move(rt.value()));
    else
      out.errors.push_back(rt.error().message);
  }
  if (!out.errors.empty()) return reject(std::move(out));

  for (const auto& id : out.diff.removed)
    if (auto rt = find_camera(id)) retire(rt, "camera_removed");
  for (auto& rt : changed) {
    if (auto old = find_camera(rt->cfg.id)) retire(old, "camera_changed");
    launch(rt);
  }
  for (auto& rt : added) launch(rt);
  {
    std::lock_guard lock(cameras_mu);
    // Only the cameras: the node-level fields stay as they started (and threads read them without this lock).
    config.cameras = load.config.cameras;
    order_cameras_like_config();
  }
  out.ok = true;
  spdlog::info("reload applied: {} added, {} removed, {} changed, {} untouched", out.diff.added.size(),
               out.diff.removed.size(), out.diff.changed.size(), out.diff.unchanged.size());
  announce(out);
  return out;
}

Config Engine::Impl::running_config() const {
  std::lock_guard lock(cameras_mu);
  return config;
}

ReloadOutcome Engine::Impl::reject(ReloadOutcome out) {
  spdlog::error("reload rejected ({} problem{}); the running config stays in force:", out.errors.size(),
                out.errors.size() == 1 ? "" : "s");
  for (const auto& e : out.errors) spdlog::error("  {}", e);
  announce(out);
  return out;
}

void Engine::Impl::announce(const ReloadOutcome& out) {
  ReloadNotice n;
  n.figures.ok = out.ok;
  n.figures.at = std::chrono::system_clock::now();
  n.figures.errors = out.errors;
  n.figures.needs_restart = out.diff.needs_restart;
  if (out.ok) {
    for (const auto& c : out.diff.added) n.added.push_back(c.id);
    for (const auto& c : out.diff.changed) n.changed.push_back(c.id);
    n.removed = out.diff.removed;
    n.unchanged = out.diff.unchanged;
  }
  {
    std::lock_guard lock(reload_status_mu);
    last_reload = n.figures;
  }
  bus->post(kConfigTopic, [n, node = config.node](std::uint64_t seq) { return config_event_json(n, seq, node); });
}

std::shared_ptr<CameraRuntime> Engine::Impl::find_camera(const std::string& id) const {
  std::lock_guard lock(cameras_mu);
  for (const auto& rt : cameras)
    if (rt->cfg.id == id) return rt;
  return nullptr;
}

// cameras_mu held: review and /metrics list them in the file's order.
void Engine::Impl::order_cameras_like_config() {
  auto rank = [&](const std::shared_ptr<CameraRuntime>& rt) {
    for (std::size_t i = 0; i < config.cameras.size(); ++i)
      if (config.cameras[i].id == rt->cfg.id) return i;
    return config.cameras.size();
  };
  std::stable_sort(cameras.begin(), cameras.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
}

void Engine::Impl::launch(const std::shared_ptr<CameraRuntime>& rt) {
  {
    std::lock_guard lock(cameras_mu);
    cameras.push_back(rt);
  }
  rt->start_streams();
  rt->log->info("reload: camera started");
}

// Stops one camera the way stop() stops them all, and waits until its clips are final and its `end`s are
// out; then the storage thread takes it out of the set. The other cameras run on meanwhile.
void Engine::Impl::retire(const std::shared_ptr<CameraRuntime>& rt, const std::string& reason) {
  rt->log->info("reload: stopping ({}): open incidents end and their clips finish", reason);
  rt->retiring = true;
  rt->stop_streams();  // no more packets or frames; its last health (stopped) is queued for the storage thread
  // Take the camera from the workers: once its `scheduled` flag is ours, it is neither queued nor analysed.
  while (rt->scheduled.exchange(true)) std::this_thread::sleep_for(kRetireClaimPoll);
  close_incidents(*rt, reason);
  std::promise<void> done;
  // After every task close_incidents posted (the queue runs in order), so the clips they end are flushed.
  storage_tasks.post([this, rt, &done] {
    desk->collect(*rt, true);
    desk->give_up(rt->cfg.id, "the camera was stopped by a config reload before a clip could be written");
    {
      std::lock_guard lock(cameras_mu);
      std::erase(cameras, rt);
    }
    done.set_value();
  });
  done.get_future().wait();
  rt->log->info("reload: camera stopped");
}

std::string ReloadOutcome::answer() const {
  std::string out = ok ? "ok\n" : "error: the new config was rejected; the running config stays in force\n";
  for (const auto& e : errors) out += e + "\n";
  if (!ok) return out;
  auto line = [&](const char* what, const std::vector<std::string>& ids) {
    out += fmt::format("{}: {}\n", what, ids.empty() ? "-" : fmt::format("{}", fmt::join(ids, ", ")));
  };
  std::vector<std::string> added, changed;
  for (const auto& c : diff.added) added.push_back(c.id);
  for (const auto& c : diff.changed) changed.push_back(c.id);
  line("added", added);
  line("removed", diff.removed);
  line("changed", changed);
  line("unchanged", diff.unchanged);
  if (!diff.needs_restart.empty())
    out += fmt::format("needs restart (not applied): {}\n", fmt::join(diff.needs_restart, ", "));
  return out;
}

}  // namespace matthan
