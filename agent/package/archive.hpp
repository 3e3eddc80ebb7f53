#pragma once
// Reading the pipeline document out of a .zip or .tar.gz held in memory, with the server's member
// rule (shared/kfp-api/NOTES.md section D) and guards against hostile archives. Never touches disk.

#include "util/error.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kfp::package {

enum class ArchiveFormat { zip, tar_gzip };

// Members scanned before an archive is refused as hostile.
inline constexpr std::size_t max_archive_members = 10'000;

struct ArchiveMember {
  std::string name;   // the member path as stored
  std::string bytes;  // its content, at most `max_bytes`
};

// The format announced by the magic bytes ("PK", 1F 8B), if any.
[[nodiscard]] std::optional<ArchiveFormat> sniff_archive(std::string_view bytes);

// Picks the member named exactly "pipeline.yaml", else the first member, which must end in .yaml
// or .yml. Fails (invalid_package, naming `origin` and the member) on a corrupt or empty archive,
// a member path that is absolute or climbs out with "..", more than max_archive_members members,
// or a member that inflates past `max_bytes` (inflation stops there).
[[nodiscard]] util::Result<ArchiveMember> extract_pipeline_member(std::string_view archive,
                                                                  ArchiveFormat format,
                                                                  const std::string& origin,
                                                                  std::size_t max_bytes);

}  // namespace kfp::package
