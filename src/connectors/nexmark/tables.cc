#include "connectors/nexmark/tables.h"

#include <charconv>
#include <utility>

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>
#include <absl/synchronization/mutex.h>

namespace sluice::nexmark {
namespace {

constexpr uint64_t kPoolStream = 0x706F6F6C;     // "pool"
constexpr uint64_t kChannelStream = 0x6368616E;  // "chan"

uint32_t bit_reverse32(uint32_t x) {
  uint32_t r = 0;
  for (int i = 0; i < 32; ++i) {
    r = (r << 1) | (x & 1);
    x >>= 1;
  }
  return r;
}

void append_number(std::string& out, uint64_t value) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}

// "https://www.nexmark.com/<a>/<b>/<c>/item.htm?query=1" with three short random path segments.
void append_base_url(Rng& rng, std::string& out) {
  out += "https://www.nexmark.com/";
  char buf[4];
  for (int part = 0; part < 3; ++part) {
    if (part > 0) out += '/';
    out += next_string(rng, 5, '_', buf);
  }
  out += "/item.htm?query=1";
}

struct Cache {
  absl::Mutex mutex;
  absl::flat_hash_map<uint64_t, const Tables*> by_seed ABSL_GUARDED_BY(mutex);
};

}  // namespace

Tables::Tables(uint64_t seed) {
  Rng pool_rng = stream_rng(seed, kPoolStream);
  pool_.resize(kPoolBytes);
  for (char& c : pool_) c = static_cast<char>('a' + pool_rng.next_int(26));

  // Build all text first and take views afterwards, once text_ no longer moves.
  Rng rng = stream_rng(seed, kChannelStream);
  std::array<std::pair<size_t, size_t>, kHotChannels.size()> hot_spans;
  for (auto& span : hot_spans) {
    span.first = text_.size();
    append_base_url(rng, text_);
    span.second = text_.size() - span.first;
  }
  struct Spans {
    size_t name_begin, name_size, url_begin, url_size;
  };
  std::vector<Spans> spans(kNumChannels);
  for (size_t i = 0; i < kNumChannels; ++i) {
    Spans& s = spans[i];
    s.name_begin = text_.size();
    text_ += "channel-";
    append_number(text_, i);
    s.name_size = text_.size() - s.name_begin;
    s.url_begin = text_.size();
    append_base_url(rng, text_);
    if (rng.next_int(10) > 0) {
      text_ += "&channel_id=";
      append_number(text_, bit_reverse32(static_cast<uint32_t>(i)));
    }
    s.url_size = text_.size() - s.url_begin;
  }
  text_.shrink_to_fit();

  std::string_view text = text_;
  for (size_t i = 0; i < hot_spans.size(); ++i) {
    hot_urls_[i] = text.substr(hot_spans[i].first, hot_spans[i].second);
  }
  channels_.reserve(kNumChannels);
  for (const Spans& s : spans) {
    channels_.push_back(
        Channel{text.substr(s.name_begin, s.name_size), text.substr(s.url_begin, s.url_size)});
  }
}

const Tables& Tables::for_seed(uint64_t seed) {
  static Cache* cache = new Cache();  // immortal, like the tables it holds
  absl::MutexLock lock(&cache->mutex);
  const Tables*& tables = cache->by_seed[seed];
  if (tables == nullptr) tables = new Tables(seed);
  return *tables;
}

}  // namespace sluice::nexmark
