// ClipWriter: fragmented MP4 while recording (a crash loses at most ~1 s), remuxed to +faststart at finish;
// 90 kHz rebasing and strictly increasing DTS.
#include "matthan/storage/clip_writer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstring>
#include <limits>

#include "matthan/core/time.hpp"
#include "matthan/storage/av_ptr.hpp"
#include "matthan/storage/file_hash.hpp"
#include "matthan/storage/remux.hpp"

namespace matthan {
namespace {

constexpr AVRational kClipTimeBase{1, 90000};
constexpr AVRational kNsTimeBase{1, 1'000'000'000};
// Fragment length, and how often the written fragments are pushed to the disk (avio flush + fdatasync).
constexpr MediaTimeNs kFragmentNs = kNsPerSecond;
constexpr const char* kFragmentMicroseconds = "1000000";

// Rounds to the nearest 90 kHz tick: RTP-derived timestamps carry sub-tick jitter (10.0002 fps).
std::int64_t to_ticks(MediaTimeNs ns) {
  return av_rescale_q_rnd(ns, kNsTimeBase, kClipTimeBase,
                          static_cast<AVRounding>(AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX));
}

// Closes a descriptor on scope exit.
// Owns a file descriptor: closed on reset() or destruction.
struct FdGuard {
  int fd = -1;
  FdGuard() = default;
  explicit FdGuard(int f) : fd(f) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// The DTS the muxer should see: the packet's own when it is plausible, else its pts (no B-frames).
MediaTimeNs effective_dts(const EncodedPacket& p) {
  const bool dts_known = p.dts != 0 || p.pts == 0;
  return dts_known && p.dts <= p.pts ? p.dts : p.pts;
}

std::filesystem::path part_path_for(const std::filesystem::path& final_path) {
  std::filesystem::path p = final_path;
  p += ".part";
  return p;
}

}  // namespace

struct ClipWriter::Impl {
  std::filesystem::path final_path;
  std::filesystem::path part_path;
  StreamInfo stream;
  av::OutputContextPtr muxer;
  AVStream* st = nullptr;  // owned by muxer
  bool closed = false;     // finish() or abort() ran

  av::PacketPtr pending;  // the newest packet, held until the next one tells its duration
  MediaTimeNs pending_duration_ns = 0;

  FdGuard sync_fd;                // the .part, opened read-only just to fdatasync it
  MediaTimeNs last_sync_pts = 0;  // media time of the last flush to disk

  MediaTimeNs base_ns = 0;  // the first packet's DTS: it lands at 0
  MediaTimeNs first_pts_ns = 0;
  MediaTimeNs last_pts_ns = 0;
  std::int64_t last_dts_ticks = std::numeric_limits<std::int64_t>::min();
  std::uint64_t packets = 0;
  std::uint64_t bumps = 0;
  WallTime first_wall{};
  WallTime last_wall{};

  MediaTimeNs last_duration_ns() const {
    if (pending_duration_ns > 0) return pending_duration_ns;
    // The average interval, not the last one: it is immune to one late packet's jitter.
    if (packets > 1) return (last_pts_ns - first_pts_ns) / static_cast<MediaTimeNs>(packets - 1);
    if (stream.fps_num > 0 && stream.fps_den > 0) return kNsPerSecond * stream.fps_den / stream.fps_num;
    return 0;
  }

  Status write_pending(std::int64_t duration_ticks) {
    AVPacket* pkt = pending.get();
    pkt->duration = std::max<std::int64_t>(duration_ticks, 1);
    av_packet_rescale_ts(pkt, kClipTimeBase, st->time_base);
    const int err = av_write_frame(muxer.get(), pkt);
    pending.reset();
    if (err < 0) return make_error(fmt::format("write packet to {}: {}", part_path.string(), av::error_text(err)));
    return {};
  }

  // Pushes complete fragments out of libavformat's buffer and onto the disk, about once a second, so a
  // kill -9 or a power cut loses at most the last fragment.
  void sync_if_due(MediaTimeNs pts) {
    if (pts - last_sync_pts < kFragmentNs) return;
    last_sync_pts = pts;
    avio_flush(muxer->pb);
    if (sync_fd.fd >= 0) (void)::fdatasync(sync_fd.fd);
  }

  void discard() {
    pending.reset();
    muxer.reset();
    sync_fd.reset();
    std::error_code ec;
    std::filesystem::remove(part_path, ec);
    closed = true;
  }
};

namespace {

Status check_stream(const StreamInfo& stream) {
  if (stream.extradata.empty() && stream.codec != VideoCodec::kMjpeg)
    return make_error("stream has no codec configuration (avcC/hvcC extradata)");
  if (stream.width <= 0 || stream.height <= 0)
    return make_error(fmt::format("stream has no picture size ({}x{})", stream.width, stream.height));
  return {};
}

void describe_stream(AVStream* st, const StreamInfo& stream) {
  AVCodecParameters* par = st->codecpar;
  par->codec_type = AVMEDIA_TYPE_VIDEO;
  par->width = stream.width;
  par->height = stream.height;
  st->time_base = kClipTimeBase;
  if (stream.fps_num > 0 && stream.fps_den > 0) st->avg_frame_rate = AVRational{stream.fps_num, stream.fps_den};
  if (stream.codec == VideoCodec::kMjpeg) {
    // MJPEG in MP4 (sample entry mp4v, object type 0x6C): each sample a whole JPEG. ffmpeg, VLC and mpv play
    // it; browsers do not (docs/operations.md).
    par->codec_id = AV_CODEC_ID_MJPEG;
    par->codec_tag = 0;
    return;
  }
  const bool hevc = stream.codec == VideoCodec::kH265;
  par->codec_id = hevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264;
  // hvc1/avc1: parameter sets live in the sample entry, which is what Safari and browsers expect.
  par->codec_tag = hevc ? MKTAG('h', 'v', 'c', '1') : MKTAG('a', 'v', 'c', '1');
  par->extradata = static_cast<std::uint8_t*>(av_mallocz(stream.extradata.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  std::memcpy(par->extradata, stream.extradata.data(), stream.extradata.size());
  par->extradata_size = static_cast<int>(stream.extradata.size());
}

}  // namespace

Result<std::unique_ptr<ClipWriter>> ClipWriter::open(std::filesystem::path final_path, const StreamInfo& stream) {
  if (Status s = check_stream(stream); !s)
    return make_error(fmt::format("clip {}: {}", final_path.string(), s.error().message));
  auto impl = std::make_unique<Impl>();
  impl->final_path = std::move(final_path);
  impl->part_path = part_path_for(impl->final_path);
  impl->stream = stream;
  const std::string part = impl->part_path.string();

  std::error_code ec;
  if (impl->final_path.has_parent_path()) std::filesystem::create_directories(impl->final_path.parent_path(), ec);
  if (ec) return make_error(fmt::format("create {}: {}", impl->final_path.parent_path().string(), ec.message()));

  AVFormatContext* raw = nullptr;
  int err = avformat_alloc_output_context2(&raw, nullptr, "mp4", part.c_str());
  if (err < 0 || raw == nullptr) return make_error(fmt::format("mp4 muxer for {}: {}", part, av::error_text(err)));
  impl->muxer.reset(raw);
  impl->st = avformat_new_stream(raw, nullptr);
  if (impl->st == nullptr) return make_error(fmt::format("mp4 stream for {}: out of memory", part));
  describe_stream(impl->st, stream);

  err = avio_open(&raw->pb, part.c_str(), AVIO_FLAG_WRITE);
  if (err < 0) return make_error(fmt::format("open {}: {}", part, av::error_text(err)));

  AVDictionary* opts_raw = nullptr;
  // Fragmented while recording: the moov goes first (empty) and each ~1 s fragment is self-contained, so
  // whatever reached the disk before a crash can be read back. finish() remuxes to +faststart.
  av_dict_set(&opts_raw, "movflags", "+frag_keyframe+empty_moov+default_base_moof", 0);
  av_dict_set(&opts_raw, "frag_duration", kFragmentMicroseconds, 0);
  av::DictionaryPtr opts(opts_raw);
  opts_raw = opts.release();
  err = avformat_write_header(raw, &opts_raw);
  opts.reset(opts_raw);
  if (err < 0) {
    impl->discard();
    return make_error(fmt::format("write mp4 header to {}: {}", part, av::error_text(err)));
  }
  avio_flush(raw->pb);  // the header is on disk at once: even a clip killed in its first second is found
  impl->sync_fd.fd = ::open(part.c_str(), O_RDONLY | O_CLOEXEC);
  return std::unique_ptr<ClipWriter>(new ClipWriter(std::move(impl)));
}

ClipWriter::ClipWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClipWriter::~ClipWriter() {
  if (impl_ && !impl_->closed) abort();
}

Status ClipWriter::write(const EncodedPacket& packet) {
  Impl& m = *impl_;
  if (m.closed) return make_error(fmt::format("clip {} is already closed", m.final_path.string()));
  if (packet.size() == 0) return make_error(fmt::format("clip {}: empty packet", m.final_path.string()));
  if (m.packets == 0) {
    if (!packet.keyframe)
      return make_error(fmt::format("clip {}: the first packet must be a keyframe", m.final_path.string()));
    m.base_ns = effective_dts(packet);
    m.first_pts_ns = packet.pts;
    m.first_wall = packet.wall;
  }

  std::int64_t dts = to_ticks(effective_dts(packet) - m.base_ns);
  std::int64_t pts = to_ticks(packet.pts - m.base_ns);
  if (dts <= m.last_dts_ticks) {
    dts = m.last_dts_ticks + 1;
    ++m.bumps;
  }
  pts = std::max(pts, dts);

  av::PacketPtr pkt(av_packet_alloc());
  if (!pkt || av_new_packet(pkt.get(), static_cast<int>(packet.size())) < 0)
    return make_error(fmt::format("clip {}: out of memory for a packet", m.final_path.string()));
  std::memcpy(pkt->data, packet.data->data(), packet.size());
  pkt->pts = pts;
  pkt->dts = dts;
  pkt->stream_index = 0;
  if (packet.keyframe) pkt->flags |= AV_PKT_FLAG_KEY;

  if (m.pending) {
    if (Status s = m.write_pending(dts - m.last_dts_ticks); !s) return s;
  }
  m.pending = std::move(pkt);
  m.pending_duration_ns = packet.duration;
  m.last_dts_ticks = dts;
  m.last_pts_ns = packet.pts;
  m.last_wall = packet.wall;
  ++m.packets;
  m.sync_if_due(packet.pts);
  return {};
}

Result<ClipSummary> ClipWriter::finish() {
  Impl& m = *impl_;
  if (m.closed) return make_error(fmt::format("clip {} is already closed", m.final_path.string()));
  const auto fail = [&](std::string message) -> Result<ClipSummary> {
    m.discard();
    return make_error(std::move(message));
  };
  if (m.packets == 0) return fail(fmt::format("clip {}: no packets to write", m.final_path.string()));

  const MediaTimeNs last_duration = m.last_duration_ns();
  if (Status s = m.write_pending(to_ticks(last_duration)); !s) return fail(s.error().message);
  int err = av_write_trailer(m.muxer.get());
  if (err < 0) return fail(fmt::format("finish mp4 {}: {}", m.part_path.string(), av::error_text(err)));
  err = avio_closep(&m.muxer->pb);
  if (err < 0) return fail(fmt::format("close {}: {}", m.part_path.string(), av::error_text(err)));
  m.muxer.reset();

  // The fragmented .part becomes a normal +faststart MP4 (no re-encode); the .part goes only once the final
  // file is durable, so a crash during the remux leaves the .part for recovery.
  auto remuxed = remux_to_faststart(m.part_path, m.final_path);
  std::error_code ec;
  m.sync_fd.reset();
  std::string not_finalised;
  if (remuxed) {
    std::filesystem::remove(m.part_path, ec);
  } else {
    // Nothing recorded is thrown away: the fragmented .part, trailer written, is itself a playable MP4
    // (only not +faststart). A rename needs no free space.
    std::filesystem::rename(m.part_path, m.final_path, ec);
    if (ec)
      return fail(fmt::format("{}; keeping the fragmented file as {} failed too: {}", remuxed.error().message,
                              m.final_path.string(), ec.message()));
    not_finalised = remuxed.error().message;
  }
  m.closed = true;

  ClipSummary summary;
  summary.path = m.final_path;
  summary.first_pts = m.first_pts_ns;
  summary.end_pts = m.last_pts_ns + last_duration;
  summary.duration_s = media_seconds(summary.end_pts - summary.first_pts);
  summary.bytes = std::filesystem::file_size(m.final_path, ec);
  // Hashed once, when final: an export can later be checked against what was recorded.
  if (auto hash = sha256_file(m.final_path)) summary.sha256 = std::move(hash).value();
  summary.packets = m.packets;
  summary.not_finalised = std::move(not_finalised);
  summary.first_wall = m.first_wall;
  summary.end_wall =
      m.last_wall + std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(last_duration));
  return summary;
}

void ClipWriter::abort() {
  if (!impl_->closed) impl_->discard();
}

std::uint64_t ClipWriter::packets_written() const {
  return impl_->packets;
}
MediaTimeNs ClipWriter::first_pts() const {
  return impl_->first_pts_ns;
}
MediaTimeNs ClipWriter::last_end_pts() const {
  return impl_->last_pts_ns + impl_->last_duration_ns();
}
const StreamInfo& ClipWriter::stream() const {
  return impl_->stream;
}
const std::filesystem::path& ClipWriter::final_path() const {
  return impl_->final_path;
}
const std::filesystem::path& ClipWriter::part_path() const {
  return impl_->part_path;
}
std::uint64_t ClipWriter::dts_bumps() const {
  return impl_->bumps;
}

}  // namespace matthan
