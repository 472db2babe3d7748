// Time-to-live of keyed state entries.
//
// An entry whose age reaches `ttl` is expired: it is never returned (unless `return_expired` and
// not yet cleaned up), it is dropped when next accessed, and an incremental cleanup visits a
// bounded number of keys per batch and per timer pass, so state of keys that are never seen again
// does not grow forever. The age is measured on `time`: processing time (the wall clock, read once
// per batch) or event time (the timestamp of the row or timer being handled), which makes expiry
// reproducible in tests.
#pragma once

#include "sluice/time.h"

namespace sluice {

struct StateTtl {
  enum class Update {
    kOnCreateAndWrite,  // the age restarts when the entry is written
    kOnReadAndWrite,    // ... and when it is read
  };
  enum class Time { kProcessingTime, kEventTime };

  Duration ttl = 0;  // milliseconds; REQUIRES: ttl > 0
  Update update = Update::kOnCreateAndWrite;
  // Return an expired entry that cleanup has not removed yet (Flink's ReturnExpiredIfNotCleanedUp).
  bool return_expired = false;
  Time time = Time::kProcessingTime;
};

}  // namespace sluice
