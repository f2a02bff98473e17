// The web page's static files, compiled into the binary from review/web/ (see cmake/embed_web.cmake):
// the server looks paths up in this table only, so no request value ever reaches the file system.
#pragma once

#include <cstddef>
#include <string>

namespace matthan {

struct WebAsset {
  const char* path;  // e.g. "/app.js"
  const char* content_type;
  const unsigned char* data;
  std::size_t size;
};

const WebAsset* find_web_asset(const std::string& path);

}  // namespace matthan
