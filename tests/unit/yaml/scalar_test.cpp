// The one scalar resolution (yaml.v3's resolve(), as the KFP server decodes packages), case by case
// from gopkg.in/yaml.v3 v3.0.1 resolve.go, Go's strconv and time.Parse.

#include "yaml/scalar.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <string>

using kfp::yaml::parse_timestamp;
using kfp::yaml::resolve_plain;
using kfp::yaml::resolve_tagged;
using kfp::yaml::Scalar;

namespace {

std::string json(std::string_view text) {
  const Scalar scalar = resolve_plain(text);
  if (!scalar.finite) return "not finite";
  return boost::json::serialize(scalar.value);
}

bool ambiguous(std::string_view text) {
  return resolve_plain(text).yaml_1_2.has_value();
}

}  // namespace

TEST_CASE("resolveMap: nulls, booleans and the special floats, in the spellings yaml.v3 lists") {
  for (const char* text : {"", "~", "null", "Null", "NULL"}) CHECK(json(text) == "null");
  for (const char* text : {"true", "True", "TRUE"}) CHECK(json(text) == "true");
  for (const char* text : {"false", "False", "FALSE"}) CHECK(json(text) == "false");
  for (const char* text : {"yes", "no", "on", "off", "y", "n", "tRUE", "nULL"})
    CHECK(json(text) == "\"" + std::string(text) + "\"");
  for (const char* text : {".inf", "-.Inf", "+.INF", ".nan", ".NaN"}) CHECK(json(text) == "not finite");
}

TEST_CASE("integers: strconv.ParseInt and ParseUint with base 0 after removing every '_'") {
  CHECK(json("0") == "0");
  CHECK(json("+12") == "12");
  CHECK(json("-0") == "0");
  CHECK(json("0x1F") == "31");
  CHECK(json("0X1f") == "31");
  CHECK(json("-0x10") == "-16");
  CHECK(json("0o17") == "15");
  CHECK(json("0O17") == "15");
  CHECK(json("017") == "15");
  CHECK(json("0b101") == "5");
  CHECK(json("0b-101") == "-5");  // yaml.v3's own 0b branch: ParseInt("-101", 2)
  CHECK(json("0o-17") == "-15");
  CHECK(json("1_000") == "1000");
  CHECK(json("1__0_0") == "100");
  CHECK(json("9223372036854775807") == "9223372036854775807");
  CHECK(json("-9223372036854775808") == "-9223372036854775808");
  CHECK(json("9223372036854775808") == "9223372036854775808");      // ParseUint
  CHECK(json("18446744073709551616") == "1.8446744073709552E19");   // a float at last
  CHECK(json("+18446744073709551615") == "1.8446744073709552E19");  // ParseUint refuses the sign
  CHECK(json("08") == "8E0");                                       // not octal, but a float
  CHECK(json("0x") == "\"0x\"");
  CHECK(json("0xg") == "\"0xg\"");
  CHECK(json("_1") == "\"_1\"");  // '_' is no hint: a string
  CHECK(json("1-2") == "\"1-2\"");
}

TEST_CASE("floats: yamlStyleFloat then strconv.ParseFloat; an overflow stays text, an underflow is 0") {
  CHECK(json("1.5") == "1.5E0");
  CHECK(json("-1.") == "-1E0");
  CHECK(json(".5") == "5E-1");
  CHECK(json("+.5e1") == "5E0");
  CHECK(json("1e3") == "1E3");
  CHECK(json("1E-3") == "1E-3");
  CHECK(json("1e400") == "\"1e400\"");
  CHECK(json("-1e400") == "\"-1e400\"");
  CHECK(json(".5e400") == "\".5e400\"");
  CHECK(json("1e-400") == "0E0");
  CHECK(json("1_0.5") == "1.05E1");
  CHECK(json("1e") == "\"1e\"");
  CHECK(json(".") == "\".\"");
  CHECK(json("0x1p3") == "\"0x1p3\"");  // Go's hex floats are not yamlStyleFloat
  CHECK(json("Infinity") == "\"Infinity\"");
}

TEST_CASE("timestamps: yaml.v3's four layouts, written as encoding/json writes a time.Time") {
  CHECK(parse_timestamp("2001-12-14") == std::optional<std::string>("2001-12-14T00:00:00Z"));
  CHECK(parse_timestamp("2001-2-3") == std::optional<std::string>("2001-02-03T00:00:00Z"));
  CHECK(parse_timestamp("2001-12-14t21:59:43.10-05:00") ==
        std::optional<std::string>("2001-12-14T21:59:43.1-05:00"));
  CHECK(parse_timestamp("2001-12-14T21:59:43Z") == std::optional<std::string>("2001-12-14T21:59:43Z"));
  CHECK(parse_timestamp("2001-12-14T21:59:43+00:00") == std::optional<std::string>("2001-12-14T21:59:43Z"));
  CHECK(parse_timestamp("2001-12-14 21:59:43.123456789123") ==
        std::optional<std::string>("2001-12-14T21:59:43.123456789Z"));
  CHECK(parse_timestamp("2001-12-14  1:2:3") == std::optional<std::string>("2001-12-14T01:02:03Z"));
  CHECK(parse_timestamp("2024-02-29") == std::optional<std::string>("2024-02-29T00:00:00Z"));
  // Not timestamps: yaml.v3 goes on to numbers and strings.
  CHECK_FALSE(parse_timestamp("2023-02-29").has_value());  // day out of range
  CHECK_FALSE(parse_timestamp("2001-13-01").has_value());
  CHECK_FALSE(parse_timestamp("2001-12-14 21:59:43.10 -5").has_value());  // time.Parse cannot
  CHECK_FALSE(parse_timestamp("2001-12-14T21:59:60Z").has_value());
  CHECK_FALSE(parse_timestamp("2001-12-14T21:59:43").has_value());  // 'T' needs a zone
  CHECK_FALSE(parse_timestamp("12001-12-14").has_value());
  CHECK(json("2001-12-14") == "\"2001-12-14T00:00:00Z\"");
  CHECK(resolve_plain("2001-12-14").kind == Scalar::Kind::timestamp);
  CHECK(json("2001-13-14") == "\"2001-13-14\"");
}

TEST_CASE("explicit tags: the text must fit the tag, !!float takes an integer, unknown tags keep text") {
  CHECK(boost::json::serialize(resolve_tagged("tag:yaml.org,2002:int", "0x10")->value) == "16");
  CHECK(boost::json::serialize(resolve_tagged("tag:yaml.org,2002:float", "3")->value) == "3E0");
  CHECK(boost::json::serialize(resolve_tagged("tag:yaml.org,2002:str", "true")->value) == "\"true\"");
  CHECK(boost::json::serialize(resolve_tagged("tag:yaml.org,2002:null", "~")->value) == "null");
  CHECK(boost::json::serialize(resolve_tagged("!local", "12")->value) == "\"12\"");
  CHECK(boost::json::serialize(resolve_tagged("tag:yaml.org,2002:timestamp", "2001-12-14")->value) ==
        "\"2001-12-14T00:00:00Z\"");
  auto refused = resolve_tagged("tag:yaml.org,2002:int", "2001-12-14");  // no timestamps under !!int
  REQUIRE(refused.has_error());
  CHECK(refused.error().message == "cannot decode !!str `2001-12-14` as a !!int");
  CHECK(resolve_tagged("tag:yaml.org,2002:bool", "yes").has_error());
  CHECK(resolve_tagged("tag:yaml.org,2002:null", "0").has_error());
}

TEST_CASE("the YAML 1.2 core schema disagrees exactly on yaml.v3's YAML 1.1 rules") {
  for (const std::string text : {"010", "-010", "0b11", "0B11", "0X1F", "0O17", "+0x10", "-0o17", "1_000",
                                 "2001-12-14", "1e400", "-1e400", ".5e400"}) {
    CAPTURE(text);
    CHECK(ambiguous(text));
  }
  for (const std::string text : {"0",   "00",    "007",  "10",   "-3",
                                 "+3",  "0o17",  "0x1f", "0x1F", "08",
                                 "1.5", ".5",    "1e3",  "-.5",  "99999999999999999999",
                                 "x",   "1.2.3", "-",    "true", "null",
                                 ".inf"}) {
    CAPTURE(text);
    CHECK_FALSE(ambiguous(text));
  }
}
