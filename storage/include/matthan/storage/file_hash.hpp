// SHA-256 of files and byte strings (libsodium), as lowercase hex: how clips and exports are shown unaltered.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "matthan/core/result.hpp"

namespace matthan {

// Streams the file in blocks (never loads it whole). Error names the file and the cause.
Result<std::string> sha256_file(const std::filesystem::path& path);
std::string sha256_hex(std::string_view bytes);

}  // namespace matthan
