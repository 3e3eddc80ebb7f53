#pragma once
// The bytes of an input fuzzing found (tests/fuzz/seeds/package/NAME), for the tests that keep it found.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kfp::test {

inline std::string fuzz_seed(const std::string& name) {
  std::ifstream in(std::filesystem::path(KFP_SOURCE_DIR) / "tests/fuzz/seeds/package" / name,
                   std::ios::binary);
  REQUIRE(in);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace kfp::test
