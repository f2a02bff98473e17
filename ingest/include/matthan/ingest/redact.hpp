// Scrubbing credentials out of free text (GStreamer error messages, reasons) before it is logged or returned.
#pragma once

#include <string>
#include <string_view>

namespace matthan {

// Hides the user:password part of every "scheme://user:pass@host" in `text`, and, when `url` carries
// credentials, every other occurrence of its password or user:password as well.
std::string redact_credentials(std::string_view text, std::string_view url = {});

}  // namespace matthan
