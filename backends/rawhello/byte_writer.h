// Appends TLS wire encodings (big-endian integers, length-prefixed vectors) to a string. Vectors
// are written by opening a length field, writing the body, and closing it, so that nested
// structures (extensions inside the extension block) need no second pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace tlsweep::backends::rawhello {

class ByteWriter {
 public:
  void U8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void U16(uint16_t value) {
    U8(static_cast<uint8_t>(value >> 8));
    U8(static_cast<uint8_t>(value));
  }
  void U24(uint32_t value) {
    U8(static_cast<uint8_t>(value >> 16));
    U16(static_cast<uint16_t>(value));
  }
  void Bytes(absl::string_view bytes) { out_.append(bytes.data(), bytes.size()); }

  // Opens a vector whose length field is `width` bytes (1, 2 or 3); Close() fills it in.
  void Open(int width) {
    open_.push_back({out_.size(), width});
    out_.append(static_cast<size_t>(width), '\0');
  }
  void Close() {
    const Pending pending = open_.back();
    open_.pop_back();
    size_t length = out_.size() - pending.at - static_cast<size_t>(pending.width);
    for (int i = pending.width - 1; i >= 0; --i) {
      out_[pending.at + static_cast<size_t>(i)] = static_cast<char>(length & 0xff);
      length >>= 8;
    }
  }

  const std::string& data() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  struct Pending {
    size_t at;
    int width;
  };
  std::string out_;
  std::vector<Pending> open_;
};

}  // namespace tlsweep::backends::rawhello
