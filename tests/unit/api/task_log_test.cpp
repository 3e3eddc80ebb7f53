#include "api/task_log.hpp"

#include "unit/api/fake_transport.hpp"
#include "unit/api/sent_request.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace kfp;

TEST_CASE("a log line loses its terminal escapes, keeps what a carriage return left, and is valid UTF-8") {
  CHECK(api::clean_log_line("\x1b[31mred\x1b[0m plain") == "red plain");
  CHECK(api::clean_log_line("\x1b[1;38;5;196m"
                            "bold\x1b[K") == "bold");
  CHECK(api::clean_log_line("\x1b]0;title\x07"
                            "after") == "after");
  CHECK(api::clean_log_line("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "link");
  CHECK(api::clean_log_line("10%\r50%\r100% done") == "100% done");
  CHECK(api::clean_log_line("windows line\r") == "windows line");
  CHECK(api::clean_log_line("tab\tkept, bell\x07"
                            " and nul\x01"
                            " gone") == "tab\tkept, bell and nul gone");
  CHECK(api::clean_log_line("bad \xff"
                            " byte") ==
        "bad \xEF\xBF\xBD"
        " byte");
  CHECK(api::clean_log_line("cut \xE2\x82") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(api::clean_log_line("unicode é ✓") == "unicode é ✓");
  CHECK(api::clean_log_line("dangling \x1b[") == "dangling ");
}

TEST_CASE("the tail keeps the last N lines of any input, each line capped, in bounded memory") {
  api::LogTail tail(3, 16);
  tail.begin();
  // Many lines in awkward pieces: only the last three survive.
  std::string input;
  for (int i = 0; i < 100000; ++i) input += "line " + std::to_string(i) + "\n";
  for (std::size_t at = 0; at < input.size(); at += 4093)
    tail.append(std::string_view(input).substr(at, 4093));
  CHECK(tail.text() == "line 99997\nline 99998\nline 99999");
  CHECK(tail.bytes_seen() == input.size());
  // A 10 MiB line keeps its first 16 bytes.
  const std::string huge(10 << 20, 'x');
  tail.append(huge);
  tail.append("\nlast");
  const std::string text = tail.text();
  CHECK(text == "line 99999\n" + std::string(16, 'x') + "…\nlast");  // the unfinished line is one of 3
  CHECK(text.size() < 64);
  // begin() starts afresh (a request sent again).
  tail.begin();
  tail.append("fresh");
  CHECK(tail.text() == "fresh");
}

TEST_CASE("a capped line is cut at a UTF-8 boundary, and zero lines keep nothing") {
  api::LogTail tail(2, 5);
  tail.begin();
  tail.append(
      "abcé\xC3\xA9"
      "zz\n");  // the cap falls inside the second é
  CHECK(tail.text() == "abcé…");
  api::LogTail none(0);
  none.begin();
  none.append("a\nb\nc");
  CHECK(none.text().empty());
}

namespace {

struct LogFixture : test::FakeConnection {
  LogFixture() : FakeConnection(test::connection_options("http://kfp.example:8888/pipeline", 0)) {}
};

}  // namespace

TEST_CASE("the log endpoint is asked for the pod by name, and its body streams into the tail") {
  LogFixture f;
  std::string body;
  for (int i = 1; i <= 200; ++i) body += "\x1b[32mstep " + std::to_string(i) + "\x1b[0m\n";
  f.transport.answer(200, body, "text/plain");
  auto log = api::read_task_log(f.connection, "run 1", "p-abc-system-container-impl-12", 3);
  REQUIRE(log.has_value());
  CHECK(log->tail == "step 198\nstep 199\nstep 200");
  CHECK(log->error.empty());
  CHECK(test::path_of(f.sent(0)) ==
        "/pipeline/apis/v1alpha1/runs/run%201/nodes/p-abc-system-container-impl-12/log");
  CHECK(f.sent(0).body_sink != nullptr);
}

TEST_CASE("the handler's late error, appended to a 200, is the log's error and not a log line") {
  LogFixture f;
  // run_log_server.go writes 200 first; ReadLog's failure is appended as an api.Error.
  f.transport.answer(
      200,
      R"({"error_message":"Failed to read logs for run r1: InternalServerError: Failed to read logs from pod p1 due to error opening log stream: pods \"p1\" not found","error_details":"..."})",
      "text/plain");
  auto log = api::read_task_log(f.connection, "r1", "p1", 50);
  REQUIRE(log.has_value());
  CHECK(log->tail.empty());
  CHECK(log->error.find("pods \"p1\" not found") != std::string::npos);

  LogFixture g;
  g.transport.answer(200, "first\nhalf a line{\"error_message\":\"stream broke\",\"error_details\":\"x\"}",
                     "text/plain");
  auto cut = api::read_task_log(g.connection, "r1", "p1", 50);
  REQUIRE(cut.has_value());
  CHECK(cut->tail == "first\nhalf a line");
  CHECK(cut->error == "stream broke");
}

TEST_CASE("a log endpoint answering 404 or 500 fails with the server's words") {
  LogFixture f;
  f.transport.answer(404, "404 page not found", "text/plain");
  auto missing = api::read_task_log(f.connection, "r1", "p1", 50);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().kind == util::ErrorKind::not_found);
  LogFixture g;
  g.transport.answer(500, R"({"error_message":"boom","error_details":"boom"})");
  auto broken = api::read_task_log(g.connection, "r1", "p1", 50);
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().message.find("boom") != std::string::npos);
}
