// Evidence export (clip, snapshot, incident JSON, manifest with SHA-256 of each file), verify, and event replay.
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "matthan/app/evidence.hpp"
#include "matthan/core/time.hpp"
#include "matthan/core/version.hpp"
#include "matthan/storage/file_hash.hpp"
#include "matthan/storage/index.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kManifestSchema = "matthan.export/1";
constexpr std::uint64_t kEventPage = 500;

std::string format_utc(WallTime t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ((ms % 1000) + 1000) % 1000);
}

json time_pair(WallTime t) {
  return json{{"utc", format_utc(t)}, {"local", format_iso8601(t)}};
}

// The index of a storage root, opened only when it exists (export must never create an empty one).
Result<std::unique_ptr<Index>> open_existing_index(const Config& config) {
  const fs::path db = config.storage_root / "index.db";
  std::error_code ec;
  if (!fs::exists(db, ec)) return make_error(fmt::format("no index at {} (is storage.root right?)", db.string()));
  return Index::open(db);
}

const CameraConfig* find_camera(const Config& config, const std::string& id) {
  for (const auto& c : config.cameras)
    if (c.id == id) return &c;
  return nullptr;
}

json incident_json(const IncidentView& v) {
  const IncidentRecord& i = v.incident;
  json j{{"id", i.id},
         {"camera", i.camera},
         {"kind", i.kind},
         {"label", i.label ? json(*i.label) : json(nullptr)},
         {"score", i.score},
         {"box", {{"x", i.box.x}, {"y", i.box.y}, {"w", i.box.w}, {"h", i.box.h}}},
         {"started_at", format_iso8601(i.started_at)},
         {"ended_at", i.ended_at ? json(format_iso8601(*i.ended_at)) : json(nullptr)},
         {"review",
          {{"state", v.review.state},
           {"evidence", v.review.evidence},
           {"note", v.review.note},
           {"by", v.review.updated_by},
           {"at", v.review.updated_at ? json(format_iso8601(*v.review.updated_at)) : json(nullptr)}}}};
  if (v.clip) {
    j["clip"] = {{"path", v.clip->path},
                 {"state", to_string(v.clip->state)},
                 {"start", format_iso8601(v.clip->start)},
                 {"end", format_iso8601(v.clip->end)},
                 {"duration_s", v.clip->duration_s},
                 {"offset_s", i.clip_offset_s},
                 {"sha256", v.clip->sha256}};
  }
  return j;
}

Status write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return make_error(fmt::format("write {}", path.string()));
  return {};
}

Status prepare_out_dir(const fs::path& out) {
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_empty(out, ec))
    return make_error(fmt::format("{} exists and is not empty (an export never overwrites)", out.string()));
  fs::create_directories(out, ec);
  if (ec) return make_error(fmt::format("create {}: {}", out.string(), ec.message()));
  return {};
}

class Exporter {
 public:
  Exporter(const Config& config, const fs::path& out) : config_(config), out_(out) {}

  Result<ExportResult> run(const IncidentView& v) {
    result_.dir = out_;
    if (v.clip && v.clip->state != ClipState::kDeleted) {
      if (Status s = add_clip(*v.clip); !s) return s.error();
    } else {
      warn(v.clip ? fmt::format("the clip {} was deleted ({})", v.clip->path, v.clip->deleted_reason)
                  : "the incident has no clip");
    }
    if (v.snapshot && v.snapshot->state == "present") {
      if (Status s = add_file(config_.storage_root / v.snapshot->path, "snapshot"); !s) return s.error();
    }
    if (Status s = write_text(out_ / "incident.json", incident_json(v).dump(2) + "\n"); !s) return s.error();
    if (Status s = add_listed("incident.json", "incident"); !s) return s.error();
    if (Status s = write_manifest(v); !s) return s.error();
    return result_;
  }

 private:
  void warn(std::string w) { result_.warnings.push_back(std::move(w)); }

  Status add_clip(const ClipRecord& c) {
    if (Status s = add_file(config_.storage_root / c.path, "clip"); !s) return s;
    const std::string copied = files_.back()["sha256"];
    files_.back()["recorded_sha256"] = c.sha256;
    files_.back()["state"] = to_string(c.state);
    if (c.state != ClipState::kComplete)
      warn(fmt::format("the clip is {} (not complete): {}", to_string(c.state), c.flag));
    if (!c.sha256.empty() && copied != c.sha256)
      warn(fmt::format("the clip's SHA-256 {} differs from the one recorded when it was finalised ({})", copied,
                       c.sha256));
    return {};
  }

  // Copied through a StoredFile: a symlink or a FIFO swapped into the storage root is refused, never followed.
  Status add_file(const fs::path& src, const char* role) {
    auto in = StoredFile::open(src);
    if (!in.ok()) return make_error(in.error().code, "copy " + in.error().message);
    const fs::path dst = out_ / src.filename();
    if (fs::exists(dst))
      return make_error(ErrorCode::kIo, fmt::format("copy {}: {} exists", src.string(), dst.string()));
    std::ofstream out(dst, std::ios::binary);
    std::array<char, 1 << 16> block{};
    for (;;) {
      const ssize_t n = ::read(in->fd(), block.data(), block.size());
      if (n == 0) break;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error(ErrorCode::kIo, fmt::format("copy {}: read error", src.string()));
      out.write(block.data(), n);
    }
    out.close();
    if (!out) return make_error(ErrorCode::kIo, fmt::format("copy {}: cannot write {}", src.string(), dst.string()));
    return add_listed(src.filename().string(), role);
  }

  Status add_listed(const std::string& name, const char* role) {
    auto hash = sha256_file(out_ / name);
    if (!hash) return hash.error();
    std::error_code ec;
    files_.push_back(
        json{{"name", name}, {"role", role}, {"bytes", fs::file_size(out_ / name, ec)}, {"sha256", *hash}});
    result_.files.push_back(name);
    return {};
  }

  Status write_manifest(const IncidentView& v) {
    const IncidentRecord& i = v.incident;
    const CameraConfig* cam = find_camera(config_, i.camera);
    json m{
        {"schema", kManifestSchema},
        {"node", config_.node},
        {"software", {{"name", "matthan"}, {"version", MATTHAN_VERSION}}},
        {"exported_at", time_pair(std::chrono::time_point_cast<WallTime::duration>(std::chrono::system_clock::now()))},
        {"incident", i.id},
        {"camera", {{"id", i.camera}, {"name", cam != nullptr ? cam->name : i.camera}}},
        {"start", time_pair(i.started_at)},
        {"end", i.ended_at ? time_pair(*i.ended_at) : json(nullptr)},
        {"files", files_}};
    if (v.clip) {
      m["clip"] = {{"state", to_string(v.clip->state)},
                   {"offset_s", i.clip_offset_s},
                   {"start", time_pair(v.clip->start)},
                   {"end", time_pair(v.clip->end)}};
    }
    if (Status s = write_text(out_ / "manifest.json", m.dump(2) + "\n"); !s) return s;
    result_.files.push_back("manifest.json");
    return {};
  }

  const Config& config_;
  const fs::path out_;
  json files_ = json::array();
  ExportResult result_;
};

}  // namespace

Result<ExportResult> export_incident(const Config& config, const std::string& incident_id, const fs::path& out) {
  auto index = open_existing_index(config);
  if (!index) return index.error();
  auto view = (*index)->incident(incident_id);
  if (!view) return view.error();
  if (!*view) return make_error(fmt::format("no incident {} in {}", incident_id, config.storage_root.string()));
  if (Status s = prepare_out_dir(out); !s) return s.error();
  return Exporter(config, out).run(**view);
}

Result<VerifyResult> verify_export(const fs::path& dir) {
  std::ifstream in(dir / "manifest.json");
  if (!in) return make_error(fmt::format("{}: no manifest.json", dir.string()));
  json m = json::parse(in, nullptr, false);
  if (m.is_discarded() || !m.contains("files") || !m["files"].is_array())
    return make_error(fmt::format("{}: manifest.json is not a Matthan export manifest", dir.string()));
  VerifyResult r;
  for (const auto& f : m["files"]) {
    const std::string name = f.value("name", "");
    const std::string want = f.value("sha256", "");
    // Names are plain file names inside the export; anything else is not ours to read.
    if (name.empty() || fs::path(name).filename() != fs::path(name)) {
      r.mismatched.push_back(name.empty() ? "(unnamed entry)" : name);
      continue;
    }
    ++r.checked;
    std::error_code ec;
    if (!fs::exists(dir / name, ec)) {
      r.missing.push_back(name);
      continue;
    }
    auto got = sha256_file(dir / name);
    if (!got || *got != want) r.mismatched.push_back(name);
  }
  return r;
}

Result<std::uint64_t> print_stored_events(const Config& config, std::uint64_t since, std::optional<std::uint64_t> until,
                                          std::FILE* out) {
  auto index = open_existing_index(config);
  if (!index) return index.error();
  std::uint64_t printed = 0;
  std::uint64_t after = since;
  for (;;) {
    auto page = (*index)->events_after(after, static_cast<int>(kEventPage));
    if (!page) return page.error();
    for (const auto& e : *page) {
      if (until && e.seq > *until) return printed;
      json payload = json::parse(e.payload, nullptr, false);
      json line{{"seq", e.seq},
                {"topic", e.topic},
                {"at", format_iso8601(e.at)},
                {"payload", payload.is_discarded() ? json(e.payload) : payload}};
      fmt::print(out, "{}\n", line.dump());
      ++printed;
      after = e.seq;
    }
    if (page->size() < kEventPage) return printed;
  }
}

namespace {

std::optional<Config> load_for_command(const std::string& command, const std::string& config_path) {
  ConfigLoad load = load_config_file(config_path);
  if (!load.ok()) {
    fmt::print(stderr, "matthan {}: invalid config:\n{}", command, load.error_text());
    return std::nullopt;
  }
  return std::move(load.config);
}

}  // namespace

int run_export_command(const std::string& config_path, const std::string& incident_id, const std::string& out) {
  auto config = load_for_command("export", config_path);
  if (!config) return 2;
  auto r = export_incident(*config, incident_id, out);
  if (!r) {
    fmt::print(stderr, "matthan export: {}\n", r.error().message);
    return 1;
  }
  for (const auto& f : r->files) fmt::print("{}\n", (r->dir / f).string());
  for (const auto& w : r->warnings) fmt::print(stderr, "matthan export: warning: {}\n", w);
  return 0;
}

int run_verify_command(const std::string& dir) {
  auto r = verify_export(dir);
  if (!r) {
    fmt::print(stderr, "matthan verify: {}\n", r.error().message);
    return 1;
  }
  for (const auto& f : r->mismatched) fmt::print("MISMATCH {}\n", f);
  for (const auto& f : r->missing) fmt::print("MISSING {}\n", f);
  if (!r->ok()) {
    fmt::print(stderr, "matthan verify: {} of {} file(s) do not match the manifest\n",
               r->mismatched.size() + r->missing.size(), r->checked);
    return 1;
  }
  fmt::print("OK {} file(s) match manifest.json\n", r->checked);
  return 0;
}

int run_events_command(const std::string& config_path, std::uint64_t since, std::optional<std::uint64_t> until) {
  auto config = load_for_command("events", config_path);
  if (!config) return 2;
  auto r = print_stored_events(*config, since, until, stdout);
  if (!r) {
    fmt::print(stderr, "matthan events: {}\n", r.error().message);
    return 1;
  }
  return 0;
}

}  // namespace matthan
