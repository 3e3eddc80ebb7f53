// libFuzzer target: arbitrary bytes through the one guarded YAML path as every file kind uses it:
// the loader and converter with a package's limits and with a person's file's (both scalar
// policies, keep_text for a parameters mapping), an apply file (apply::parse_file, packages not
// loaded), and each line as a cron spec (robfig/cron's parser and apply's schedule_for_server).

#include "apply/cron.hpp"
#include "apply/file.hpp"
#include "yaml/json.hpp"
#include "yaml/load.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

void convert_all(std::string_view text, const kfp::yaml::Source& source) {
  auto documents = kfp::yaml::load_documents(text, source);
  if (!documents) return;
  kfp::yaml::NodeBudget budget(source.limits.max_nodes);
  for (const auto& document : *documents) {
    (void)kfp::yaml::to_json(document, budget, source);
    if (document.IsMap()) (void)kfp::yaml::to_json(document, source, kfp::yaml::TopLevelScalars::keep_text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  convert_all(text, kfp::yaml::package_source("fuzz.yaml"));
  convert_all(text, kfp::yaml::file_source("params.yaml", kfp::util::ErrorKind::invalid_parameters));
  (void)kfp::apply::parse_file(text, "apply.yaml", ".", kfp::apply::PackageLoading::skip);
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = std::string_view(text).substr(start, end - start);
    (void)kfp::apply::parse_cron(line);
    (void)kfp::apply::schedule_for_server(line);
    start = end + 1;
  }
  return 0;
}
