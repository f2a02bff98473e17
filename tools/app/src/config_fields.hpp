// Field tables: each config section is declared once, as a table of its keys. A field binds its key to a member of
// the owning module's settings struct (whose member initialiser is the default), with its bounds and a one-line
// description. Reading, unknown-key rejection, bounds checks and docs/config.md's key tables all come from it.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "config_reader.hpp"

namespace matthan::config {

// One row of a docs key table: | `key` | type | default | bounds | meaning |
struct DocRow {
  std::string key, type, default_text, bounds, meaning;
};

template <class S>
struct Field {
  std::string_view key;
  // Reads the key from its parent mapping into the settings; empty: the section's own code reads it.
  std::function<void(ConfigReader&, const YAML::Node& map, const std::string& path, S&)> read;
  // Checks the value after reading (whether this block set it or not); may be empty.
  std::function<void(ConfigReader&, const YAML::Node& map, const std::string& path, S&)> check;
  // Appends the key's docs rows (a block: its own row, if it has one, then its fields' under "key.").
  std::function<void(const std::string& prefix, std::vector<DocRow>&)> doc;
};

template <class S>
using Table = std::vector<Field<S>>;

template <class S>
std::vector<std::string_view> keys_of(const Table<S>& table) {
  std::vector<std::string_view> keys;
  for (const auto& f : table) keys.push_back(f.key);
  return keys;
}

// Reads the one field `key` of the table, then checks it unless told not to.
template <class S>
void read_field(ConfigReader& r, const YAML::Node& map, const std::string& path, const Table<S>& table,
                std::string_view key, S& out, bool check = true) {
  for (const auto& f : table) {
    if (f.key != key) continue;
    if (f.read) f.read(r, map, path, out);
    if (check && f.check) f.check(r, map, path, out);
  }
}

// Checks the one field `key` (read with check = false).
template <class S>
void check_field(ConfigReader& r, const YAML::Node& map, const std::string& path, const Table<S>& table,
                 std::string_view key, S& out) {
  for (const auto& f : table)
    if (f.key == key && f.check) f.check(r, map, path, out);
}

// Reads and checks every field of the table that reads itself, in table order.
template <class S>
void read_fields(ConfigReader& r, const YAML::Node& map, const std::string& path, const Table<S>& table, S& out) {
  for (const auto& f : table) read_field(r, map, path, table, f.key, out);
}

// The same, the keys of `first` first, in that order: where a key uses another's value, or to keep the order in
// which issues have always been reported. Keys not listed follow in table order, so none is ever skipped.
template <class S>
void read_fields(ConfigReader& r, const YAML::Node& map, const std::string& path, const Table<S>& table,
                 std::initializer_list<std::string_view> first, S& out) {
  for (auto key : first) read_field(r, map, path, table, key, out);
  for (const auto& f : table)
    if (std::find(first.begin(), first.end(), f.key) == first.end()) read_field(r, map, path, table, f.key, out);
}

// A block `key:` whose fields are `table`: a mapping, with no key outside the table.
template <class S>
void read_block(ConfigReader& r, const YAML::Node& n, const std::string& path, const Table<S>& table, S& out) {
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, keys_of(table));
  read_fields(r, n, path, table, out);
}

template <class S>
void doc_rows(const Table<S>& table, const std::string& prefix, std::vector<DocRow>& out) {
  for (const auto& f : table)
    if (f.doc) f.doc(prefix, out);
}

// ---- how values are written in the docs ----

inline std::string doc_code(std::string_view text) {
  return fmt::format("`{}`", text);
}

template <class T>
std::string doc_number(T v) {
  std::string s = fmt::format("{}", v);
  if constexpr (std::is_floating_point_v<T>) {
    if (s.find('e') != std::string::npos) {  // 1e-05: written out, 0.00001
      s = fmt::format("{:.12f}", v);
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.') s.pop_back();
    }
  }
  return s;
}

// A size in bytes as people read it: 1 MiB, 4 GiB, 2^56.
inline std::string doc_bytes(unsigned long long v) {
  if (v == 0) return "0";
  if (v >= (1ull << 40) && (v & (v - 1)) == 0) return fmt::format("2^{}", static_cast<int>(std::log2(v)));
  if (v % (1ull << 30) == 0) return fmt::format("{} GiB", v >> 30);
  if (v % (1ull << 20) == 0) return fmt::format("{} MiB", v >> 20);
  return fmt::format("{}", v);
}

// ---- field builders ----

// Options of a number field.
struct NumberOpts {
  // Above 0, a value in (0, nonzero_min) is refused: "N is too small: at least MIN{unit}, or 0 {zero_means}".
  double nonzero_min = 0;
  std::string_view unit;          // e.g. " pixels"
  std::string_view zero_means;    // e.g. "for the camera's own size"
  bool bytes = false;             // written in the docs as sizes (64 MiB)
  std::string_view default_note;  // appended to the docs' default, e.g. "; 0 on a camera with `rules`"
  std::string_view bounds_note;   // appended to the docs' bounds, e.g. ", multiple of 32"
};

inline NumberOpts zero_or_at_least(double min, std::string_view unit, std::string_view zero_means) {
  NumberOpts o;
  o.nonzero_min = min;
  o.unit = unit;
  o.zero_means = zero_means;
  return o;
}
inline NumberOpts in_bytes() {
  NumberOpts o;
  o.bytes = true;
  return o;
}
inline NumberOpts default_note(std::string_view note) {
  NumberOpts o;
  o.default_note = note;
  return o;
}
inline NumberOpts bounds_note(std::string_view note) {
  NumberOpts o;
  o.bounds_note = note;
  return o;
}

template <class S, class T, class Get>
Field<S> number_field(std::string_view key, Get get, T lo, T hi, std::string_view meaning, NumberOpts o) {
  Field<S> f;
  f.key = key;
  f.read = [key, get, lo, hi](ConfigReader& r, const YAML::Node& map, const std::string& path, S& s) {
    r.number(map, std::string(key).c_str(), path, get(s), lo, hi);
  };
  if (o.nonzero_min > 0)
    f.check = [key, get, o](ConfigReader& r, const YAML::Node& map, const std::string& path, S& s) {
      const T v = get(s);
      if (v > 0 && v < static_cast<T>(o.nonzero_min))
        r.issue(map[std::string(key)], ConfigReader::join(path, key),
                fmt::format("{} is too small: at least {}{}, or 0 {}", v, static_cast<T>(o.nonzero_min), o.unit,
                            o.zero_means));
    };
  f.doc = [key, get, lo, hi, meaning, o](const std::string& prefix, std::vector<DocRow>& out) {
    S defaults{};
    const T d = get(defaults);
    auto write = [&](T v) { return o.bytes ? doc_bytes(v) : doc_number(v); };
    DocRow row;
    row.key = prefix + std::string(key);
    row.type = std::is_integral_v<T> ? "integer" : "number";
    row.default_text = o.bytes && d != 0 ? fmt::format("{} ({})", d, doc_bytes(d)) : doc_number(d);
    row.default_text += o.default_note;
    row.bounds = o.nonzero_min > 0 ? fmt::format("0, or {} .. {}", write(static_cast<T>(o.nonzero_min)), write(hi))
                                   : fmt::format("{} .. {}", write(lo), write(hi));
    row.bounds += o.bounds_note;
    row.meaning = meaning;
    out.push_back(std::move(row));
  };
  return f;
}

// `key`: a number in [lo, hi] in the member `m` of S.
template <class S, class T>
Field<S> number(std::string_view key, T S::*m, T lo, T hi, std::string_view meaning, NumberOpts o = {}) {
  return number_field<S, T>(
      key, [m](S& s) -> T& { return s.*m; }, lo, hi, meaning, o);
}

// The same for a member of a member (a section of S that is its own struct, such as Config::retention).
template <class S, class Sub, class T>
Field<S> number(std::string_view key, Sub S::*sub, T Sub::*m, T lo, T hi, std::string_view meaning, NumberOpts o = {}) {
  return number_field<S, T>(
      key, [sub, m](S& s) -> T& { return (s.*sub).*m; }, lo, hi, meaning, o);
}

template <class S>
Field<S> boolean(std::string_view key, bool S::*m, std::string_view meaning) {
  Field<S> f;
  f.key = key;
  f.read = [key, m](ConfigReader& r, const YAML::Node& map, const std::string& path, S& s) {
    r.boolean(map, std::string(key).c_str(), path, s.*m);
  };
  f.doc = [key, m, meaning](const std::string& prefix, std::vector<DocRow>& out) {
    out.push_back({prefix + std::string(key), "bool", doc_code(S{}.*m ? "true" : "false"), "", std::string(meaning)});
  };
  return f;
}

// One of a few names, each standing for a value of the member (an enum, or the name itself).
template <class T>
using Choices = std::vector<std::pair<std::string_view, T>>;

// `invalid` is the message for a name not in `choices`, with {} for it.
template <class S, class T>
Field<S> choice(std::string_view key, T S::*m, Choices<T> choices, std::size_t max_len, std::string_view invalid,
                std::string_view meaning) {
  Field<S> f;
  f.key = key;
  f.read = [key, m, choices, max_len, invalid](ConfigReader& r, const YAML::Node& map, const std::string& path, S& s) {
    const std::string k(key);
    std::string name;
    if (!r.string(map, k.c_str(), path, name, max_len)) return;
    for (const auto& [n, v] : choices)
      if (n == name) {
        s.*m = v;
        return;
      }
    r.issue(map[k], ConfigReader::join(path, key), fmt::format(fmt::runtime(invalid), name));
  };
  f.doc = [key, m, choices, meaning](const std::string& prefix, std::vector<DocRow>& out) {
    std::string names, default_name;
    for (const auto& [n, v] : choices) {
      names += fmt::format("{}{}", names.empty() ? "" : ", ", n);
      if (v == S{}.*m) default_name = doc_code(n);
    }
    out.push_back({prefix + std::string(key), "string", default_name, names, std::string(meaning)});
  };
  return f;
}

// A string checked by `check` (which returns the message for a bad one, or an empty string). The member takes the
// value before the check, as a bad config is refused whole. `bounds` says in the docs what `check` accepts.
template <class S>
Field<S> text(std::string_view key, std::string S::*m, std::size_t max_len,
              std::function<std::string(const std::string&)> check, std::string_view bounds, std::string_view meaning) {
  Field<S> f;
  f.key = key;
  f.read = [key, m, max_len, check](ConfigReader& r, const YAML::Node& map, const std::string& path, S& s) {
    const std::string k(key);
    if (!r.string(map, k.c_str(), path, s.*m, max_len)) return;
    if (std::string why = check(s.*m); !why.empty()) r.issue(map[k], ConfigReader::join(path, key), std::move(why));
  };
  f.doc = [key, m, bounds, meaning](const std::string& prefix, std::vector<DocRow>& out) {
    const std::string d = S{}.*m;
    out.push_back({prefix + std::string(key), "string", d.empty() ? "none" : doc_code(d), std::string(bounds),
                   std::string(meaning)});
  };
  return f;
}

// A key whose value the section's own code reads (a path, a list, a mapping of its own), or that `read` reads;
// the docs row is given as it is.
template <class S>
Field<S> custom(std::string_view key, DocRow doc,
                std::function<void(ConfigReader&, const YAML::Node&, const std::string&, S&)> read = {}) {
  Field<S> f;
  f.key = key;
  f.read = std::move(read);
  f.doc = [key, doc](const std::string& prefix, std::vector<DocRow>& out) {
    if (doc.meaning.empty()) return;  // documented in a section of its own
    DocRow row = doc;
    row.key = prefix + std::string(key);
    out.push_back(std::move(row));
  };
  return f;
}

// A block `key:` read by `read` (which may go through read_block), documented by `table`'s rows under "key.",
// after a row of its own when `own` has a meaning.
template <class S, class Sub>
Field<S> block(std::string_view key, const Table<Sub>& (*table)(),
               std::function<void(ConfigReader&, const YAML::Node&, const std::string&, S&)> read, DocRow own = {}) {
  Field<S> f;
  f.key = key;
  f.read = std::move(read);
  f.doc = [key, table, own](const std::string& prefix, std::vector<DocRow>& out) {
    const std::string here = prefix + std::string(key);
    if (!own.meaning.empty()) {
      DocRow row = own;
      row.key = here;
      out.push_back(std::move(row));
    }
    doc_rows(table(), here + ".", out);
  };
  return f;
}

// The common block: `key:` holds the member `m` of S, read field by field, then `then` checks across its fields.
template <class S, class Sub>
Field<S> block(std::string_view key, Sub S::*m, const Table<Sub>& (*table)(),
               void (*then)(ConfigReader&, const YAML::Node&, const std::string&, Sub&) = nullptr) {
  return block<S, Sub>(key, table,
                       [key, m, table, then](ConfigReader& r, const YAML::Node& map, const std::string& path, S& s) {
                         const YAML::Node n = map[std::string(key)];
                         if (!n.IsDefined()) return;
                         const std::string p = ConfigReader::join(path, key);
                         if (!r.expect_map(n, p)) return;
                         r.check_keys(n, p, keys_of(table()));
                         read_fields(r, n, p, table(), s.*m);
                         if (then) then(r, n, p, s.*m);
                       });
}

// A list `key:` of mappings whose keys are `item`'s, read by `read` (which checks each item's keys against
// keys_of(item())), documented by `item`'s rows under "key[].".
template <class S, class Item>
Field<S> items(std::string_view key, const Table<Item>& (*item)(),
               std::function<void(ConfigReader&, const YAML::Node&, const std::string&, S&)> read) {
  Field<S> f;
  f.key = key;
  f.read = std::move(read);
  f.doc = [key, item](const std::string& prefix, std::vector<DocRow>& out) {
    doc_rows(item(), prefix + std::string(key) + "[].", out);
  };
  return f;
}

// The markdown of a docs key table.
inline std::string markdown_table(const std::vector<DocRow>& rows) {
  std::string out = "| key | type | default | bounds | meaning |\n|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    out += fmt::format("| `{}` |", r.key);
    for (const std::string* cell : {&r.type, &r.default_text, &r.bounds, &r.meaning})
      out += cell->empty() ? std::string(" |") : fmt::format(" {} |", *cell);
    out += '\n';
  }
  return out;
}

}  // namespace matthan::config
