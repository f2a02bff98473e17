// The test-side reader of the Prometheus text format (see prometheus_text.hpp).
#include "matthan/test/prometheus_text.hpp"

#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace matthan::test {
namespace {

bool name_ok(const std::string& n, bool colon) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::optional<double> parse_value(const std::string& s) {
  if (s == "NaN") return std::nan("");
  if (s == "+Inf") return HUGE_VAL;
  if (s == "-Inf") return -HUGE_VAL;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

// Parses `{a="x",b="y"}` starting at line[pos] == '{'; pos ends after '}'.
bool parse_labels(const std::string& line, std::size_t& pos, PromLabels& out, std::string& err) {
  ++pos;
  while (pos < line.size() && line[pos] != '}') {
    const std::size_t eq = line.find('=', pos);
    if (eq == std::string::npos) return err = "label without '='", false;
    const std::string key = line.substr(pos, eq - pos);
    if (!name_ok(key, false)) return err = "bad label name '" + key + "'", false;
    if (eq + 1 >= line.size() || line[eq + 1] != '"') return err = "label value not quoted", false;
    std::string value;
    std::size_t i = eq + 2;
    for (; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] != '\\') {
        value += line[i];
        continue;
      }
      if (++i >= line.size()) return err = "escape at end of line", false;
      if (line[i] == '\\')
        value += '\\';
      else if (line[i] == '"')
        value += '"';
      else if (line[i] == 'n')
        value += '\n';
      else
        return err = std::string("unknown escape \\") + line[i], false;
    }
    if (i >= line.size()) return err = "unterminated label value", false;
    if (out.count(key)) return err = "label '" + key + "' twice", false;
    out[key] = value;
    pos = i + 1;
    if (pos < line.size() && line[pos] == ',') ++pos;
  }
  if (pos >= line.size()) return err = "unterminated label set", false;
  ++pos;
  return true;
}

std::string series_key(const PromSample& s) {
  std::string k = s.name;
  for (const auto& [n, v] : s.labels) k += "\x1f" + n + "=" + v;
  return k;
}

// The family a sample belongs to: histograms own their _bucket, _sum and _count series.
std::string family_of(const std::map<std::string, PromFamily>& families, const std::string& name) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      if (auto it = families.find(base); it != families.end() && it->second.type == "histogram") return base;
    }
  }
  return name;
}

void check_histograms(PromText& t) {
  // Per histogram series (labels without `le`): buckets ascending in le and non-decreasing, +Inf == _count.
  std::map<std::string, std::vector<std::pair<double, double>>> buckets;
  std::map<std::string, double> counts;
  for (const auto& s : t.samples) {
    const std::string fam = family_of(t.families, s.name);
    if (fam == s.name) continue;
    PromLabels rest = s.labels;
    const auto le = rest.find("le");
    std::string le_text;
    if (le != rest.end()) {
      le_text = le->second;
      rest.erase(le);
    }
    const std::string key = series_key(PromSample{fam, rest, 0});
    if (s.name == fam + "_bucket") {
      auto v = parse_value(le_text);
      if (!v)
        t.errors.push_back(s.name + ": bucket without a numeric le");
      else
        buckets[key].push_back({*v, s.value});
    } else if (s.name == fam + "_count") {
      counts[key] = s.value;
    }
  }
  for (const auto& [key, list] : buckets) {
    for (std::size_t i = 1; i < list.size(); ++i)
      if (list[i].first <= list[i - 1].first || list[i].second < list[i - 1].second)
        t.errors.push_back(key + ": buckets not ascending or not cumulative");
    if (list.empty() || !std::isinf(list.back().first))
      t.errors.push_back(key + ": no +Inf bucket");
    else if (!counts.count(key) || counts[key] != list.back().second)
      t.errors.push_back(key + ": +Inf bucket != _count");
  }
}

}  // namespace

std::vector<PromSample> PromText::find(const std::string& name, const PromLabels& match) const {
  std::vector<PromSample> out;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool ok = true;
    for (const auto& [k, v] : match) {
      auto it = s.labels.find(k);
      ok = ok && it != s.labels.end() && it->second == v;
    }
    if (ok) out.push_back(s);
  }
  return out;
}

std::optional<double> PromText::value(const std::string& name, const PromLabels& match) const {
  auto f = find(name, match);
  if (f.size() != 1) return std::nullopt;
  return f.front().value;
}

PromText parse_prometheus_text(const std::string& text) {
  PromText t;
  std::set<std::string> series, with_samples;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  if (!text.empty() && text.back() != '\n') t.errors.push_back("the text does not end with a newline");
  while (std::getline(in, line)) {
    ++n;
    const std::string where = "line " + std::to_string(n) + ": ";
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream ls(line);
      std::string hash, kind, name;
      ls >> hash >> kind >> name;
      if (kind != "HELP" && kind != "TYPE") continue;  // a plain comment
      std::string rest;
      std::getline(ls, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (!name_ok(name, true)) t.errors.push_back(where + "bad metric name '" + name + "'");
      PromFamily& f = t.families[name];
      if (with_samples.count(name)) t.errors.push_back(where + kind + " of " + name + " after its samples");
      if (kind == "HELP") {
        if (!f.help.empty()) t.errors.push_back(where + "second HELP for " + name);
        f.help = rest;
        if (rest.empty()) t.errors.push_back(where + "empty HELP for " + name);
      } else {
        if (!f.type.empty()) t.errors.push_back(where + "second TYPE for " + name);
        static const std::set<std::string> kTypes{"counter", "gauge", "histogram", "summary", "untyped"};
        if (!kTypes.count(rest)) t.errors.push_back(where + "unknown TYPE '" + rest + "'");
        f.type = rest;
        if (rest == "counter" && !(name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0))
          t.errors.push_back(where + "counter " + name + " does not end in _total");
      }
      continue;
    }
    PromSample s;
    std::size_t pos = 0;
    while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
    s.name = line.substr(0, pos);
    if (!name_ok(s.name, true)) {
      t.errors.push_back(where + "bad sample name '" + s.name + "'");
      continue;
    }
    std::string err;
    if (pos < line.size() && line[pos] == '{' && !parse_labels(line, pos, s.labels, err)) {
      t.errors.push_back(where + err);
      continue;
    }
    if (pos >= line.size() || line[pos] != ' ') {
      t.errors.push_back(where + "no value");
      continue;
    }
    std::string value_text = line.substr(pos + 1);
    if (auto sp = value_text.find(' '); sp != std::string::npos) value_text.resize(sp);  // a timestamp may follow
    auto v = parse_value(value_text);
    if (!v) {
      t.errors.push_back(where + "bad value '" + value_text + "'");
      continue;
    }
    s.value = *v;
    const std::string fam = family_of(t.families, s.name);
    auto f = t.families.find(fam);
    if (f == t.families.end() || f->second.type.empty() || f->second.help.empty())
      t.errors.push_back(where + s.name + " has no HELP and TYPE before it");
    else if (f->second.type == "counter" && s.value < 0)
      t.errors.push_back(where + "negative counter " + s.name);
    with_samples.insert(fam);
    if (!series.insert(series_key(s)).second) t.errors.push_back(where + "duplicate series " + s.name);
    t.samples.push_back(std::move(s));
  }
  check_histograms(t);
  return t;
}

}  // namespace matthan::test
