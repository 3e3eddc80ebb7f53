#pragma once
// The whole program behind main(): parses the command line, runs one command, prints the result
// and the report, writes the CI outputs, and returns the exit code. Never throws.

#include "util/environment.hpp"

#include <cstdio>

namespace kfp::cli {

struct Streams {
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

[[nodiscard]] int run_cli(int argc, const char* const* argv, const util::Environment& env,
                          Streams streams = {});

}  // namespace kfp::cli
