// The config file's top level: its own keys and blocks (storage, events, health, ingest, log, metrics, control),
// each key declared once, and the docs' key tables made from every table (config_key_tables).
#include <regex>

#include "config_tables.hpp"
#include "matthan/core/time_zone.hpp"

namespace matthan {
namespace config {
namespace {

// ---- the top level's blocks ----

const Table<Config>& storage_table() {
  static const Table<Config> t{
      custom<Config>(
          "root",
          {"", "path", doc_code(Config{}.storage_root.string()), "non-empty",
           "folder for `clips/`, `snapshots/` and `index.db`; relative paths are taken from the config file's folder"},
          [](ConfigReader& r, const YAML::Node& s, const std::string& path, Config& cfg) {
            std::string rootdir;
            if (!r.string(s, "root", path, rootdir)) return;
            if (rootdir.empty()) r.issue(s["root"], "storage.root", "must not be empty");
            cfg.storage_root = rootdir;  // resolved against the config file's folder by read_root
          }),
      number("ring_max_bytes", &Config::ring_max_bytes, std::size_t{1} << 20, std::size_t{1} << 32,
             "per-camera memory bound of the encoded-packet ring (pre-roll)", in_bytes()),
      number("max_age_days", &Config::retention, &RetentionSettings::max_age_days, 0.0, 36500.0,
             "clips that ended longer ago are deleted by retention (0: no age limit); evidence never"),
      number("max_bytes", &Config::retention, &RetentionSettings::max_bytes, std::uint64_t{0}, std::uint64_t{1} << 56,
             "quota for all clips; the oldest non-evidence clips go first when exceeded (0: no quota)", in_bytes()),
      number("min_free_bytes", &Config::retention, &RetentionSettings::min_free_bytes, std::uint64_t{0},
             std::uint64_t{1} << 56,
             "free-space floor on the filesystem of `storage.root`: retention deletes the oldest non-evidence clips to "
             "keep it; when nothing can go, new clips are refused (`storage_full`) until space returns",
             in_bytes()),
      number("retention_interval", &Config::retention, &RetentionSettings::interval_s, 1.0, 86400.0,
             "how often the retention pass runs, in seconds (also once at start-up); see docs/storage.md"),
  };
  return t;
}

const Table<Config>& events_table() {
  static const Table<Config> t{
      text<Config>(
          "bind", &Config::events_bind, 1024,
          [](const std::string& bind) {
            static const std::regex kEndpoint(R"((tcp://[^\s]+:(\d+|\*))|(ipc://[^\s]+)|(inproc://[^\s]+))");
            return std::regex_match(bind, kEndpoint)
                       ? std::string()
                       : std::string(
                             "must be a ZeroMQ endpoint such as tcp://127.0.0.1:5560 or ipc:///run/matthan.sock");
          },
          "`tcp://HOST:PORT`, `ipc://PATH`, `inproc://NAME`", "ZeroMQ PUB endpoint"),
  };
  return t;
}

const Table<Config>& health_table() {
  static const Table<Config> t{
      number("heartbeat_s", &Config::heartbeat_s, 0.5, 3600.0,
             "period of the `heartbeat` message (and of the counters' refresh in `health.<camera>`)"),
  };
  return t;
}

const Table<IngestSettings>& ingest_table() {
  static const Table<IngestSettings> t{
      number("max_connecting", &IngestSettings::max_connecting, 0, 1024,
             "at most this many cameras (`url` and `detect_url` streams alike) connect at once, from the start of an "
             "attempt to the arrival of its first access unit; the others wait their turn, first come first served, in "
             "`connecting` with the reason `waiting for N camera(s) connecting ahead`, and the wait does not count "
             "against the first-packet timeout (docs/operations.md, \"Connecting\"); 0: no bound"),
      number("backoff_max_s", &IngestSettings::backoff_max_s, 1.0, 60.0,
             "the longest wait, jitter included, before a camera that failed (refused, dropped, timed out) is tried "
             "again, so one that comes back is read again within about this long; 401 and 404 keep their slower steps "
             "up to 60 s (docs/operations.md, \"Camera states\")"),
  };
  return t;
}

const Table<LogSettings>& log_table() {
  static const Table<LogSettings> t{
      choice("level", &LogSettings::level,
             Choices<std::string>{
                 {"trace", "trace"}, {"debug", "debug"}, {"info", "info"}, {"warn", "warn"}, {"error", "error"}},
             1024, "must be one of trace, debug, info, warn, error", "log level (`--log-level` overrides)"),
      boolean("json", &LogSettings::json, "one JSON object per log line (`--log-json` overrides)"),
  };
  return t;
}

const Table<MetricsSettings>& metrics_table() {
  static const Table<MetricsSettings> t{
      text<MetricsSettings>(
          "listen", &MetricsSettings::listen, 128,
          [](const std::string& listen) {
            return valid_listen_address(listen) ? std::string() : std::string("must be HOST:PORT, e.g. 127.0.0.1:9108");
          },
          "`HOST:PORT`",
          "a listener of its own that serves only `GET /metrics`, without authentication (docs/operations.md); for "
          "nodes without `review:` or a scrape over a management network. Bind it to loopback or a network only the "
          "scraper reaches"),
  };
  return t;
}

// An explicit socket path must fit sockaddr_un; the default one that does not is skipped with a warning.
const Table<ControlSettings>& control_table() {
  static const Table<ControlSettings> t{
      custom<ControlSettings>(
          "socket",
          {"", "path", "`<storage.root>/control.sock`", "at most 107 bytes",
           "the Unix socket `matthan reload` talks to (mode 0660); relative paths are taken from the config file's "
           "folder. Under systemd with `RuntimeDirectory=matthan`, `/run/matthan/control.sock` is the usual choice. A "
           "default path that is too long for a Unix socket is skipped with a warning (SIGHUP still reloads)"},
          [](ConfigReader& r, const YAML::Node& c, const std::string& path, ControlSettings& out) {
            std::string sock;
            if (!r.string(c, "socket", path, sock)) return;
            if (sock.empty()) r.issue(c["socket"], "control.socket", "must not be empty");
            std::filesystem::path p = sock;
            if (p.is_relative()) p = (r.base_dir / p).lexically_normal();
            if (p.string().size() > 107)
              r.issue(c["socket"], "control.socket", "is too long for a Unix socket (at most 107 bytes)");
            out.socket = p;
          }),
  };
  return t;
}

// A block of the top level whose keys are members of Config itself.
Field<Config> config_block(std::string_view key, const Table<Config>& (*table)()) {
  return block<Config, Config>(
      key, table, [key, table](ConfigReader& r, const YAML::Node& root, const std::string& path, Config& cfg) {
        const YAML::Node n = root[std::string(key)];
        if (n.IsDefined()) read_block(r, n, ConfigReader::join(path, key), table(), cfg);
      });
}

}  // namespace

bool valid_listen_address(const std::string& listen) {
  static const std::regex kListen(R"(([0-9.]+|localhost|\[[0-9a-fA-F:]+\]):\d{1,5})");
  return std::regex_match(listen, kListen);
}

const Table<Config>& root_table() {
  static const Table<Config> t{
      text<Config>(
          "node", &Config::node, 64,
          [](const std::string& node) {
            static const std::regex kNode("[A-Za-z0-9_.-]{1,64}");
            return std::regex_match(node, kNode) ? std::string()
                                                 : std::string("must match [A-Za-z0-9_.-]+ (at most 64)");
          },
          "`[A-Za-z0-9_.-]{1,64}`", "name of this engine instance; in every event"),
      config_block("storage", &storage_table),
      config_block("events", &events_table),
      custom<Config>("defaults", {"", "mapping", "", "", "per-camera settings merged into every camera (below)"}),
      custom<Config>("cameras", {"", "list", "required", "at least one", "the cameras"}),
      block("log", &Config::log, &log_table),
      custom<Config>("review", {},  // a table of its own in docs/config.md
                     [](ConfigReader& r, const YAML::Node& root, const std::string&, Config& cfg) {
                       if (const YAML::Node rv = root["review"]; rv.IsDefined()) read_review(r, rv, cfg.review);
                     }),
      config_block("health", &health_table),
      block("metrics", &Config::metrics, &metrics_table),
      block("control", &Config::control, &control_table),
      text<Config>(
          "time_zone", &Config::time_zone, 64,
          [](const std::string& zone) {
            auto tz = TimeZone::load(zone);
            return tz.ok() ? std::string() : tz.error().message;
          },
          "an IANA zone name", "the node's local time zone, in which rule `schedule`s are read (see Rules)"),
      block("ingest", &Config::ingest, &ingest_table),
  };
  return t;
}

}  // namespace config

std::vector<std::pair<std::string, std::string>> config_key_tables() {
  std::vector<config::DocRow> top, camera, review, rules;
  config::doc_rows(config::root_table(), "", top);
  config::doc_rows(config::camera_table(), "", camera);
  config::doc_rows(config::review_table(), "review.", review);
  config::doc_rows(config::zone_table(), "zones[].", rules);
  config::doc_rows(config::line_table(), "lines[].", rules);
  config::doc_rows(config::rule_table(), "rules[].", rules);
  return {{"top-level", config::markdown_table(top)},
          {"camera", config::markdown_table(camera)},
          {"review", config::markdown_table(review)},
          {"rules", config::markdown_table(rules)}};
}

}  // namespace matthan
