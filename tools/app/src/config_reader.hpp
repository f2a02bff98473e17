// ConfigReader: walks a YAML tree and collects every problem as FILE:LINE:COL: KEY: MESSAGE (config.cpp and the
// field tables of config_fields.hpp read through it).
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "matthan/app/config.hpp"

namespace matthan::config {

// Every reader leaves the target untouched when the key is absent, so applying the camera's block on top of the
// defaults block is what merges them.
class ConfigReader {
 public:
  ConfigReader(std::string file, std::vector<ConfigIssue>& issues) : file_(std::move(file)), issues_(issues) {}

  void issue(const YAML::Node& at, const std::string& key, std::string message) {
    ConfigIssue i;
    i.file = file_;
    i.key = key;
    i.message = std::move(message);
    if (at.IsDefined() && !at.Mark().is_null()) {
      i.line = at.Mark().line + 1;
      i.column = at.Mark().column + 1;
    }
    issues_.push_back(std::move(i));
  }

  bool expect_map(const YAML::Node& n, const std::string& path) {
    if (n.IsMap()) return true;
    issue(n, path, "must be a mapping (key: value)");
    return false;
  }

  // Reports keys that are not in `allowed`, with the keys allowed here.
  void check_keys(const YAML::Node& map, const std::string& path, const std::vector<std::string_view>& allowed) {
    for (const auto& kv : map) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("<non-scalar>");
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string known;
      for (auto a : allowed) known += fmt::format("{}{}", known.empty() ? "" : ", ", a);
      issue(kv.first, join(path, key), fmt::format("unknown key (allowed here: {})", known));
    }
  }

  template <class T>
  void number(const YAML::Node& map, const char* key, const std::string& path, T& out, T lo, T hi) {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    const std::string p = join(path, key);
    T v{};
    if (!n.IsScalar() || !YAML::convert<T>::decode(n, v)) {
      issue(n, p, fmt::format("must be {}", std::is_integral_v<T> ? "an integer" : "a number"));
      return;
    }
    if (v < lo || v > hi) {
      issue(n, p, fmt::format("{} is out of range [{}, {}]", v, lo, hi));
      return;
    }
    out = v;
  }

  void boolean(const YAML::Node& map, const char* key, const std::string& path, bool& out) {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      issue(n, join(path, key), "must be true or false");
      return;
    }
    out = v;
  }

  // True when the key is a string scalar (then in `out`); reports anything else but an absent key.
  bool string(const YAML::Node& map, const char* key, const std::string& path, std::string& out,
              std::size_t max_len = 1024) {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return false;
    if (!n.IsScalar()) {
      issue(n, join(path, key), "must be a string");
      return false;
    }
    if (n.Scalar().size() > max_len) {
      issue(n, join(path, key), fmt::format("is longer than {} characters", max_len));
      return false;
    }
    out = n.Scalar();
    return true;
  }

  std::filesystem::path base_dir;  // the config file's folder: relative paths in the config start here

  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  }

 private:
  std::string file_;
  std::vector<ConfigIssue>& issues_;
};

}  // namespace matthan::config
