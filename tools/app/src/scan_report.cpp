// The reports of `matthan scan`: a Markdown summary and an HTML page with every incident's snapshot and clip.
#include "scan_report.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "matthan/core/time.hpp"

namespace matthan::scan_report {
namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A relative path as a URL path: every segment percent-encoded (file names from USB sticks hold anything).
std::string url_path(const fs::path& rel) {
  std::string out;
  for (const auto& part : rel) {
    if (!out.empty()) out += '/';
    for (unsigned char c : part.string()) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
        out += static_cast<char>(c);
      else
        out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string incident_what(const Incident& inc) {
  const std::string kind(to_string(inc.kind));
  return inc.label ? fmt::format("{} {}", kind, *inc.label) : kind;
}

std::string when_text(const FileResult& f, double offset_s) {
  std::string t = "+" + clock_text(offset_s);
  if (f.started_at)
    t += " (" +
         format_iso8601(*f.started_at +
                        std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(offset_s))) +
         ")";
  return t;
}

}  // namespace

std::string clock_text(double s) {
  const long t = std::lround(std::max(s, 0.0));
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}:{:02}", t / 60, t % 60);
}

Totals totals_of(const std::vector<FileResult>& files, double elapsed_s) {
  Totals t;
  t.files = files.size();
  t.elapsed_s = elapsed_s;
  for (const auto& f : files) {
    if (!f.error.empty()) ++t.failed;
    t.frames += f.frames;
    t.media_s += f.duration_s;
    for (const auto& si : f.incidents) {
      ++t.incidents;
      ++t.by_what[incident_what(si.incident)];
      if (!si.clip) ++t.clip_errors;
    }
  }
  return t;
}

std::string totals_line(const Totals& t) {
  return fmt::format(
      "{} file(s), {} unreadable; {} frames ({}) in {:.1f} s, {:.1f}x real time; {} incident(s), {} without a clip",
      t.files, t.failed, t.frames, clock_text(t.media_s), t.elapsed_s, t.elapsed_s > 0 ? t.media_s / t.elapsed_s : 0.0,
      t.incidents, t.clip_errors);
}

void write_markdown(const fs::path& path, const ScanOptions& o, const std::string& detector,
                    const std::vector<FileResult>& files, const Totals& t) {
  std::ofstream md(path);
  md << "# Matthan scan report\n\n";
  md << fmt::format("- Analysis: {}\n- {}\n", detector, totals_line(t));
  if (!o.config.empty())
    md << fmt::format("- Settings of camera `{}` in `{}`\n", o.camera_like.empty() ? "(first)" : o.camera_like,
                      o.config.string());
  for (const auto& [what, n] : t.by_what) md << fmt::format("- {}: {}\n", what, n);
  for (const auto& f : files) {
    md << fmt::format("\n## {}\n\n", f.path.string());
    if (!f.error.empty()) {
      md << fmt::format("**Not scanned:** {}\n", f.error);
      continue;
    }
    md << fmt::format("{}x{}, {} frames, {} long; times are {}.\n\n", f.width, f.height, f.frames,
                      clock_text(f.duration_s),
                      f.started_at ? "from the file's creation time (UTC)"
                                   : "offsets from the file's start (the file holds no creation time)");
    if (f.incidents.empty()) {
      md << "No incident.\n";
      continue;
    }
    md << "| # | when | length | what | score | snapshot | clip |\n|---|---|---|---|---|---|---|\n";
    for (std::size_t i = 0; i < f.incidents.size(); ++i) {
      const auto& si = f.incidents[i];
      md << fmt::format("| {} | {} | {:.1f} s | {} | {:.2f} | {} | {} |\n", i + 1, when_text(f, si.start_s),
                        si.end_s - si.start_s, incident_what(si.incident), si.incident.score,
                        si.snapshot.empty() ? "-" : fmt::format("[jpg](<{}>)", si.snapshot),
                        si.clip ? fmt::format("[clip](<{}>)", si.clip->path) : "**none:** " + si.clip_error);
    }
  }
}

void write_html(const fs::path& path, const ScanOptions& o, const std::string& detector,
                const std::vector<FileResult>& files, const Totals& t) {
  std::ofstream h(path);
  h << "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Matthan scan report</title>"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>"
       "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1c2330}"
       "table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccd;padding:.3rem "
       ".5rem;text-align:left;vertical-align:top}"
       "th{background:#eef1f6}img{max-width:240px;display:block}.err{color:#a01010;font-weight:600}.muted{color:#667}"
       "</style></head><body><h1>Matthan scan report</h1>\n";
  h << fmt::format("<p>{}</p><p class=\"muted\">Analysis: {}", html_escape(totals_line(t)), html_escape(detector));
  if (!o.config.empty())
    h << fmt::format("; settings of camera {} in {}", html_escape(o.camera_like.empty() ? "(first)" : o.camera_like),
                     html_escape(o.config.string()));
  h << "</p>\n<ul>";
  for (const auto& [what, n] : t.by_what) h << fmt::format("<li>{}: {}</li>", html_escape(what), n);
  h << "</ul>\n";
  for (const auto& f : files) {
    h << fmt::format("<h2>{}</h2>\n", html_escape(f.path.string()));
    if (!f.error.empty()) {
      h << fmt::format("<p class=\"err\">Not scanned: {}</p>\n", html_escape(f.error));
      continue;
    }
    h << fmt::format("<p class=\"muted\">{}x{}, {} frames, {} long; times are {}.</p>\n", f.width, f.height, f.frames,
                     clock_text(f.duration_s),
                     f.started_at ? "from the file's creation time (UTC)"
                                  : "offsets from the file's start (the file holds no creation time)");
    if (f.incidents.empty()) {
      h << "<p>No incident.</p>\n";
      continue;
    }
    h << "<table><tr><th>#</th><th>when</th><th>length</th><th>what</th><th>score</th><th>snapshot</th><th>clip</th></"
         "tr>\n";
    for (std::size_t i = 0; i < f.incidents.size(); ++i) {
      const auto& si = f.incidents[i];
      const std::string snap = si.snapshot.empty()
                                   ? "-"
                                   : fmt::format("<a href=\"{0}\"><img src=\"{0}\" alt=\"snapshot {1}\"></a>",
                                                 html_escape(url_path(si.snapshot)), i + 1);
      const std::string clip =
          si.clip ? fmt::format("<a href=\"{}\">{}</a> ({:.1f} s, from {})", html_escape(url_path(si.clip->path)),
                                html_escape(fs::path(si.clip->path).filename().string()), si.clip->duration_s,
                                html_escape("+" + clock_text(si.clip_offset_s)))
                  : fmt::format("<span class=\"err\">none: {}</span>", html_escape(si.clip_error));
      h << fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{:.1f} s</td><td>{}</td><td>{:.2f}</td><td>{}</td><td>{}</td></tr>\n", i + 1,
          html_escape(when_text(f, si.start_s)), si.end_s - si.start_s, html_escape(incident_what(si.incident)),
          si.incident.score, snap, clip);
    }
    h << "</table>\n";
  }
  h << "</body></html>\n";
}

}  // namespace matthan::scan_report
