// Internal: building the gst-launch description of a camera pipeline.
#pragma once

#include <string>

#include "matthan/core/result.hpp"
#include "matthan/core/url.hpp"
#include "matthan/ingest/gst_source.hpp"

namespace matthan::detail {

// The source element is named "src"; the URL is written into the description only when asked for (the
// running pipeline sets it as a property instead, so no character of a password needs quoting).
Result<std::string> pipeline_description(const SourceOptions& options, bool with_location);
// The same, for a URL the caller has already parsed (options.url, parsed once per source).
Result<std::string> pipeline_description(const SourceOptions& options, const ParsedUrl& url, bool with_location);

// What the packets branch accepts: H.264 (avcC) or H.265 (hvcC), whole access units.
extern const char* const kEncodedCaps;

// An HTTP(S) URL: an MJPEG camera (souphttpsrc ! multipartdemux ! jpegparse, decoded by jpegdec).
bool is_mjpeg(const ParsedUrl& url);
// An RTSP(S) URL: the one kind with a transport (TCP/UDP) to choose.
bool is_rtsp(const ParsedUrl& url);

}  // namespace matthan::detail
