// A bounds-checked reader over TLS wire data: every read fails cleanly past the end, so parsers
// of hostile input are chains of `if (!reader.U16(x)) return Malformed(...)`.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace tlsweep::backends::rawhello {

class ByteReader {
 public:
  explicit ByteReader(absl::string_view data) : data_(data) {}

  bool U8(uint8_t& out) {
    if (data_.empty()) return false;
    out = static_cast<uint8_t>(data_[0]);
    data_.remove_prefix(1);
    return true;
  }
  bool U16(uint16_t& out) {
    uint8_t high, low;
    if (data_.size() < 2 || !U8(high) || !U8(low)) return false;
    out = static_cast<uint16_t>(high << 8 | low);
    return true;
  }
  bool U24(uint32_t& out) {
    uint8_t high;
    uint16_t low;
    if (data_.size() < 3 || !U8(high) || !U16(low)) return false;
    out = static_cast<uint32_t>(high) << 16 | low;
    return true;
  }
  bool Bytes(size_t n, absl::string_view& out) {
    if (data_.size() < n) return false;
    out = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  bool Vector8(absl::string_view& out) {
    uint8_t n;
    return U8(n) && Bytes(n, out);
  }
  bool Vector16(absl::string_view& out) {
    uint16_t n;
    return U16(n) && Bytes(n, out);
  }
  bool Vector24(absl::string_view& out) {
    uint32_t n;
    return U24(n) && Bytes(n, out);
  }

  bool empty() const { return data_.empty(); }
  size_t size() const { return data_.size(); }
  absl::string_view rest() const { return data_; }

 private:
  absl::string_view data_;
};

}  // namespace tlsweep::backends::rawhello
