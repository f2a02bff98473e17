// Internal: building the gst-launch description of a camera pipeline.
#pragma once

#include <gst/gst.h>

#include <string>

#include "matthan/core/result.hpp"
#include "matthan/core/url.hpp"
#include "matthan/ingest/gst_source.hpp"
#include "matthan/ingest/transport.hpp"

namespace matthan::detail {

// The source element is named "src"; the URL is written into the description only when asked for (the
// running pipeline sets it as a property instead, so no character of a password needs quoting).
Result<std::string> pipeline_description(const SourceOptions& options, bool with_location);
// The same, for a URL the caller has already parsed (options.url, parsed once per source).
Result<std::string> pipeline_description(const SourceOptions& options, const ParsedUrl& url, bool with_location);

// What the packets branch accepts: H.264 (avcC) or H.265 (hvcC), whole access units.
extern const char* const kEncodedCaps;

// An RTSP camera's source element as launch text: "rtspsrc name=src ... latency=... buffer-mode=synced".
// The camera pipeline and `matthan probe` both build it from here, so the probe measures the packets (and
// their times) the camera pipeline gets. kAuto leaves `protocols` to the caller (the camera source sets it
// per try); `location` is "" or " location=\"...\"".
std::string rtsp_source_description(int latency_ms, RtspTransport transport, const std::string& location = "");

// An HTTP MJPEG camera's source up to its demuxer, as launch text: "souphttpsrc name=src ... ! multipartdemux
// name=demux ...". The camera pipeline and `matthan probe` both build it from here, so they ask the camera the
// same way. `timeout_s` is souphttpsrc's network timeout; `location` is "" or " location=\"...\"".
std::string mjpeg_source_description(unsigned timeout_s, const std::string& location = "");

// Points a source element ("src" of either description) at the camera: the path of a file:// URL; for HTTP and
// RTSP the URL without its user:password, which go to the element's own user-id and user-pw (basic or digest,
// as the camera asks), so a password may hold any character.
void set_source_location(GstElement* src, const std::string& url_text, const ParsedUrl& url);

}  // namespace matthan::detail
