// The non-template parts of the text sinks; declared in sluice/connectors/text_sinks.h.
#include <mutex>
#include <string>

#include "sluice/connectors/text_sinks.h"

namespace sluice::detail {

Status write_locked(int fd, std::string_view data) {
  static std::mutex mutex;  // one per process: whole batches of lines never interleave
  std::lock_guard<std::mutex> lock(mutex);
  return write_fully(fd, data, fd == 1 ? "stdout" : "output descriptor");
}

std::string subtask_path(const std::string& path, int subtask, int parallelism) {
  if (parallelism <= 1) return path;
  const size_t slash = path.rfind('/');
  const size_t name_start = slash == std::string::npos ? 0 : slash + 1;
  size_t dot = path.rfind('.');
  // A dot that opens the name (".hidden") or sits in a directory name is not an extension.
  if (dot == std::string::npos || dot <= name_start) dot = path.size();
  std::string out(path, 0, dot);
  out.push_back('.');
  out.append(std::to_string(subtask));
  out.append(path, dot);
  return out;
}

}  // namespace sluice::detail
