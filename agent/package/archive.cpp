#include "package/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <memory>
#include <optional>

namespace kfp::package {

namespace {

// Declared member sizes skipped while scanning; a tar must be inflated to skip, so this bounds time.
constexpr std::size_t max_archive_scanned_bytes = std::size_t{256} << 20;
constexpr std::size_t read_chunk_bytes = std::size_t{64} * 1024;
constexpr std::string_view pipeline_member_name = "pipeline.yaml";

struct ArchiveFree {
  void operator()(archive* handle) const noexcept { archive_read_free(handle); }
};
using ArchiveHandle = std::unique_ptr<archive, ArchiveFree>;

std::string_view format_noun(ArchiveFormat format) {
  return format == ArchiveFormat::zip ? "zip archive" : "gzipped tarball";
}

std::string archive_error(archive* handle) {
  const char* text = archive_error_string(handle);
  return text != nullptr ? text : "unknown libarchive error";
}

util::Failure invalid(std::string message) {
  return util::fail(util::ErrorKind::invalid_package, std::move(message));
}

util::Result<ArchiveHandle> open_archive(std::string_view bytes, ArchiveFormat format,
                                         const std::string& origin) {
  ArchiveHandle handle(archive_read_new());
  if (!handle) return util::fail(util::ErrorKind::internal, "libarchive: out of memory");
  if (format == ArchiveFormat::zip) {
    archive_read_support_format_zip(handle.get());
  } else {
    archive_read_support_filter_gzip(handle.get());
    archive_read_support_format_tar(handle.get());
  }
  if (archive_read_open_memory(handle.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return invalid(
        fmt::format("{}: not a valid {}: {}", origin, format_noun(format), archive_error(handle.get())));
  }
  return handle;
}

// True when extracting `name` relative to a directory could land outside it.
bool escapes_archive(std::string_view name) {
  if (name.empty()) return false;
  if (name.front() == '/' || name.front() == '\\') return true;
  if (name.size() >= 2 && name[1] == ':') return true;  // a Windows drive, "C:..."
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

bool has_yaml_suffix(std::string_view name) {
  return name.ends_with(".yaml") || name.ends_with(".yml");
}

struct Scan {
  std::size_t members = 0;
  std::string first_name;
  std::optional<std::size_t> pipeline_index;
};

util::Result<Scan> scan_members(archive* handle, ArchiveFormat format, const std::string& origin) {
  Scan scan;
  std::size_t declared_bytes = 0;
  for (;;) {
    archive_entry* entry = nullptr;
    int status = archive_read_next_header(handle, &entry);
    if (status == ARCHIVE_EOF) break;
    if (status < ARCHIVE_WARN) {
      return invalid(
          fmt::format("{}: not a valid {}: {}", origin, format_noun(format), archive_error(handle)));
    }
    if (++scan.members > max_archive_members) {
      return invalid(
          fmt::format("{}: more than {} members; refusing to scan further", origin, max_archive_members));
    }
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = raw_name != nullptr ? raw_name : "";
    if (escapes_archive(name)) {
      return invalid(fmt::format("{}: member \"{}\" escapes the archive", origin, name));
    }
    if (archive_entry_size_is_set(entry) != 0 && archive_entry_size(entry) > 0) {
      declared_bytes += static_cast<std::size_t>(archive_entry_size(entry));
      if (declared_bytes > max_archive_scanned_bytes) {
        return invalid(fmt::format("{}: members add up to more than {} MiB; refusing to inflate", origin,
                                   max_archive_scanned_bytes >> 20));
      }
    }
    if (scan.members == 1) scan.first_name = name;
    if (!scan.pipeline_index && name == pipeline_member_name) scan.pipeline_index = scan.members - 1;
  }
  return scan;
}

util::Result<std::string> read_member_data(archive* handle, const std::string& where, std::size_t max_bytes) {
  std::string content;
  char buffer[read_chunk_bytes];
  for (;;) {
    la_ssize_t n = archive_read_data(handle, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) return invalid(fmt::format("{}: cannot read member: {}", where, archive_error(handle)));
    if (content.size() + static_cast<std::size_t>(n) > max_bytes) {
      return invalid(
          fmt::format("{}: member inflates past the server's limit of {} MiB", where, max_bytes >> 20));
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

}  // namespace

std::optional<ArchiveFormat> sniff_archive(std::string_view bytes) {
  if (bytes.starts_with("PK")) return ArchiveFormat::zip;
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
      static_cast<unsigned char>(bytes[1]) == 0x8b) {
    return ArchiveFormat::tar_gzip;
  }
  return std::nullopt;
}

util::Result<ArchiveMember> extract_pipeline_member(std::string_view archive_bytes, ArchiveFormat format,
                                                    const std::string& origin, std::size_t max_bytes) {
  Scan scan;
  {
    auto handle = open_archive(archive_bytes, format, origin);
    if (!handle) return handle.error();
    auto scanned = scan_members(handle->get(), format, origin);
    if (!scanned) return scanned.error();
    scan = std::move(*scanned);
  }
  if (scan.members == 0) {
    return invalid(
        fmt::format("{}: the {} is empty; it needs a pipeline.yaml member", origin, format_noun(format)));
  }
  std::size_t index = scan.pipeline_index.value_or(0);
  if (!scan.pipeline_index && !has_yaml_suffix(scan.first_name)) {
    return util::fail(
        util::ErrorKind::invalid_package,
        fmt::format("{}: Expecting a pipeline.yaml file inside the {}; the first member is \"{}\"", origin,
                    format == ArchiveFormat::zip ? "zip" : "tarball", scan.first_name),
        "name the member exactly pipeline.yaml at the top of the archive (e.g. `tar czf "
        "pkg.tar.gz pipeline.yaml`, not `./pipeline.yaml`)");
  }

  // Reopen rather than buffer every member: the stream of a tarball cannot rewind.
  auto handle = open_archive(archive_bytes, format, origin);
  if (!handle) return handle.error();
  for (std::size_t i = 0;; ++i) {
    archive_entry* entry = nullptr;
    if (archive_read_next_header(handle->get(), &entry) < ARCHIVE_WARN) {
      return invalid(
          fmt::format("{}: not a valid {}: {}", origin, format_noun(format), archive_error(handle->get())));
    }
    if (i < index) continue;
    const char* raw_name = archive_entry_pathname(entry);
    ArchiveMember member;
    member.name = raw_name != nullptr ? raw_name : "";
    auto data = read_member_data(handle->get(), fmt::format("{}!{}", origin, member.name), max_bytes);
    if (!data) return data.error();
    member.bytes = std::move(*data);
    return member;
  }
}

}  // namespace kfp::package
