#include "agent/smtp/reply_parser.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tlsweep::agent {

std::string ParsedReply::Text(size_t max_bytes) const {
  std::string text = absl::StrJoin(lines, "\n");
  if (text.size() > max_bytes) text.resize(max_bytes);
  return text;
}

absl::StatusOr<std::optional<ParsedReply>> SmtpReplyParser::Next() {
  while (true) {
    const size_t newline = buffer_.find('\n', consumed_);
    if (newline == std::string::npos) {
      if (buffer_.size() - consumed_ > limits_.max_line_bytes) {
        return absl::ResourceExhaustedError(
            absl::StrCat("reply line longer than ", limits_.max_line_bytes, " bytes"));
      }
      // Compact what was consumed so the buffer holds at most one partial line.
      buffer_.erase(0, consumed_);
      consumed_ = 0;
      return std::nullopt;
    }
    absl::string_view line(buffer_.data() + consumed_, newline - consumed_);
    consumed_ = newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits_.max_line_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("reply line longer than ", limits_.max_line_bytes, " bytes"));
    }
    // "NNN" alone is a valid last line; otherwise a separator ' ' or '-' follows the code.
    if (line.size() < 3 || !absl::ascii_isdigit(line[0]) || !absl::ascii_isdigit(line[1]) ||
        !absl::ascii_isdigit(line[2]) || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
      std::string shown(line.substr(0, 40));
      for (char& c : shown) {
        if (!absl::ascii_isprint(static_cast<unsigned char>(c))) c = '?';
      }
      return absl::InvalidArgumentError(absl::StrCat("not an SMTP reply: '", shown, "'"));
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (!pending_.lines.empty() && code != pending_.code) {
      return absl::InvalidArgumentError(
          absl::StrCat("multi-line reply changed code from ", pending_.code, " to ", code));
    }
    pending_.code = code;
    pending_.lines.emplace_back(line.size() > 4 ? line.substr(4) : absl::string_view());
    pending_bytes_ += line.size() + 2;
    if (pending_.lines.size() > limits_.max_lines) {
      return absl::ResourceExhaustedError(
          absl::StrCat("reply has more than ", limits_.max_lines, " lines"));
    }
    if (pending_bytes_ > limits_.max_reply_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("reply longer than ", limits_.max_reply_bytes, " bytes"));
    }
    const bool last = line.size() == 3 || line[3] == ' ';
    if (last) {
      buffer_.erase(0, consumed_);
      consumed_ = 0;
      ParsedReply reply = std::move(pending_);
      pending_ = ParsedReply();
      pending_bytes_ = 0;
      return reply;
    }
  }
}

}  // namespace tlsweep::agent
