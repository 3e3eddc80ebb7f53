#pragma once
// Small file-system helpers that report failures as results instead of throwing.

#include "util/error.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace kfp::util {

enum class WriteMode { replace, append };

// Reads a whole file, refusing one larger than max_bytes. Fails with `kind` naming the path.
[[nodiscard]] Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes,
                                            ErrorKind kind);

// replace: writes to a temporary file beside `path`, fsyncs and renames it over `path`, so a reader
// never sees half a file. append: appends and fsyncs. Fails with kind usage naming the path.
[[nodiscard]] Result<void> write_file(const std::filesystem::path& path, std::string_view content,
                                      WriteMode mode);

}  // namespace kfp::util
