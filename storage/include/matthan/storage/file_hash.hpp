// SHA-256 of files and byte strings (libsodium), as lowercase hex: how clips and exports are shown unaltered.
// StoredFile: the one way to open a file under the storage root for serving, exporting or hashing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "matthan/core/result.hpp"

namespace matthan {

// A stored file open for reading. The open uses O_NOFOLLOW (a symlink swapped in at the path is refused, not
// followed) and O_NONBLOCK (a FIFO swapped in cannot block the opener), then fstat must find a regular file.
// Read through fd() only, never by path again: what was checked is what is read.
class StoredFile {
 public:
  // Errors: kNotFound (missing), kInvalid (a symlink, FIFO, directory or device), kIo (anything else).
  static Result<StoredFile> open(const std::filesystem::path& path);
  StoredFile(StoredFile&& other) noexcept;
  StoredFile& operator=(StoredFile&& other) noexcept;
  StoredFile(const StoredFile&) = delete;
  StoredFile& operator=(const StoredFile&) = delete;
  ~StoredFile();

  int fd() const { return fd_; }
  std::uint64_t size() const { return size_; }  // at open time

 private:
  StoredFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Streams the file in blocks (never loads it whole), opened as a StoredFile. Error names the file and the cause.
Result<std::string> sha256_file(const std::filesystem::path& path);
std::string sha256_hex(std::string_view bytes);

}  // namespace matthan
