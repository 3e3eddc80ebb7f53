// The driver of the fuzz targets in builds without libFuzzer (g++, the ASan build, `make test`):
// feeds each file named on the command line, or each file of each directory named, to
// LLVMFuzzerTestOneInput once. So every build compiles the targets against today's library, and the
// seeds and regression inputs are replayed by CTest (under ASan+UBSan in `make test-asan`) — the
// libFuzzer build (ci/scripts/fuzz.sh) then explores from them.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool replay(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "replay: cannot read " << file << '\n';
    return false;
  }
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  // A copy of its own, so reading past the input's end is caught by ASan as it is under libFuzzer.
  std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
  (void)LLVMFuzzerTestOneInput(input.data(), input.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.push_back(arg);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "replay: no inputs given\n";
    return 2;
  }
  for (const auto& file : files) {
    if (!replay(file)) return 1;
  }
  std::cout << "replay: " << files.size() << " inputs, no crash\n";
  return 0;
}
