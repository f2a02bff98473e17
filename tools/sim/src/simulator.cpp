// The simulator's RTSP server: one GMainLoop thread with its own context, one shared media factory per mount.
#include "matthan/sim/simulator.hpp"

#include <fmt/format.h>
#include <gst/app/gstappsrc.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "matthan/ingest/gst_ptr.hpp"
#include "matthan/ingest/gst_source.hpp"
#include "media_cache.hpp"
#include "onset_feeder.hpp"
#include "stream_feeder.hpp"

namespace matthan {
namespace {

constexpr const char* kTestPrefix = "test:";
constexpr const char* kFeederKey = "matthan-feeder";
constexpr const char* kOnsetsPath = "test:onsets";

// A live moving pattern: the encoder runs live, like a camera's.
constexpr const char* kBallLaunch =
    "( videotestsrc pattern=ball is-live=true ! video/x-raw,width=640,height=360,framerate=10/1 "
    "! videoconvert ! x264enc tune=zerolatency key-int-max=20 bframes=0 speed-preset=ultrafast "
    "! rtph264pay name=pay0 pt=96 config-interval=1 )";
constexpr const char* kBallLaunchH265 =
    "( videotestsrc pattern=ball is-live=true ! video/x-raw,width=640,height=360,framerate=10/1 "
    "! videoconvert ! x265enc tune=zerolatency key-int-max=20 speed-preset=ultrafast "
    "! rtph265pay name=pay0 pt=96 config-interval=1 )";
// Scripted onsets: raw frames made by OnsetFeeder, encoded live like test:ball (a 2 s GOP).
constexpr const char* kOnsetsLaunch =
    "( appsrc name=raw is-live=true format=time do-timestamp=true "
    "caps=video/x-raw,format=I420,width=1280,height=720,framerate=10/1 "
    "! x264enc tune=zerolatency key-int-max=20 bframes=0 speed-preset=ultrafast "
    "! rtph264pay name=pay0 pt=96 config-interval=1 )";
constexpr const char* kOnsetsLaunchH265 =
    "( appsrc name=raw is-live=true format=time do-timestamp=true "
    "caps=video/x-raw,format=I420,width=1280,height=720,framerate=10/1 "
    "! x265enc tune=zerolatency key-int-max=20 speed-preset=ultrafast "
    "! rtph265pay name=pay0 pt=96 config-interval=1 )";
// File mounts never re-encode: the feeder pushes the file's own access units.
constexpr const char* kFileLaunch =
    "( appsrc name=feed is-live=true format=time do-timestamp=false "
    "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )";
constexpr const char* kFileLaunchH265 =
    "( appsrc name=feed is-live=true format=time do-timestamp=false "
    "! h265parse ! rtph265pay name=pay0 pt=96 config-interval=1 )";

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

bool is_test_source(const SimSource& s) {
  return s.path.rfind(kTestPrefix, 0) == 0;
}

Status validate_sources(const std::vector<SimSource>& sources) {
  if (sources.empty()) return make_error("no sources to serve");
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const auto& s = sources[i];
    if (!valid_name(s.name))
      return make_error(fmt::format("bad source name '{}': use lower-case letters, digits, '_' and '-'", s.name));
    for (std::size_t j = 0; j < i; ++j) {
      if (sources[j].name == s.name) return make_error(fmt::format("duplicate source name '{}'", s.name));
    }
    if (is_test_source(s)) {
      if (s.path != "test:ball" && s.path != kOnsetsPath)
        return make_error(
            fmt::format("source '{}': unknown test pattern '{}' (use test:ball or test:onsets)", s.name, s.path));
      if (!s.then.empty())
        return make_error(fmt::format("source '{}': a test pattern cannot be followed by files", s.name));
      continue;
    }
    std::vector<std::string> files{s.path};
    files.insert(files.end(), s.then.begin(), s.then.end());
    for (const auto& f : files) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(f, ec))
        return make_error(fmt::format("source '{}': no such file {}", s.name, f));
    }
  }
  return {};
}

GstRTSPLowerTrans lower_transports(SimTransport t) {
  switch (t) {
    case SimTransport::kTcpOnly:
      return GST_RTSP_LOWER_TRANS_TCP;
    case SimTransport::kUdpOnly:
      return GST_RTSP_LOWER_TRANS_UDP;
    case SimTransport::kAny:
      break;
  }
  return static_cast<GstRTSPLowerTrans>(GST_RTSP_LOWER_TRANS_UDP | GST_RTSP_LOWER_TRANS_UDP_MCAST |
                                        GST_RTSP_LOWER_TRANS_TCP);
}

}  // namespace

std::filesystem::path default_sim_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0')
    return std::filesystem::path(xdg) / "matthan" / "sim";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return std::filesystem::path(home) / ".cache" / "matthan" / "sim";
  return std::filesystem::temp_directory_path() / "matthan-sim-cache";
}

struct Simulator::Impl {
  struct Mount {
    Impl* impl = nullptr;
    SimSource source;
    std::vector<std::filesystem::path> files;  // the servable MP4s, played in turn (none for test patterns)
    std::shared_ptr<FaultSwitches> faults = std::make_shared<FaultSwitches>();
  };

  SimOptions options;
  std::vector<std::unique_ptr<Mount>> mounts;  // stable addresses: signal handlers point at them
  gst::MainContextPtr context;
  gst::MainLoopPtr loop;
  gst::ObjectPtr<GstRTSPServer> server;
  gst::SourcePtr listener;
  std::thread loop_thread;
  int bound_port = 0;
  bool stopped = false;  // control thread only

  std::mutex feeders_mu;
  std::vector<std::weak_ptr<StreamFeeder>> feeders;       // guarded by feeders_mu
  std::vector<std::weak_ptr<OnsetFeeder>> onset_feeders;  // guarded by feeders_mu

  std::mutex onset_log_mu;
  std::FILE* onset_log = nullptr;  // guarded by onset_log_mu
  void report_onset(const SimOnset& onset);

  Status prepare_files();
  Status build_server();
  void add_mount(GstRTSPMountPoints* points, Mount& mount);
  void start_loop();
  void install_auth();
  void stop();
  void stop_feeders();

  static void on_media_configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media, gpointer data);
  static void on_media_unprepared(GstRTSPMedia* media, gpointer data);
  static void on_onsets_configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media, gpointer data);
  static void on_onsets_unprepared(GstRTSPMedia* media, gpointer data);
};

void Simulator::Impl::report_onset(const SimOnset& onset) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(onset.sent.time_since_epoch()).count();
  spdlog::info("sim [{}]: onset {} at frame {}, sent {} ms", onset.mount, onset.number, onset.frame, ms);
  {
    std::lock_guard lock(onset_log_mu);
    if (onset_log != nullptr) {
      std::fprintf(onset_log, "%lld %s %llu %llu\n", static_cast<long long>(ms), onset.mount.c_str(),
                   static_cast<unsigned long long>(onset.number), static_cast<unsigned long long>(onset.frame));
      std::fflush(onset_log);
    }
  }
  if (options.on_onset) options.on_onset(onset);
}

void Simulator::Impl::on_onsets_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer data) {
  auto& mount = *static_cast<Mount*>(data);
  auto element = gst::adopt(gst_rtsp_media_get_element(media));
  auto appsrc = gst::adopt(gst_bin_get_by_name(GST_BIN(element.get()), "raw"));
  if (!appsrc) {
    spdlog::error("sim [{}]: no appsrc in the onsets pipeline", mount.source.name);
    return;
  }
  const int period = mount.impl->options.onset_period_frames;
  const OnsetScript script{period, period / 2, std::max(1, period / 3)};
  Impl* impl = mount.impl;
  auto feeder = std::make_shared<OnsetFeeder>(mount.source.name, std::move(appsrc), script,
                                              [impl](const SimOnset& o) { impl->report_onset(o); });
  {
    std::lock_guard lock(impl->feeders_mu);
    impl->onset_feeders.push_back(feeder);
  }
  g_object_set_data_full(G_OBJECT(media), kFeederKey, new std::shared_ptr<OnsetFeeder>(std::move(feeder)),
                         [](gpointer p) {
                           auto* owned = static_cast<std::shared_ptr<OnsetFeeder>*>(p);
                           (*owned)->stop();
                           delete owned;
                         });
  g_signal_connect(media, "unprepared", G_CALLBACK(&Impl::on_onsets_unprepared), nullptr);
}

void Simulator::Impl::on_onsets_unprepared(GstRTSPMedia* media, gpointer) {
  auto* feeder = static_cast<std::shared_ptr<OnsetFeeder>*>(g_object_get_data(G_OBJECT(media), kFeederKey));
  if (feeder != nullptr) (*feeder)->stop();
}

Status Simulator::Impl::prepare_files() {
  const auto cache = options.cache_dir.empty() ? default_sim_cache_dir() : options.cache_dir;
  for (auto& mount : mounts) {
    if (is_test_source(mount->source)) continue;
    std::vector<std::string> paths{mount->source.path};
    paths.insert(paths.end(), mount->source.then.begin(), mount->source.then.end());
    for (const auto& path : paths) {
      auto file = servable_file(path, cache, mount->source.codec);
      if (!file) return make_error(fmt::format("source '{}': {}", mount->source.name, file.error().message));
      mount->files.push_back(std::move(file).value());
    }
  }
  return {};
}

void Simulator::Impl::add_mount(GstRTSPMountPoints* points, Mount& mount) {
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  gst_rtsp_media_factory_set_protocols(factory, lower_transports(mount.source.transport));
  const bool h265 = mount.source.codec == SimCodec::kH265;
  if (mount.source.path == kOnsetsPath) {
    gst_rtsp_media_factory_set_launch(factory, h265 ? kOnsetsLaunchH265 : kOnsetsLaunch);
    g_signal_connect(factory, "media-configure", G_CALLBACK(&Impl::on_onsets_configure), &mount);
  } else if (is_test_source(mount.source)) {
    gst_rtsp_media_factory_set_launch(factory, h265 ? kBallLaunchH265 : kBallLaunch);
  } else {
    gst_rtsp_media_factory_set_launch(factory, h265 ? kFileLaunchH265 : kFileLaunch);
    g_signal_connect(factory, "media-configure", G_CALLBACK(&Impl::on_media_configure), &mount);
  }
  if (!options.user.empty()) {
    gst_rtsp_media_factory_add_role(factory, "viewer", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                    GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, nullptr);
  }
  // The mount points take over the factory's reference.
  gst_rtsp_mount_points_add_factory(points, ("/" + mount.source.name).c_str(), factory);
}

// One user with the role "viewer"; anonymous clients get 401 from every mount.
void Simulator::Impl::install_auth() {
  auto auth = gst::adopt(gst_rtsp_auth_new());
  GstRTSPToken* token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "viewer", nullptr);
  if (options.digest) {
    gst_rtsp_auth_set_supported_methods(auth.get(), GST_RTSP_AUTH_DIGEST);
    gst_rtsp_auth_add_digest(auth.get(), options.user.c_str(), options.password.c_str(), token);
  } else {
    gchar* basic = gst_rtsp_auth_make_basic(options.user.c_str(), options.password.c_str());
    gst_rtsp_auth_add_basic(auth.get(), basic, token);
    g_free(basic);
  }
  gst_rtsp_token_unref(token);
  gst_rtsp_server_set_auth(server.get(), auth.get());
}

Status Simulator::Impl::build_server() {
  context.reset(g_main_context_new());
  loop.reset(g_main_loop_new(context.get(), FALSE));
  server = gst::adopt(gst_rtsp_server_new());
  gst_rtsp_server_set_address(server.get(), options.address.c_str());
  gst_rtsp_server_set_service(server.get(), std::to_string(options.port).c_str());
  if (!options.user.empty()) install_auth();
  auto points = gst::adopt(gst_rtsp_server_get_mount_points(server.get()));
  for (auto& mount : mounts) add_mount(points.get(), *mount);
  GError* raw = nullptr;
  GSource* source = gst_rtsp_server_create_source(server.get(), nullptr, &raw);
  gst::ErrorPtr error(raw);
  if (source == nullptr) {
    return make_error(fmt::format("cannot listen on {}:{}: {}", options.address, options.port,
                                  error ? error->message : "unknown error"));
  }
  listener.reset(source);
  g_source_attach(listener.get(), context.get());
  bound_port = gst_rtsp_server_get_bound_port(server.get());
  return {};
}

void Simulator::Impl::start_loop() {
  loop_thread = std::thread([ctx = context.get(), l = loop.get()] {
    // Clients attach to the thread-default context, so it must be ours, not the global one.
    g_main_context_push_thread_default(ctx);
    g_main_loop_run(l);
    g_main_context_pop_thread_default(ctx);
  });
}

void Simulator::Impl::on_media_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer data) {
  auto& mount = *static_cast<Mount*>(data);
  auto element = gst::adopt(gst_rtsp_media_get_element(media));
  auto appsrc = gst::adopt(gst_bin_get_by_name(GST_BIN(element.get()), "feed"));
  auto reader = AccessUnitReader::open(mount.files);
  if (!appsrc || !reader) {
    spdlog::error("sim [{}]: cannot feed this session: {}", mount.source.name,
                  reader ? "no appsrc in the pipeline" : reader.error().message);
    return;
  }
  auto caps = appsrc_caps(reader.value()->info());
  g_object_set(appsrc.get(), "caps", caps.get(), "max-bytes", guint64{4} << 20, nullptr);
  // While the media is paused nothing is pulled: drop the oldest rather than grow without bound.
  gst_util_set_object_arg(G_OBJECT(appsrc.get()), "leaky-type", "downstream");
  auto feeder =
      std::make_shared<StreamFeeder>(mount.source.name, std::move(appsrc), std::move(reader).value(), mount.faults);
  {
    std::lock_guard lock(mount.impl->feeders_mu);
    mount.impl->feeders.push_back(feeder);
  }
  g_object_set_data_full(G_OBJECT(media), kFeederKey, new std::shared_ptr<StreamFeeder>(std::move(feeder)),
                         [](gpointer p) {
                           auto* owned = static_cast<std::shared_ptr<StreamFeeder>*>(p);
                           (*owned)->stop();
                           delete owned;
                         });
  g_signal_connect(media, "unprepared", G_CALLBACK(&Impl::on_media_unprepared), nullptr);
}

void Simulator::Impl::on_media_unprepared(GstRTSPMedia* media, gpointer) {
  auto* feeder = static_cast<std::shared_ptr<StreamFeeder>*>(g_object_get_data(G_OBJECT(media), kFeederKey));
  if (feeder != nullptr) (*feeder)->stop();
}

void Simulator::Impl::stop_feeders() {
  std::vector<std::shared_ptr<StreamFeeder>> live;
  std::vector<std::shared_ptr<OnsetFeeder>> live_onsets;
  {
    std::lock_guard lock(feeders_mu);
    for (auto& weak : feeders) {
      if (auto f = weak.lock()) live.push_back(std::move(f));
    }
    feeders.clear();
    for (auto& weak : onset_feeders) {
      if (auto f = weak.lock()) live_onsets.push_back(std::move(f));
    }
    onset_feeders.clear();
  }
  for (auto& f : live) f->stop();
  for (auto& f : live_onsets) f->stop();
}

void Simulator::Impl::stop() {
  if (stopped) return;
  stopped = true;
  if (loop_thread.joinable()) {
    // Closing clients must happen on the loop's own thread; quitting there too guarantees it ran.
    g_main_context_invoke(
        context.get(),
        [](gpointer p) -> gboolean {
          auto* self = static_cast<Impl*>(p);
          gst_rtsp_server_client_filter(
              self->server.get(), [](GstRTSPServer*, GstRTSPClient*, gpointer) { return GST_RTSP_FILTER_REMOVE; },
              nullptr);
          g_main_loop_quit(self->loop.get());
          return G_SOURCE_REMOVE;
        },
        this);
    loop_thread.join();
  }
  if (listener) g_source_destroy(listener.get());
  listener.reset();
  stop_feeders();
  server.reset();
  std::lock_guard lock(onset_log_mu);
  if (onset_log != nullptr) std::fclose(onset_log);
  onset_log = nullptr;
}

Result<std::unique_ptr<Simulator>> Simulator::start(SimOptions options) {
  if (auto s = validate_sources(options.sources); !s) return s.error();
  if (options.port < 0 || options.port > 65535) return make_error(fmt::format("bad port {}", options.port));
  if (options.onset_period_frames < 3)
    return make_error(fmt::format("bad onset period {} frames (at least 3)", options.onset_period_frames));
  ensure_gstreamer_initialized();
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  for (const auto& source : impl->options.sources) {
    auto mount = std::make_unique<Impl::Mount>();
    mount->impl = impl.get();
    mount->source = source;
    impl->mounts.push_back(std::move(mount));
  }
  if (auto s = impl->prepare_files(); !s) return s.error();
  if (!impl->options.onset_log.empty()) {
    impl->onset_log = std::fopen(impl->options.onset_log.c_str(), "a");
    if (impl->onset_log == nullptr)
      return make_error(fmt::format("cannot open the onset log {}", impl->options.onset_log.string()));
  }
  if (auto s = impl->build_server(); !s) return s.error();
  impl->start_loop();
  std::unique_ptr<Simulator> sim(new Simulator(std::move(impl)));
  for (const auto& url : sim->urls()) spdlog::info("sim: serving {}", url);
  return sim;
}

Simulator::Simulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Simulator::~Simulator() {
  stop();
}

void Simulator::stop() {
  impl_->stop();
}

int Simulator::port() const {
  return impl_->bound_port;
}

std::vector<std::string> Simulator::urls() const {
  std::vector<std::string> out;
  for (const auto& mount : impl_->mounts)
    out.push_back(fmt::format("rtsp://{}:{}/{}", impl_->options.address, impl_->bound_port, mount->source.name));
  return out;
}

Status Simulator::set_faults(const std::string& name, SimFaults faults) {
  for (auto& mount : impl_->mounts) {
    if (mount->source.name != name) continue;
    if (is_test_source(mount->source)) return make_error(fmt::format("'{}' is a test pattern: no faults", name));
    mount->faults->set(faults);
    return {};
  }
  return make_error(fmt::format("no source named '{}'", name));
}

}  // namespace matthan
