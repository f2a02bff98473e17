// A strict reader of the Prometheus text exposition format (0.0.4) for tests: it parses what /metrics
// serves and lists every rule the text breaks (syntax, escaping, HELP/TYPE before samples, counter names,
// duplicate series, histogram buckets), so a test can check both the figures and the format.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace matthan::test {

using PromLabels = std::map<std::string, std::string>;

struct PromSample {
  std::string name;
  PromLabels labels;
  double value = 0;
};

struct PromFamily {
  std::string help, type;
};

struct PromText {
  std::map<std::string, PromFamily> families;
  std::vector<PromSample> samples;
  std::vector<std::string> errors;  // empty when the text follows the format and our conventions

  // Samples of `name` whose labels include every pair of `match`.
  std::vector<PromSample> find(const std::string& name, const PromLabels& match = {}) const;
  // The value of the single sample of `name` matching `match`; nullopt when there is none or more than one.
  std::optional<double> value(const std::string& name, const PromLabels& match = {}) const;
};

PromText parse_prometheus_text(const std::string& text);

}  // namespace matthan::test
