// libFuzzer target: arbitrary bytes as a pipeline document (package::parse) and as an upload
// under a file name chosen by the first byte (package::parse_upload: YAML, JSON, zip, tar.gz, or
// by magic bytes), so the YAML/JSON readers, the validator and the libarchive path all see them.

#include "package/package.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

constexpr std::array<std::string_view, 6> kUploadNames{"pipeline.yaml", "pipeline.yml",    "pipeline.json",
                                                       "pipeline.zip",  "pipeline.tar.gz", "pipeline"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  (void)kfp::package::parse(bytes, "fuzz.yaml");
  if (size > 0) {
    const std::string name(kUploadNames[data[0] % kUploadNames.size()]);
    (void)kfp::package::parse_upload(std::move(bytes), name);
  }
  return 0;
}
