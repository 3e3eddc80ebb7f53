#include "util/file.hpp"

#include "util/interrupt.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <initializer_list>

namespace kfp::util {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }
  // Closes now, returning close()'s errno (0 on success): a close can report a failed write.
  int close() {
    const int result = ::close(std::exchange(fd_, -1));
    return result == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

std::string errno_text(int error) {
  return std::strerror(error);
}

Failure usage_failure(std::string_view what, const std::filesystem::path& path, int error) {
  return fail(ErrorKind::usage, fmt::format("cannot {} {}: {}", what, path.string(), errno_text(error)));
}

Failure interrupted_failure(std::string_view what, const std::filesystem::path& path) {
  return fail(ErrorKind::interrupted,
              fmt::format("interrupted by a signal while {} {}", what, path.string()));
}

// open(2), retried after a signal unless the signal asked us to stop (then -1 with errno EINTR).
int open_interruptibly(const std::filesystem::path& path, int flags, mode_t mode = 0) {
  for (;;) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0 || errno != EINTR || interrupted()) return fd;
  }
}

Result<void> write_all(int fd, std::string_view content, const std::filesystem::path& path) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) {
        if (interrupted()) return interrupted_failure("writing", path);
        continue;
      }
      return usage_failure("write", path, errno);
    }
    // A signal during a blocked write (a FIFO nobody reads) ends it after part of the content, without
    // EINTR. Writes after an earlier signal (the report of an interrupted run) still go through.
    if (static_cast<std::size_t>(n) < content.size() && interrupted()) {
      return interrupted_failure("writing", path);
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

const char* special_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "FIFO";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISDIR(mode)) return "directory";
  return "special file";
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// 1 or 2 when `target` is the file behind our own stdout or stderr (`--report /dev/stdout`), else -1:
// that file is written through the descriptor, after what was printed, never reopened or replaced.
int standard_stream_of(const struct stat& target) {
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && same_file(st, target)) return fd;
  }
  return -1;
}

// Whether `path` is the root of a mount (a bind-mounted file): nothing can be renamed onto it.
bool is_mount_root(const std::filesystem::path& path) {
  struct statx info {};
  if (::statx(AT_FDCWD, path.c_str(), 0, STATX_BASIC_STATS, &info) != 0) return false;
  return (info.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
         (info.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

std::filesystem::path directory_of(const std::filesystem::path& path) {
  auto parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

// Creates a new, uniquely named file in `directory` (O_EXCL), for the atomic replace and its probe.
std::pair<int, std::filesystem::path> create_temporary(const std::filesystem::path& directory) {
  static unsigned counter = 0;
  constexpr int max_attempts = 100;
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    auto candidate = directory / fmt::format(".kfp-publish-{}-{}.tmp", ::getpid(), counter++);
    const int fd = open_interruptibly(candidate, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0 || errno != EEXIST) return {fd, candidate};
  }
  errno = EEXIST;
  return {-1, {}};
}

// Opens an existing or new file for writing without blocking on a FIFO that has no reader yet, then
// makes the descriptor blocking again so a slow reader gets all of the content.
Result<int> open_for_writing(const std::filesystem::path& path, int flags) {
  const int fd = open_interruptibly(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | flags, 0644);
  if (fd < 0) {
    if (errno == EINTR) return interrupted_failure("opening", path);
    if (errno == ENXIO) {
      return fail(ErrorKind::usage,
                  fmt::format("cannot write {}: it is a FIFO that no process reads", path.string()));
    }
    return usage_failure("open", path, errno);
  }
  const int status = ::fcntl(fd, F_GETFL);
  if (status >= 0) ::fcntl(fd, F_SETFL, status & ~O_NONBLOCK);
  return fd;
}

Result<void> write_in_place(const std::filesystem::path& path, std::string_view content, int flags) {
  auto opened = open_for_writing(path, flags);
  if (!opened) return opened.error();
  Fd fd(*opened);
  if (auto written = write_all(fd.get(), content, path); !written) return written;
  struct stat st {};
  // Devices and FIFOs cannot be synced (EINVAL); a regular file must be.
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && ::fsync(fd.get()) != 0) {
    return usage_failure("write", path, errno);
  }
  if (const int error = fd.close(); error != 0 && error != EINTR) return usage_failure("write", path, error);
  return {};
}

enum class Replaced { yes, needs_in_place };

// Errors that say "this directory or mount does not take a new file or a rename here", after which
// an existing file is written in place: EBUSY (a mount point), EXDEV, and a directory we may not write
// (/dev/termination-log under a read-only /dev, a read-only root file system).
bool rename_impossible(int error) {
  return error == EBUSY || error == EXDEV || error == EACCES || error == EPERM || error == EROFS;
}

Result<Replaced> replace_atomically(const std::filesystem::path& target, std::string_view content,
                                    const struct stat* existing) {
  auto [raw_fd, temporary] = create_temporary(directory_of(target));
  if (raw_fd < 0) {
    const int error = errno;
    if (error == EINTR) return interrupted_failure("creating a file beside", target);
    if (existing != nullptr && rename_impossible(error)) return Replaced::needs_in_place;
    return usage_failure("create", target, error);
  }
  Fd fd(raw_fd);
  // A replaced file keeps its permissions (umask applies to new ones).
  if (existing != nullptr) (void)::fchmod(fd.get(), existing->st_mode & 07777);
  auto written = write_all(fd.get(), content, target);
  if (written && ::fsync(fd.get()) != 0) written = usage_failure("write", target, errno);
  if (const int error = fd.close(); written && error != 0 && error != EINTR)
    written = usage_failure("write", target, error);
  if (!written) {
    ::unlink(temporary.c_str());
    return written.error();
  }
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    if (existing != nullptr && rename_impossible(error)) return Replaced::needs_in_place;
    return usage_failure("replace", target, error);
  }
  return Replaced::yes;
}

Result<void> probe_open(const std::filesystem::path& path) {
  // No O_TRUNC, no O_CREAT: opening for writing changes nothing.
  auto opened = open_for_writing(path, 0);
  if (!opened) return opened.error();
  ::close(*opened);
  return {};
}

Result<void> probe_directory(const std::filesystem::path& directory, const std::filesystem::path& for_path) {
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0) {
    return fail(ErrorKind::usage, fmt::format("cannot write {}: the directory {} does not exist ({})",
                                              for_path.string(), directory.string(), errno_text(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail(ErrorKind::usage,
                fmt::format("cannot write {}: {} is not a directory", for_path.string(), directory.string()));
  }
  auto [fd, temporary] = create_temporary(directory);
  if (fd < 0) {
    return fail(ErrorKind::usage, fmt::format("cannot write {}: cannot create files in {}: {}",
                                              for_path.string(), directory.string(), errno_text(errno)));
  }
  ::close(fd);
  ::unlink(temporary.c_str());
  return {};
}

// The file a replace acts on: a symlink's final target (the links stay), else the path. A dangling
// link names the file to create.
Result<std::filesystem::path> replace_target(const std::filesystem::path& path) {
  constexpr int max_links = 40;  // as the kernel's MAXSYMLINKS
  std::filesystem::path current = path;
  for (int links = 0; links < max_links; ++links) {
    std::error_code ec;
    if (!std::filesystem::is_symlink(std::filesystem::symlink_status(current, ec))) return current;
    auto next = std::filesystem::read_symlink(current, ec);
    if (ec) {
      return fail(ErrorKind::usage,
                  fmt::format("cannot resolve the symlink {}: {}", current.string(), ec.message()));
    }
    current = next.is_absolute() ? next : directory_of(current) / next;
  }
  return fail(ErrorKind::usage, fmt::format("cannot write {}: too many levels of symlinks", path.string()));
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes, ErrorKind kind) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type check below refuses it.
  Fd fd(open_interruptibly(path, O_RDONLY | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    if (errno == EINTR) return interrupted_failure("opening", path);
    return fail(kind, fmt::format("cannot open {}: {}", path.string(), errno_text(errno)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return fail(kind, fmt::format("cannot stat {}: {}", path.string(), errno_text(errno)));
  if (S_ISDIR(st.st_mode)) return fail(kind, fmt::format("{} is a directory, not a file", path.string()));
  if (!S_ISREG(st.st_mode)) {
    return fail(kind, fmt::format("{} is a {}, not a regular file", path.string(), special_kind(st.st_mode)),
                "kfp-publish reads only regular files (a FIFO or device can block without end): write the "
                "content to a file first");
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    return fail(kind, fmt::format("{} is {} bytes, over the limit of {} bytes", path.string(), st.st_size,
                                  max_bytes));
  }
  std::string content;
  content.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        if (interrupted()) return interrupted_failure("reading", path);
        continue;
      }
      return fail(kind, fmt::format("cannot read {}: {}", path.string(), errno_text(errno)));
    }
    if (n == 0) break;
    if (content.size() + static_cast<std::size_t>(n) > max_bytes) {
      return fail(kind, fmt::format("{} is over the limit of {} bytes", path.string(), max_bytes));
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

Result<void> write_file(const std::filesystem::path& path, std::string_view content, WriteMode mode) {
  if (mode == WriteMode::append) return write_in_place(path, content, O_APPEND | O_CREAT);

  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) return usage_failure("write", path, errno);
  if (exists) {
    if (S_ISDIR(st.st_mode) || S_ISSOCK(st.st_mode)) {
      return fail(ErrorKind::usage,
                  fmt::format("cannot write {}: it is a {}", path.string(), special_kind(st.st_mode)));
    }
    if (const int fd = standard_stream_of(st); fd >= 0) return write_all(fd, content, path);
    if (!S_ISREG(st.st_mode)) return write_in_place(path, content, O_TRUNC);
  }
  if (mode == WriteMode::in_place) return write_in_place(path, content, O_CREAT | O_TRUNC);

  auto target = replace_target(path);
  if (!target) return target.error();
  if (exists && is_mount_root(*target)) return write_in_place(*target, content, O_TRUNC);
  auto replaced = replace_atomically(*target, content, exists ? &st : nullptr);
  if (!replaced) return replaced.error();
  if (*replaced == Replaced::needs_in_place) return write_in_place(*target, content, O_TRUNC);
  return {};
}

Result<void> check_writable(const std::filesystem::path& path, WriteMode mode) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return usage_failure("write", path, errno);
    auto target = replace_target(path);
    if (!target) return target.error();
    return probe_directory(directory_of(*target), path);
  }
  if (S_ISDIR(st.st_mode) || S_ISSOCK(st.st_mode)) {
    return fail(ErrorKind::usage,
                fmt::format("cannot write {}: it is a {}", path.string(), special_kind(st.st_mode)));
  }
  if (const int fd = standard_stream_of(st); fd >= 0) {
    if (writable_descriptor(fd)) return {};
    return fail(ErrorKind::usage, fmt::format("cannot write {}: it is this process's closed {}",
                                              path.string(), fd == STDOUT_FILENO ? "stdout" : "stderr"));
  }
  if (S_ISFIFO(st.st_mode)) return {};
  if (!S_ISREG(st.st_mode) || mode != WriteMode::replace) return probe_open(path);
  auto target = replace_target(path);
  if (!target) return target.error();
  if (is_mount_root(*target)) return probe_open(*target);
  // The rename needs the directory; where it refuses, write_file falls back to writing in place.
  if (probe_directory(directory_of(*target), path)) return {};
  return probe_open(*target);
}

void occupy_closed_standard_descriptors() noexcept {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // The lowest free descriptor is `fd` itself, the lower ones being open by now.
    const int opened = ::open("/dev/null", O_RDONLY);
    if (opened >= 0 && opened != fd) {
      ::dup2(opened, fd);
      ::close(opened);
    }
  }
}

bool writable_descriptor(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_ACCMODE) != O_RDONLY;
}

}  // namespace kfp::util
