#include "yaml/utf8.hpp"

#include <cstdint>

namespace kfp::yaml {

std::size_t utf8_sequence_length(std::string_view bytes, std::size_t at) {
  const auto lead = static_cast<unsigned char>(bytes[at]);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  std::uint32_t minimum = 0;
  if ((lead & 0xe0U) == 0xc0U) {
    length = 2;
    minimum = 0x80;
  } else if ((lead & 0xf0U) == 0xe0U) {
    length = 3;
    minimum = 0x800;
  } else if ((lead & 0xf8U) == 0xf0U) {
    length = 4;
    minimum = 0x10000;
  } else {
    return 0;
  }
  if (at + length > bytes.size()) return 0;
  std::uint32_t code_point = lead & (0x7fU >> length);
  for (std::size_t k = 1; k < length; ++k) {
    const auto continuation = static_cast<unsigned char>(bytes[at + k]);
    if ((continuation & 0xc0U) != 0x80U) return 0;
    code_point = (code_point << 6U) | (continuation & 0x3fU);
  }
  if (code_point < minimum || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff))
    return 0;
  return length;
}

std::string coerce_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    if (const std::size_t length = utf8_sequence_length(bytes, i); length != 0) {
      out.append(bytes.substr(i, length));
      i += length;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

}  // namespace kfp::yaml
