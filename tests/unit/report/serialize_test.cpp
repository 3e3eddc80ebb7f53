#include "report/serialize.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

using namespace kfp;

namespace {

report::Report failed_report(std::string message) {
  report::Report report;
  report.command = "publish";
  report.pipeline = report::ObjectInfo{"pid-1", "hello", true, "", "", ""};
  report.version = report::ObjectInfo{
      "vid-1", "v1", true, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "", ""};
  report.set_failure(util::fail(util::ErrorKind::server, std::move(message), std::string(2000, 'h')));
  return report;
}

boost::json::object parse(const std::string& text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  REQUIRE_MESSAGE(!ec, text);
  REQUIRE(value.is_object());
  return value.as_object();
}

}  // namespace

TEST_CASE("a report that fits is the whole report, unmarked") {
  util::Secrets secrets;
  auto report = failed_report("short");
  report.error->hint = "a hint";
  const auto text = report::termination_message(report, secrets);
  CHECK(text == report::to_json_text(report, secrets));
  CHECK_FALSE(parse(text).contains("truncated"));
}

TEST_CASE("the termination message always fits and parses, whatever the strings hold") {
  util::Secrets secrets;
  // Multi-byte characters, characters JSON escapes (6 bytes each) and bytes that are not UTF-8,
  // at every length around the cut.
  const std::string pieces[] = {"é", "€", "𝄞", "\"", "\\", "\x01", "\xff", "a"};
  for (std::size_t max_bytes : {600, 1024, 4096}) {
    for (const auto& piece : pieces) {
      for (std::size_t count : {100, 700, 5000}) {
        std::string message;
        for (std::size_t i = 0; i < count; ++i) message += piece;
        auto report = failed_report(message);
        report.details["objects"] =
            boost::json::array(1000, boost::json::object{{"name", message.substr(0, 50)}});
        const auto text = report::termination_message(report, secrets, max_bytes);
        CHECK(text.size() <= max_bytes);
        auto object = parse(text);
        CHECK(object.at("truncated").as_bool());
        CHECK(object.at("exit_code").as_int64() == 7);
        CHECK(object.at("error").at("kind").as_string() == "server");
      }
    }
  }
}

TEST_CASE("trimming keeps ids and digests and shortens the long strings first") {
  util::Secrets secrets;
  auto report = failed_report(std::string(6000, 'm'));
  auto object = parse(report::termination_message(report, secrets));
  CHECK(object.at("version").at("digest").as_string().size() == 71);
  CHECK(object.at("pipeline").at("id").as_string() == "pid-1");
  const auto message = std::string(object.at("error").at("message").as_string());
  CHECK(message.size() <= 512);
  CHECK(message.substr(message.size() - 3) == "…");
}

TEST_CASE("strings that are not UTF-8 give valid JSON") {
  util::Secrets secrets;
  report::Report report;
  report.command = "validate";
  report.details["packages"] = boost::json::array{boost::json::object{{"path", "bad-\xff\xfe-name.yaml"}}};
  report.details["bad-\xc3-key"] = "truncated \xe2\x82";
  const auto text = report::to_json_text(report, secrets);
  auto object = parse(text);
  CHECK(object.at("packages").at(0).at("path").as_string() == "bad-\xEF\xBF\xBD\xEF\xBF\xBD-name.yaml");
  CHECK(object.contains("bad-\xEF\xBF\xBD-key"));
}

TEST_CASE("secrets are redacted in every string and key before serialization") {
  util::Secrets secrets;
  const std::string token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.SIGNATURE-abcdefghijklmnop";
  secrets.add(token);
  secrets.add("user:p\"ss@", util::Secrets::Kind::credentials);
  auto report = failed_report("server said: Authorization: Bearer " + token);
  report.error->hint = "see http://user:p\"ss@host/";
  report.details[token] = token;
  for (const auto& text :
       {report::to_json_text(report, secrets), report::termination_message(report, secrets)}) {
    CHECK(text.find(token) == std::string::npos);
    CHECK(text.find("SIGNATURE") == std::string::npos);
    CHECK(text.find("p\\\"ss") == std::string::npos);
    CHECK(text.find("[REDACTED]") != std::string::npos);
    parse(text);
  }
}
