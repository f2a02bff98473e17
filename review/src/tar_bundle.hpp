// The export bundle: a POSIX ustar archive streamed from files and in-memory parts without copying the
// clip into memory. Tar because zip is not in the stack, and `tar xf` opens it everywhere.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace matthan::review_detail {

class TarBundle {
 public:
  void add_text(const std::string& name, std::string content);
  void add_file(const std::string& name, const std::filesystem::path& path, std::uint64_t size);
  std::uint64_t size() const;  // the whole archive, end blocks included
  // Copies up to `length` bytes starting at `offset` into `out`; false on a read error.
  bool read(std::uint64_t offset, std::uint64_t length, std::string& out) const;

 private:
  struct Part {
    std::string bytes;              // header, in-memory content, or padding
    std::filesystem::path file;     // when set, `file_size` bytes come from it
    std::uint64_t file_size = 0;
    std::uint64_t size() const { return file.empty() ? bytes.size() : file_size; }
  };
  // Names over 100 bytes go into ustar's prefix + name, or a pax header when no split fits.
  void add_header(const std::string& name, std::uint64_t size);
  void add_raw_header(const std::string& name, std::uint64_t size, char type, const std::string& prefix);
  void add_padding(std::uint64_t size);
  std::vector<Part> parts_;
};

}  // namespace matthan::review_detail
