// The per-seed tables of the Nexmark generator: a 1 MiB pool of lowercase letters from which every
// `extra` field is a slice, the four hot channels' URLs, and 10,000 channels `channel-<i>` with a
// URL each. Built from their own SplitMix64 streams exactly as nexmark_ref.py's Tables.
//
// Tables are immortal: for_seed() builds a seed's tables the first time it is asked for them and
// never frees them, so string_views into them stay valid for the life of the process. for_seed()
// is thread-safe (a process-wide lock, held while building); a Tables is immutable afterwards and
// may be read by any number of threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/nexmark/rng.h"

namespace sluice::nexmark {

inline constexpr size_t kPoolBytes = size_t{1} << 20;
inline constexpr size_t kNumChannels = 10'000;
inline constexpr std::array<std::string_view, 4> kHotChannels = {"Google", "Facebook", "Baidu",
                                                                 "Apple"};

struct Channel {
  std::string_view name;
  std::string_view url;
};

class Tables {
 public:
  static const Tables& for_seed(uint64_t seed);

  Tables(const Tables&) = delete;
  Tables& operator=(const Tables&) = delete;

  // A pool slice whose length brings a record of current_size bytes to average_size on average:
  // empty when the record is already larger, else room ± 20% letters (room = the difference).
  std::string_view extra(Rng& rng, int64_t current_size, int64_t average_size) const {
    if (current_size > average_size) return {};
    uint64_t room = static_cast<uint64_t>(average_size - current_size);
    uint64_t delta = (room * 2 + 5) / 10;  // round(room * 0.2), halves up
    uint64_t length = room - delta + (delta > 0 ? rng.next_int(2 * delta) : 0);
    uint64_t offset = rng.next_int(kPoolBytes - length);
    return std::string_view(pool_.data() + offset, length);
  }

  std::string_view hot_url(size_t i) const { return hot_urls_[i]; }
  const Channel& channel(size_t i) const { return channels_[i]; }

 private:
  explicit Tables(uint64_t seed);

  std::string pool_;
  std::string text_;  // the characters of every URL and channel name, which the views below share
  std::array<std::string_view, kHotChannels.size()> hot_urls_;
  std::vector<Channel> channels_;
};

}  // namespace sluice::nexmark
