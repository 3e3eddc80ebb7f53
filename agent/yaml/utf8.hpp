#pragma once
// UTF-8 sequences, for the loader's text check and the converter's !!binary strings.

#include <cstddef>
#include <string>
#include <string_view>

namespace kfp::yaml {

// The length of the well-formed UTF-8 sequence starting at bytes[at] (1 to 4), or 0 when the bytes
// there are not one (a stray continuation byte, a truncated or overlong sequence, a surrogate).
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view bytes, std::size_t at);

// `bytes` with every byte that starts no well-formed sequence replaced by U+FFFD, as Go's
// encoding/json writes a string.
[[nodiscard]] std::string coerce_utf8(std::string_view bytes);

}  // namespace kfp::yaml
