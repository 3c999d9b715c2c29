#include "backends/file_contents.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace tlsweep::backends {

absl::StatusOr<std::string> ReadFileContents(const std::string& path, int64_t max_bytes) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is a directory, not a file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read '", path, "': ", std::strerror(errno)));
  }
  // Read in bounded pieces, not by the size the file claims: a FIFO or a device has none.
  std::string content;
  char chunk[64 << 10];
  while (in.read(chunk, sizeof(chunk)) || in.gcount() > 0) {
    content.append(chunk, static_cast<size_t>(in.gcount()));
    if (static_cast<int64_t>(content.size()) > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' is more than the ", max_bytes, " bytes allowed"));
    }
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading '", path, "'"));
  return content;
}

}  // namespace tlsweep::backends
