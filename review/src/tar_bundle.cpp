// ustar writer for the export bundle (names are ours, never a request value).
#include "tar_bundle.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "matthan/storage/file_hash.hpp"

namespace matthan::review_detail {

namespace {
constexpr std::size_t kBlock = 512;

void put_octal(char* field, std::size_t width, std::uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1), static_cast<unsigned long long>(value));
}
}  // namespace

void TarBundle::add_header(const std::string& name, std::uint64_t size) {
  std::string h(kBlock, '\0');
  std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 99));
  put_octal(&h[100], 8, 0644);
  put_octal(&h[108], 8, 0);
  put_octal(&h[116], 8, 0);
  put_octal(&h[124], 12, size);
  put_octal(&h[136], 12, static_cast<std::uint64_t>(std::time(nullptr)));
  std::memset(&h[148], ' ', 8);
  h[156] = '0';
  std::memcpy(&h[257], "ustar", 6);
  std::memcpy(&h[263], "00", 2);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  parts_.push_back(Part{std::move(h), {}, 0});
}

void TarBundle::add_padding(std::uint64_t size) {
  const std::uint64_t pad = (kBlock - size % kBlock) % kBlock;
  if (pad) parts_.push_back(Part{std::string(pad, '\0'), {}, 0});
}

void TarBundle::add_text(const std::string& name, std::string content) {
  const std::uint64_t n = content.size();
  add_header(name, n);
  parts_.push_back(Part{std::move(content), {}, 0});
  add_padding(n);
}

void TarBundle::add_file(const std::string& name, const std::filesystem::path& path, std::uint64_t size) {
  add_header(name, size);
  parts_.push_back(Part{{}, path, size});
  add_padding(size);
}

std::uint64_t TarBundle::size() const {
  std::uint64_t total = 2 * kBlock;  // two zero blocks end the archive
  for (const auto& p : parts_) total += p.size();
  return total;
}

bool TarBundle::read(std::uint64_t offset, std::uint64_t length, std::string& out) const {
  out.clear();
  std::uint64_t start = 0;
  for (const auto& p : parts_) {
    const std::uint64_t n = p.size();
    if (length == 0) break;
    if (offset < start + n) {
      const std::uint64_t in = offset - start;
      const std::uint64_t take = std::min(length, n - in);
      if (p.file.empty()) {
        out.append(p.bytes, in, take);
      } else {
        auto file = StoredFile::open(p.file);
        if (!file.ok()) return false;
        std::string buf(take, '\0');
        const ssize_t got = ::pread(file->fd(), buf.data(), take, static_cast<off_t>(in));
        if (got != static_cast<ssize_t>(take)) return false;
        out += buf;
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
