// Click-stream sessions: per user, session windows that close after 30 s without a click;
// each session prints its clicks, distinct pages and duration.
//
//   build/examples/click_sessions
#include <cstdio>
#include <set>
#include <span>
#include <string>

#include "sluice/sluice.h"

struct Click {
  uint64_t user;
  sluice::Timestamp time;  // ms
  uint32_t page;
};

struct SessionSummary {
  uint64_t user;
  sluice::Window window;
  size_t clicks;
  size_t pages;
};

int main() {
  sluice::Environment env;
  env.generate(400,
               [](uint64_t i) {
                 // 4 users; each clicks every ~7 s in bursts of 25 clicks, then pauses 2 min.
                 const uint64_t user = i % 4;
                 const uint64_t n = i / 4;
                 const int64_t t = static_cast<int64_t>(n % 25) * 7'000 +
                                   static_cast<int64_t>(n / 25) * 300'000 +
                                   static_cast<int64_t>(user) * 1'000;
                 return Click{user, t, static_cast<uint32_t>((n * 13 + user) % 9)};
               })
      .assign_timestamps([](const Click& c) { return c.time; }, 10'000)
      .key_by([](const Click& c) { return c.user; })
      .window(sluice::Session{30'000})
      .process([](const uint64_t& user, const sluice::Window& w, std::span<const Click> clicks) {
        std::set<uint32_t> pages;
        for (const Click& c : clicks) pages.insert(c.page);
        return SessionSummary{user, w, clicks.size(), pages.size()};
      })
      .sink([](const SessionSummary& s) {
        std::printf("user %llu  session %s .. +%llds  %zu clicks on %zu pages\n",
                    static_cast<unsigned long long>(s.user),
                    sluice::format_timestamp(s.window.start).c_str(),
                    static_cast<long long>((s.window.end - s.window.start) / 1000), s.clicks,
                    s.pages);
      });
  sluice::Status s = env.execute("click sessions");
  if (!s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
