// The export bundle: a POSIX ustar archive streamed from files and in-memory parts without copying the
// clip into memory. Tar because zip is not in the stack, and `tar xf` opens it everywhere.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace matthan {
class StoredFile;
}

namespace matthan::review_detail {

// Streamed in order: each file member is read once, through the descriptor it was opened with, and hashed
// as it is copied out, so a member made from those hashes (the manifest) describes the bytes that were sent.
class TarBundle {
 public:
  using Hashes = std::map<std::string, std::string>;  // member name -> SHA-256 (hex) of the bytes sent

  void add_text(const std::string& name, std::string content);
  void add_file(const std::string& name, std::shared_ptr<const StoredFile> file);  // all file->size() bytes
  void add_file(const std::string& name, const std::filesystem::path& path, std::uint64_t size);
  // A member made when the stream reaches it, from the hashes of every file member before it. `make` must
  // give exactly `size` bytes (e.g. a manifest whose hashes are fixed-width hex); the read fails otherwise,
  // and also when a file member was not streamed whole and in order.
  void add_generated(const std::string& name, std::uint64_t size, std::function<std::string(const Hashes&)> make);
  std::uint64_t size() const;  // the whole archive, end blocks included
  // Copies up to `length` bytes starting at `offset` into `out`; false on a read error.
  bool read(std::uint64_t offset, std::uint64_t length, std::string& out);

 private:
  struct Sha256Stream;  // the running hash of one file member
  struct Part {
    std::string bytes;         // header, in-memory content, padding, or a generated member once made
    std::uint64_t length = 0;  // of a file or generated member
    std::string member;        // a file member's name
    std::shared_ptr<const StoredFile> file;
    std::shared_ptr<Sha256Stream> hash;
    std::function<std::string(const Hashes&)> make;
    static Part text(std::string b) {
      Part p;
      p.bytes = std::move(b);
      return p;
    }
    bool inline_bytes() const { return !file && !make && !hash; }
    std::uint64_t size() const { return inline_bytes() ? bytes.size() : length; }
  };
  // Names over 100 bytes go into ustar's prefix + name, or a pax header when no split fits.
  void add_header(const std::string& name, std::uint64_t size);
  void add_raw_header(const std::string& name, std::uint64_t size, char type, const std::string& prefix);
  void add_padding(std::uint64_t size);
  bool read_file(Part& p, std::uint64_t in, std::uint64_t take, std::string& out);
  bool make_generated(Part& p);
  std::vector<Part> parts_;
};

}  // namespace matthan::review_detail
