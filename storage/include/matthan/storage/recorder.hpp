// CameraRecorder: turns a camera's incident start/end into MP4 clips cut from its PacketRing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"
#include "matthan/storage/clip_writer.hpp"
#include "matthan/storage/packet_ring.hpp"

namespace matthan {

struct ClipPolicy {
  double pre_roll_s = 5;
  double post_roll_s = 5;
  double max_clip_s = 600;  // a longer recording is split at the first keyframe past this length
};

struct FinishedClip {
  std::vector<std::string> incident_ids;
  std::vector<double> offsets_s;  // offset of each incident's start in the clip (0 when it began earlier)
  std::optional<ClipSummary> summary;
  std::string relative_path;  // relative to the storage root
  Status status;              // on error no file is left behind and summary is empty
};

// A clip file was opened: the index records it as `writing` at once, so a crash cannot hide it.
struct ClipOpened {
  std::string relative_path;
  WallTime first_wall{};                    // the real start: the keyframe the clip opens on
  std::optional<WallTime> requested_start;  // first incident's start - pre_roll, on the same wall clock
};
// An incident's start lies in this clip, `offset_s` seconds in. Given once per incident (its first clip).
struct IncidentInClip {
  std::string incident_id;
  std::string relative_path;
  double offset_s = 0;
};
struct RecorderNotes {
  std::vector<ClipOpened> opened;
  std::vector<IncidentInClip> links;
};

// One per camera. NOT thread-safe: one storage thread drives all recorders (the ring itself is the
// only object shared with the streaming thread).
//
// A recording opens at begin(), reads packets from the ring from the keyframe at or before
// start - pre_roll, and closes once every incident in it has ended and packets up to
// max(end) + post_roll are written. Incidents that overlap (or begin during another's post-roll) share
// one file. A change of stream configuration, or max_clip_s, closes the file and continues the same
// incidents in a new one from the next keyframe. A clip that cannot be written ends the recording with
// an error FinishedClip. Destroying a recorder with a clip open discards it: call poll(true) first.
class CameraRecorder {
 public:
  // clips land in <root>/clips/<camera>/<YYYY-MM-DD>/<camera>-<UTC stamp>.mp4 ; relative_path is relative to
  // root.
  CameraRecorder(CameraId camera, std::shared_ptr<PacketRing> ring, std::filesystem::path storage_root,
                 ClipPolicy policy);
  ~CameraRecorder();
  CameraRecorder(const CameraRecorder&) = delete;
  CameraRecorder& operator=(const CameraRecorder&) = delete;

  // An incident started at media time start_pts. Opens a clip beginning at the keyframe at or before
  // start_pts - pre_roll (or extends the clip already open for this camera: overlapping incidents share one
  // file).
  Status begin(const std::string& incident_id, MediaTimeNs start_pts);
  // The incident ended at end_pts: the clip closes once packets up to end_pts + post_roll have been written.
  void end(const std::string& incident_id, MediaTimeNs end_pts);
  // Copies new packets from the ring into the open clip and finishes it when due. flush_now finishes
  // at once with what the ring holds (shutdown). Returns the clips finished by this call.
  std::vector<FinishedClip> poll(bool flush_now = false);
  bool recording() const;
  // Clips opened and incidents placed in clips since the last call (in order; opened before its links).
  RecorderNotes take_notes();

  const CameraId& camera() const { return camera_; }
  std::uint64_t missed_packets() const { return missed_; }  // overwritten in the ring before we copied them

 private:
  struct Incident {
    std::string id;
    MediaTimeNs start_pts = 0;
    std::optional<MediaTimeNs> end_pts;
  };

  void consume(const EncodedPacket& packet, std::vector<FinishedClip>& out);
  bool same_stream(const EncodedPacket& packet);
  Status open_clip(const EncodedPacket& first);
  void finish_clip(std::vector<FinishedClip>& out);
  void fail_recording(Status status, std::vector<FinishedClip>& out);
  void end_recording();
  void link_incident(const Incident& i, MediaTimeNs clip_start_pts);
  void update_close_time();
  std::string next_relative_path(WallTime wall) const;

  const CameraId camera_;
  const std::shared_ptr<PacketRing> ring_;
  const std::filesystem::path root_;
  const ClipPolicy policy_;

  bool active_ = false;                  // a recording is in progress (a writer may not be open yet)
  std::vector<Incident> incidents_;      // incidents of the current recording
  std::uint64_t next_seq_ = 0;           // the next ring packet to copy
  std::optional<MediaTimeNs> close_at_;  // set once every incident has ended
  std::unique_ptr<ClipWriter> writer_;
  std::shared_ptr<const StreamInfo> writer_stream_;
  std::string relative_path_;
  std::uint64_t missed_ = 0;
  RecorderNotes notes_;
  std::vector<std::string> linked_;  // incidents of the current recording already placed in a clip
};

}  // namespace matthan
