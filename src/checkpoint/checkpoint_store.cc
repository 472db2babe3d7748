#include "checkpoint/checkpoint_store.h"

#include <fstream>
#include <sstream>

#include "sluice/detail/key_groups.h"

namespace sluice::checkpoint {

Result<uint64_t> checksum_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return detail::hash_bytes(s.view());
}

}  // namespace sluice::checkpoint
