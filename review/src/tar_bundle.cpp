// ustar writer for the export bundle (names are ours, never a request value).
#include "tar_bundle.hpp"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "matthan/storage/file_hash.hpp"

namespace matthan::review_detail {

namespace {
constexpr std::size_t kBlock = 512;

void put_octal(char* field, std::size_t width, std::uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1), static_cast<unsigned long long>(value));
}

// Where a long name splits into ustar's prefix (at most 155 bytes) and name (at most 100): at the last '/' in
// reach of the prefix, which leaves the shortest name part; npos when none fits (a pax header then carries it).
std::size_t ustar_split(const std::string& name) {
  if (name.size() <= 100) return 0;
  const std::size_t slash = name.rfind('/', 155);
  if (slash == std::string::npos || slash == 0) return std::string::npos;
  const std::size_t rest = name.size() - slash - 1;
  return rest == 0 || rest > 100 ? std::string::npos : slash;
}

// A pax record "<len> path=<name>\n", where <len> counts the whole record, its own digits included.
std::string pax_path_record(const std::string& name) {
  const std::string body = " path=" + name + "\n";
  std::size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  return std::to_string(len) + body;
}

}  // namespace

void TarBundle::add_header(const std::string& name, std::uint64_t size) {
  const std::size_t split = ustar_split(name);
  if (split == std::string::npos) {
    // No ustar split fits: a pax extended header ('x') carries the whole name for the member that follows.
    std::string record = pax_path_record(name);
    add_raw_header("PaxHeaders/" + name.substr(name.size() - 80), record.size(), 'x', "");
    const std::uint64_t n = record.size();
    parts_.push_back(Part::text(std::move(record)));
    add_padding(n);
    add_raw_header(name.substr(name.size() - 100), size, '0', "");
  } else if (split == 0) {
    add_raw_header(name, size, '0', "");
  } else {
    add_raw_header(name.substr(split + 1), size, '0', name.substr(0, split));
  }
}

void TarBundle::add_raw_header(const std::string& name, std::uint64_t size, char type, const std::string& prefix) {
  std::string h(kBlock, '\0');
  std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 100));
  std::memcpy(&h[345], prefix.data(), std::min<std::size_t>(prefix.size(), 155));
  put_octal(&h[100], 8, 0644);
  put_octal(&h[108], 8, 0);
  put_octal(&h[116], 8, 0);
  put_octal(&h[124], 12, size);
  put_octal(&h[136], 12, static_cast<std::uint64_t>(std::time(nullptr)));
  std::memset(&h[148], ' ', 8);
  h[156] = type;
  std::memcpy(&h[257], "ustar", 6);
  std::memcpy(&h[263], "00", 2);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  parts_.push_back(Part::text(std::move(h)));
}

struct TarBundle::Sha256Stream {
  crypto_hash_sha256_state state{};
  std::uint64_t hashed = 0;  // bytes from the member's start taken into `state`
  std::string hex;           // set once every byte of the member has been hashed
};

namespace {

std::string finish_hex(crypto_hash_sha256_state& state) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : digest) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

}  // namespace

void TarBundle::add_padding(std::uint64_t size) {
  const std::uint64_t pad = (kBlock - size % kBlock) % kBlock;
  if (pad) parts_.push_back(Part::text(std::string(pad, '\0')));
}

void TarBundle::add_text(const std::string& name, std::string content) {
  const std::uint64_t n = content.size();
  add_header(name, n);
  parts_.push_back(Part::text(std::move(content)));
  add_padding(n);
}

void TarBundle::add_file(const std::string& name, std::shared_ptr<const StoredFile> file) {
  const std::uint64_t n = file ? file->size() : 0;
  add_header(name, n);
  Part p;
  p.length = n;
  p.member = name;
  p.file = std::move(file);
  p.hash = std::make_shared<Sha256Stream>();
  crypto_hash_sha256_init(&p.hash->state);
  if (n == 0) p.hash->hex = finish_hex(p.hash->state);
  parts_.push_back(std::move(p));
  add_padding(n);
}

void TarBundle::add_file(const std::string& name, const std::filesystem::path& path, std::uint64_t size) {
  auto file = StoredFile::open(path);
  if (file.ok() && file->size() == size) {
    add_file(name, std::make_shared<const StoredFile>(std::move(file).value()));
    return;
  }
  // Not openable, or not the size announced: the member keeps its announced size and reading it fails.
  add_header(name, size);
  Part p;
  p.length = size;
  p.member = name;
  p.hash = std::make_shared<Sha256Stream>();
  parts_.push_back(std::move(p));
  add_padding(size);
}

void TarBundle::add_generated(const std::string& name, std::uint64_t size,
                              std::function<std::string(const Hashes&)> make) {
  add_header(name, size);
  Part p;
  p.length = size;
  p.make = std::move(make);
  parts_.push_back(std::move(p));
  add_padding(size);
}

std::uint64_t TarBundle::size() const {
  std::uint64_t total = 2 * kBlock;  // two zero blocks end the archive
  for (const auto& p : parts_) total += p.size();
  return total;
}

bool TarBundle::read_file(Part& p, std::uint64_t in, std::uint64_t take, std::string& out) {
  if (!p.file) return false;
  std::string buf(take, '\0');
  for (std::uint64_t done = 0; done < take;) {
    const ssize_t got = ::pread(p.file->fd(), buf.data() + done, take - done, static_cast<off_t>(in + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;  // an error, or the file shrank under us
    done += static_cast<std::uint64_t>(got);
  }
  // Hash exactly what goes out, in order; a byte range read again (a retried chunk) is not hashed twice.
  Sha256Stream& h = *p.hash;
  if (in <= h.hashed && in + take > h.hashed) {
    const std::uint64_t skip = h.hashed - in;
    crypto_hash_sha256_update(&h.state, reinterpret_cast<const unsigned char*>(buf.data() + skip), take - skip);
    h.hashed = in + take;
    if (h.hashed == p.length) h.hex = finish_hex(h.state);
  }
  out += buf;
  return true;
}

bool TarBundle::make_generated(Part& p) {
  if (!p.bytes.empty() || p.length == 0) return p.bytes.size() == p.length;
  Hashes sent;
  for (const auto& q : parts_) {
    if (&q == &p) break;
    if (!q.hash) continue;
    if (q.hash->hex.empty()) return false;  // not streamed whole and in order: nothing true to say about it
    sent[q.member] = q.hash->hex;
  }
  p.bytes = p.make(sent);
  return p.bytes.size() == p.length;
}

bool TarBundle::read(std::uint64_t offset, std::uint64_t length, std::string& out) {
  out.clear();
  std::uint64_t start = 0;
  for (auto& p : parts_) {
    const std::uint64_t n = p.size();
    if (length == 0) break;
    if (offset < start + n) {
      const std::uint64_t in = offset - start;
      const std::uint64_t take = std::min(length, n - in);
      if (p.file || p.hash) {
        if (!read_file(p, in, take, out)) return false;
      } else {
        if (p.make && !make_generated(p)) return false;
        out.append(p.bytes, in, take);
      }
      offset += take;
      length -= take;
    }
    start += n;
  }
  if (length > 0 && offset >= start) out.append(std::min<std::uint64_t>(length, size() - offset), '\0');
  return true;
}

}  // namespace matthan::review_detail
