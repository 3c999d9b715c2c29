#include "backends/target/line_bytes.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tlsweep::backends {
namespace {

bool IsControl(unsigned char byte) { return (byte < 0x20 && byte != '\t') || byte == 0x7f; }

// Length of the valid UTF-8 sequence at text[at], or 0 when it is not one (overlong forms,
// surrogates and code points above U+10FFFF included).
size_t Utf8Length(absl::string_view text, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint32_t min = 0;
  uint32_t code = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, min = 0x80, code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min = 0x800, code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min = 0x10000, code = lead & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(at + i) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

absl::Status CheckLineBytes(absl::string_view text) {
  for (size_t at = 0; at < text.size();) {
    const auto byte = static_cast<unsigned char>(text[at]);
    if (IsControl(byte)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("control character 0x%02x at column %d", byte, at + 1));
    }
    const size_t length = Utf8Length(text, at);
    if (length == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "byte 0x%02x at column %d is not UTF-8 (save the list as UTF-8)", byte, at + 1));
    }
    at += length;
  }
  return absl::OkStatus();
}

std::string EscapeLineBytes(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    const auto byte = static_cast<unsigned char>(text[at]);
    const size_t length = IsControl(byte) ? 0 : Utf8Length(text, at);
    if (length == 0) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
      ++at;
    } else if (byte == '\\') {
      out += "\\\\";
      ++at;
    } else {
      out.append(text.data() + at, length);
      at += length;
    }
  }
  return out;
}

}  // namespace tlsweep::backends
