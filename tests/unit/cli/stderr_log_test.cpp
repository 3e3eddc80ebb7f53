#include "cli/stderr_log.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

using namespace kfp;

namespace {

// What a StderrLog wrote to its stream.
std::string written(std::FILE* stream) {
  std::fflush(stream);
  std::rewind(stream);
  std::string out;
  for (int c = std::fgetc(stream); c != EOF; c = std::fgetc(stream)) out.push_back(static_cast<char>(c));
  return out;
}

}  // namespace

TEST_CASE("on a terminal the wait is one line redrawn in place; in a CI log, plain lines without escapes") {
  util::Secrets secrets;
  {
    std::FILE* stream = std::tmpfile();
    REQUIRE(stream != nullptr);
    {
      cli::StderrLog log(0, cli::Terminal::yes, false, secrets, stream);
      CHECK(log.redraws_progress());
      log.progress("run r1 RUNNING (1s)");
      log.progress("run r1 RUNNING (2s), tasks 0/2 done");
      log.info("task a FAILED: boom");
    }
    CHECK(written(stream) ==
          "\r\033[2Krun r1 RUNNING (1s)\r\033[2Krun r1 RUNNING (2s), tasks 0/2 done\nkfp-publish: task a "
          "FAILED: boom\n");
    std::fclose(stream);
  }
  {
    std::FILE* stream = std::tmpfile();
    REQUIRE(stream != nullptr);
    {
      cli::StderrLog log(0, cli::Terminal::no, false, secrets, stream);
      CHECK_FALSE(log.redraws_progress());
      log.progress("run r1 RUNNING (1s)");
      log.progress("run r1 RUNNING (2s)");
    }
    const std::string text = written(stream);
    CHECK(text == "kfp-publish: run r1 RUNNING (1s)\nkfp-publish: run r1 RUNNING (2s)\n");
    CHECK(text.find('\033') == std::string::npos);
    CHECK(text.find('\r') == std::string::npos);
    std::fclose(stream);
  }
  {
    cli::StderrLog quiet(-1, cli::Terminal::yes, false, secrets, stderr);
    CHECK_FALSE(quiet.redraws_progress());  // -q: no progress at all
  }
}
