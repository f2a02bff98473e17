// SHA-256 with libsodium's crypto_hash_sha256 streaming API; StoredFile's guarded open.
#include "matthan/storage/file_hash.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace matthan {
namespace {

std::string to_hex(const std::array<unsigned char, crypto_hash_sha256_BYTES>& digest) {
  std::string out;
  out.reserve(digest.size() * 2);
  for (unsigned char b : digest) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace

Result<StoredFile> StoredFile::open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    // O_NOFOLLOW gives ELOOP on a symlink as the last component.
    if (err == ELOOP) return make_error(ErrorCode::kInvalid, fmt::format("{}: is a symbolic link", path.string()));
    return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      fmt::format("{}: cannot open: {}", path.string(), std::strerror(err)));
  }
  StoredFile f(fd, 0);
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return make_error(ErrorCode::kIo, fmt::format("{}: cannot stat: {}", path.string(), std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return make_error(ErrorCode::kInvalid, fmt::format("{}: not a regular file", path.string()));
  f.size_ = static_cast<std::uint64_t>(st.st_size);
  return f;
}

StoredFile::StoredFile(StoredFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(std::exchange(other.size_, 0)) {}

StoredFile& StoredFile::operator=(StoredFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

StoredFile::~StoredFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return to_hex(digest);
}

Result<std::string> sha256_file(const std::filesystem::path& path) {
  auto file = StoredFile::open(path);
  if (!file.ok()) return make_error(file.error().code, "sha256 " + file.error().message);
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::array<unsigned char, 1 << 16> block{};
  for (;;) {
    const ssize_t n = ::read(file->fd(), block.data(), block.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::kIo, fmt::format("sha256 {}: read error", path.string()));
    }
    crypto_hash_sha256_update(&state, block.data(), static_cast<unsigned long long>(n));
  }
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256_final(&state, digest.data());
  return to_hex(digest);
}

}  // namespace matthan
