#include "util/file.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

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
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string errno_text() {
  return std::strerror(errno);
}

bool write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes, ErrorKind kind) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail(kind, fmt::format("cannot open {}: {}", path.string(), errno_text()));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return fail(kind, fmt::format("cannot stat {}: {}", path.string(), errno_text()));
  if (S_ISDIR(st.st_mode)) return fail(kind, fmt::format("{} is a directory, not a file", path.string()));
  std::string content;
  if (S_ISREG(st.st_mode)) {
    if (static_cast<std::size_t>(st.st_size) > max_bytes) {
      return fail(kind, fmt::format("{} is {} bytes, over the limit of {} bytes", path.string(), st.st_size,
                                    max_bytes));
    }
    content.reserve(static_cast<std::size_t>(st.st_size));
  }
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(kind, fmt::format("cannot read {}: {}", path.string(), errno_text()));
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
  auto failure = [&](std::string_view what) {
    return fail(ErrorKind::usage, fmt::format("cannot {} {}: {}", what, path.string(), errno_text()));
  };
  if (mode == WriteMode::append) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0) return failure("open");
    if (!write_all(fd.get(), content)) return failure("write");
    return {};
  }
  std::filesystem::path temporary = path;
  temporary += fmt::format(".tmp{}", ::getpid());
  {
    Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return failure("create");
    if (!write_all(fd.get(), content) || ::fsync(fd.get()) != 0) {
      auto result = failure("write");
      ::unlink(temporary.c_str());
      return result;
    }
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    auto result = failure("replace");
    ::unlink(temporary.c_str());
    return result;
  }
  return {};
}

}  // namespace kfp::util
