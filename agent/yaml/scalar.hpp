#pragma once
// The one scalar resolution of the tool. The KFP API server reads a pipeline package with
// gopkg.in/yaml.v3 (v3.0.1 in its go.mod) into map[string]interface{} and writes it out with
// encoding/json before protojson sees it: template.go isV2Spec (2.0.5-2.5.0 :74, 2.15.0/2.17.0 :77)
// and v2_template.go NewV2SpecTemplate (2.0.5 :132, 2.3.0 :147, 2.5.0 :157, 2.15.0 :174,
// 2.17.0 :197). (1.8.5 takes a PipelineSpec as JSON only; Argo Workflows go through
// sigs.k8s.io/yaml, YAML 1.1.) So a scalar here means what yaml.v3's resolve() makes of it, written
// as encoding/json writes that:
//   - null: "", ~, null, Null, NULL;  booleans: true, True, TRUE, false, False, FALSE only
//     (yes/no/on/off are strings, YAML 1.2);
//   - integers: Go's strconv.ParseInt/ParseUint with base 0 after removing every '_'
//     (10, -3, 0x1F, 0o17, 0b101, 1_000, and 017 = 15 as in YAML 1.1);
//   - floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, .inf/.nan forms (not JSON);
//     a float beyond the double range stays a string (ParseFloat fails);
//   - timestamps 2001-12-14, 2001-12-14T21:59:43.10Z, 2001-12-14 21:59:43.10 become RFC 3339 text
//     ("2001-12-14T00:00:00Z"), as encoding/json writes a time.Time;
//   - everything else, and every quoted or block scalar, is a string.
// Some of these rules are YAML 1.1 only; a Scalar says when YAML 1.2's core schema reads the same
// text otherwise, so files people write can refuse the ambiguity instead of guessing (yaml/json.hpp).

#include "util/error.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string_view>

namespace kfp::yaml {

struct Scalar {
  enum class Kind { null, boolean, integer, floating, string, timestamp };
  Kind kind = Kind::string;
  // The JSON encoding/json writes; null for .inf and .nan, which JSON cannot hold (see finite).
  boost::json::value value;
  bool finite = true;
  // Set when YAML 1.2's core schema reads the text as something else (010 is 10 there, 1_000 and
  // 2024-01-01 are strings, 1e400 is a float): what it reads instead.
  std::optional<boost::json::value> yaml_1_2;
};

// A plain (unquoted, untagged) scalar, as yaml.v3 resolves it when decoding into interface{}.
[[nodiscard]] Scalar resolve_plain(std::string_view text);

// A scalar with an explicit tag in long form ("tag:yaml.org,2002:int"), as yaml.v3's
// resolve(tag, text): !!str is text, !!int/!!float/!!bool/!!null/!!timestamp must fit the text
// (!!float takes an integer too), tags yaml.v3 does not resolve leave the text a string. Fails with
// "cannot decode !!str `x` as a !!int" (kind internal; the caller adds its location and kind).
[[nodiscard]] util::Result<Scalar> resolve_tagged(std::string_view tag, std::string_view text);

// yaml.v3's timestamp forms, as encoding/json writes a time.Time (RFC 3339 with nanoseconds,
// trailing zeros dropped, "Z" for UTC); nullopt when `text` is not one.
[[nodiscard]] std::optional<std::string> parse_timestamp(std::string_view text);

}  // namespace kfp::yaml
