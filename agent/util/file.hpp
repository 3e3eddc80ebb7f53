#pragma once
// Small file-system helpers that report failures as results instead of throwing.

#include "util/error.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace kfp::util {

enum class WriteMode {
  // Replaces the content so that a reader never sees half a file: a temporary file beside the target,
  // fsynced and renamed over it. Where a rename cannot work or would destroy what is there, the
  // content is written in place instead: a mount point (the kubelet bind-mounts the termination-message
  // file, and a rename onto it fails with EBUSY), a device, a FIFO, the file behind our own
  // stdout/stderr (`/dev/stdout`), a file whose directory we may not write. A symlink is followed,
  // never replaced.
  replace,
  // Appends, creating the file when missing (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY).
  append,
  // Truncates and writes in place, creating the file when missing; never renames (the termination log).
  in_place,
};

// Reads a whole regular file, refusing one larger than max_bytes. A FIFO, device or socket is refused
// at once (it could block or never end), without waiting for a writer. A signal during a blocking
// read fails with kind interrupted. Other failures have kind `kind` and name the path.
[[nodiscard]] Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes,
                                            ErrorKind kind);

// Writes `content` as `mode` says (see WriteMode). Fails with kind usage naming the path, or kind
// interrupted when a signal arrives while a write blocks (a FIFO nobody reads).
[[nodiscard]] Result<void> write_file(const std::filesystem::path& path, std::string_view content,
                                      WriteMode mode);

// Whether write_file(path, ..., mode) can succeed, checked without changing any content: the file is
// writable, or, when it does not exist yet, its directory exists and takes a new file. A FIFO passes
// (its reader may come later). Fails with kind usage naming the path and the reason.
[[nodiscard]] Result<void> check_writable(const std::filesystem::path& path, WriteMode mode);

// Puts /dev/null (read-only) on any of the descriptors 0, 1 and 2 that is closed, so that no file
// opened later lands on them (a report written into "stdout"), and writes to a closed stdout fail.
void occupy_closed_standard_descriptors() noexcept;

// Whether `stream`'s descriptor is open for writing.
[[nodiscard]] bool writable_descriptor(int fd) noexcept;

}  // namespace kfp::util
