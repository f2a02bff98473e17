// CameraRecorder: incident lifecycle -> clip sessions over the ring (pre-roll, post-roll, splits).
#include "matthan/storage/recorder.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "matthan/core/logging.hpp"
#include "matthan/core/time.hpp"

namespace matthan {
namespace {

constexpr std::size_t kReadBatch = 256;

MediaTimeNs seconds_to_ns(double s) {
  return static_cast<MediaTimeNs>(std::llround(s * kNsPerSecond));
}

// Camera ids come from config, but a path component must never climb out of the clips folder.
std::string path_safe(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) c = '_';
  }
  return out.empty() ? "_" : out;
}

}  // namespace

CameraRecorder::CameraRecorder(CameraId camera, std::shared_ptr<PacketRing> ring, std::filesystem::path storage_root,
                               ClipPolicy policy)
    : camera_(std::move(camera)), ring_(std::move(ring)), root_(std::move(storage_root)), policy_(policy) {}

CameraRecorder::~CameraRecorder() = default;

bool CameraRecorder::recording() const {
  return active_;
}

RecorderNotes CameraRecorder::take_notes() {
  return std::exchange(notes_, RecorderNotes{});
}

namespace {

WallTime wall_at(const EncodedPacket& ref, MediaTimeNs pts) {
  return ref.wall + std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(pts - ref.pts));
}

}  // namespace

void CameraRecorder::link_incident(const Incident& i, MediaTimeNs clip_start_pts) {
  if (!writer_ || std::find(linked_.begin(), linked_.end(), i.id) != linked_.end()) return;
  linked_.push_back(i.id);
  notes_.links.push_back(
      IncidentInClip{i.id, relative_path_, std::max(0.0, media_seconds(i.start_pts - clip_start_pts))});
}

Status CameraRecorder::begin(const std::string& incident_id, MediaTimeNs start_pts) {
  if (incident_id.empty()) return make_error(fmt::format("camera {}: incident without an id", camera_));
  const auto known =
      std::find_if(incidents_.begin(), incidents_.end(), [&](const Incident& i) { return i.id == incident_id; });
  if (known != incidents_.end()) return {};  // a repeated start changes nothing
  incidents_.push_back(Incident{incident_id, start_pts, std::nullopt});
  close_at_.reset();  // an open incident keeps the clip open
  if (active_) {
    if (writer_)
      link_incident(incidents_.back(), writer_->first_pts());  // joins the open clip (overlap, or within the post-roll)
    return {};
  }

  active_ = true;
  const auto keyframe = ring_->keyframe_at_or_before(start_pts - seconds_to_ns(policy_.pre_roll_s));
  next_seq_ = keyframe ? *keyframe : ring_->next_seq();
  return {};
}

void CameraRecorder::end(const std::string& incident_id, MediaTimeNs end_pts) {
  auto it = std::find_if(incidents_.begin(), incidents_.end(), [&](const Incident& i) { return i.id == incident_id; });
  if (it == incidents_.end()) {
    camera_logger(camera_)->warn("end of incident {} that is not being recorded", incident_id);
    return;
  }
  it->end_pts = end_pts;
  update_close_time();
}

void CameraRecorder::update_close_time() {
  MediaTimeNs last_end = 0;
  for (const auto& i : incidents_) {
    if (!i.end_pts) {
      close_at_.reset();
      return;
    }
    last_end = std::max(last_end, *i.end_pts);
  }
  close_at_ = last_end + seconds_to_ns(policy_.post_roll_s);
}

std::vector<FinishedClip> CameraRecorder::poll(bool flush_now) {
  std::vector<FinishedClip> out;
  while (active_) {
    PacketRing::Slice slice = ring_->read_from(next_seq_, kReadBatch);
    if (slice.missed > 0) {
      missed_ += slice.missed;
      camera_logger(camera_)->warn("recorder: the ring overwrote {} packets before they were copied to {}",
                                   slice.missed, relative_path_.empty() ? "the clip" : relative_path_);
    }
    next_seq_ = slice.next_seq;
    for (const auto& packet : slice.packets) {
      consume(packet, out);
      if (!active_) break;
    }
    if (slice.packets.size() < kReadBatch) break;
  }
  if (flush_now && active_) {
    if (writer_) {
      finish_clip(out);
      end_recording();
    } else {
      fail_recording(make_error(fmt::format("camera {}: no keyframe reached the recorder before shutdown", camera_)),
                     out);
    }
  }
  return out;
}

void CameraRecorder::consume(const EncodedPacket& packet, std::vector<FinishedClip>& out) {
  if (close_at_ && packet.pts > *close_at_) {
    // Every packet up to end + post-roll is in; this one belongs to no incident.
    if (writer_) {
      finish_clip(out);
      end_recording();
    } else {
      fail_recording(make_error(fmt::format("camera {}: no keyframe arrived before the incidents ended", camera_)),
                     out);
    }
    return;
  }
  if (!packet.stream) return;
  if (writer_ && !same_stream(packet)) {
    camera_logger(camera_)->info("stream configuration changed; closing {} and continuing in a new clip",
                                 relative_path_);
    finish_clip(out);
  }
  if (writer_ && packet.keyframe && packet.pts - writer_->first_pts() >= seconds_to_ns(policy_.max_clip_s)) {
    finish_clip(out);
  }
  if (!writer_) {
    if (!packet.keyframe) return;  // a new file can only start on a keyframe
    if (Status s = open_clip(packet); !s) return fail_recording(std::move(s), out);
  }
  if (Status s = writer_->write(packet); !s) {
    writer_->abort();
    fail_recording(std::move(s), out);
  }
}

bool CameraRecorder::same_stream(const EncodedPacket& packet) {
  if (packet.stream == writer_stream_) return true;
  if (*packet.stream != writer_->stream()) return false;
  writer_stream_ = packet.stream;  // an equal configuration re-sent by the pipeline
  return true;
}

std::string CameraRecorder::next_relative_path(WallTime wall) const {
  const std::string stamp = format_file_stamp(wall);  // 20261128T123012Z
  const std::string day = fmt::format("{}-{}-{}", stamp.substr(0, 4), stamp.substr(4, 2), stamp.substr(6, 2));
  const std::string cam = path_safe(camera_);
  const std::filesystem::path dir = std::filesystem::path("clips") / cam / day;
  for (int n = 0;; ++n) {
    const std::string name = n == 0 ? fmt::format("{}-{}.mp4", cam, stamp) : fmt::format("{}-{}-{}.mp4", cam, stamp, n);
    const std::filesystem::path rel = dir / name;
    std::error_code ec;
    std::filesystem::path part = root_ / rel;
    part += ".part";
    if (!std::filesystem::exists(root_ / rel, ec) && !std::filesystem::exists(part, ec)) return rel.string();
  }
}

Status CameraRecorder::open_clip(const EncodedPacket& first) {
  const WallTime wall = first.wall == WallTime{} ? std::chrono::system_clock::now() : first.wall;
  relative_path_ = next_relative_path(wall);
  auto writer = ClipWriter::open(root_ / relative_path_, *first.stream);
  if (!writer) return make_error(writer.error().message);
  writer_ = std::move(writer).value();
  writer_stream_ = first.stream;
  ClipOpened opened{relative_path_, wall, std::nullopt};
  // Only a clip that is the first for some incident owes it a pre-roll; a continuation after a split
  // starts at the next keyframe by design.
  std::optional<MediaTimeNs> earliest;
  for (const auto& i : incidents_) {
    if (std::find(linked_.begin(), linked_.end(), i.id) != linked_.end()) continue;
    earliest = earliest ? std::min(*earliest, i.start_pts) : i.start_pts;
  }
  if (first.wall != WallTime{} && earliest)
    opened.requested_start = wall_at(first, *earliest - seconds_to_ns(policy_.pre_roll_s));
  notes_.opened.push_back(std::move(opened));
  for (const auto& i : incidents_) link_incident(i, first.pts);
  return {};
}

void CameraRecorder::finish_clip(std::vector<FinishedClip>& out) {
  FinishedClip clip;
  clip.relative_path = relative_path_;
  const MediaTimeNs clip_start = writer_->first_pts();
  for (const auto& i : incidents_) {
    clip.incident_ids.push_back(i.id);
    clip.offsets_s.push_back(std::max(0.0, media_seconds(i.start_pts - clip_start)));
  }
  auto summary = writer_->finish();
  if (summary) {
    clip.summary = std::move(summary).value();
  } else {
    camera_logger(camera_)->error("clip {} failed: {}", relative_path_, summary.error().message);
    clip.status = make_error(summary.error().message);
  }
  writer_.reset();
  writer_stream_.reset();
  out.push_back(std::move(clip));
}

void CameraRecorder::fail_recording(Status status, std::vector<FinishedClip>& out) {
  camera_logger(camera_)->error("recording failed: {}", status.error().message);
  FinishedClip clip;
  for (const auto& i : incidents_) {
    clip.incident_ids.push_back(i.id);
    clip.offsets_s.push_back(0.0);
  }
  clip.relative_path = relative_path_;
  clip.status = std::move(status);
  out.push_back(std::move(clip));
  writer_.reset();  // its destructor deletes any .part
  end_recording();
}

void CameraRecorder::end_recording() {
  active_ = false;
  linked_.clear();
  incidents_.clear();
  close_at_.reset();
  writer_.reset();
  writer_stream_.reset();
  relative_path_.clear();
}

}  // namespace matthan
