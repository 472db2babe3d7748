// PageClaims: who reads each page of state for a copy-on-write checkpoint cut in flight.
//
// A cut divides a task's state into pages. Each page is read once for the checkpoint: either by
// the checkpoint writer, in place, or by the task, which saves it aside just before it first
// writes to the page after the cut. Whoever claims a page first does it; a claim is a
// compare-and-swap of the page's state, pending -> busy, and the page becomes done when read. The
// task waits for a page the writer is busy with; the writer waits for one the task is saving.
//
// Used by CowMap (cow_map.h) and the keyed state backend's cut (slot_cut.h).
//
// Thread-safety: shared by the task and the checkpoint writer, as above.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace sluice::detail {

class PageClaims {
 public:
  explicit PageClaims(size_t pages)
      : pages_(pages), state_(std::make_unique<std::atomic<uint8_t>[]>(pages)) {
    for (size_t p = 0; p < pages; ++p) state_[p].store(kPending, std::memory_order_relaxed);
  }

  size_t pages() const { return pages_; }
  bool all_done() const { return done_.load(std::memory_order_acquire) == pages_; }

  // Page p is the caller's to read; false when the other side has it (or had it).
  bool claim(size_t p) {
    uint8_t expected = kPending;
    return state_[p].compare_exchange_strong(expected, kBusy, std::memory_order_acq_rel);
  }
  void set_done(size_t p) {
    state_[p].store(kDone, std::memory_order_release);
    done_.fetch_add(1, std::memory_order_release);
  }
  void wait_done(size_t p) const {
    for (int spins = 0; state_[p].load(std::memory_order_acquire) != kDone;) {
      if (++spins > 64) std::this_thread::yield();
    }
  }

  // The task is about to write page p: save() keeps what the page holds, unless the writer has
  // read it (then the task waits until it has).
  template <typename Save>
  void before_write(size_t p, Save&& save) {
    if (claim(p)) {
      save();
      set_done(p);
    } else {
      wait_done(p);
    }
  }
  // The writer's turn on page p: read(in_place) with in_place true when it claimed the page, false
  // when the task saved it aside (then read it from there).
  template <typename Read>
  void read(size_t p, Read&& read) {
    const bool mine = claim(p);
    if (!mine) wait_done(p);
    read(mine);
    if (mine) set_done(p);
  }
  // The cut goes unread: every page still pending becomes done, so nobody waits for it.
  void release_all() {
    for (size_t p = 0; p < pages_; ++p) {
      if (claim(p)) {
        set_done(p);
      } else {
        wait_done(p);
      }
    }
  }

 private:
  enum : uint8_t { kPending, kBusy, kDone };
  size_t pages_;
  std::unique_ptr<std::atomic<uint8_t>[]> state_;
  std::atomic<size_t> done_{0};
};

// The task's side of a cut in flight: the cut, and which of its pages the task has not written
// since (pending, for all it knows). Cut provides before_write(page) (PageClaims::before_write
// with what to save) and all_done().
template <typename Cut>
class CutWatch {
 public:
  bool active() const { return cut_ != nullptr; }
  void start(std::shared_ptr<Cut> cut, size_t pages) {
    cut_ = std::move(cut);
    watch_.assign(pages, 1);
  }
  // The task is about to write page p: the cut gets the page first if it may still need it.
  void before_write(size_t p) {
    if (p < watch_.size() && watch_[p] != 0) {
      watch_[p] = 0;
      cut_->before_write(p);
    }
    if (cut_->all_done()) detach();  // every page read or saved: nothing left to watch
  }
  // Every page of the cut is read or saved (by the task, now, if need be); stops watching.
  void settle() {
    if (cut_ == nullptr) return;
    for (size_t p = 0; p < watch_.size(); ++p) {
      if (watch_[p] != 0) cut_->before_write(p);
    }
    detach();
  }
  // Stops watching without saving: the task no longer writes what the cut reads.
  void detach() {
    watch_.clear();
    cut_.reset();
  }

 private:
  std::shared_ptr<Cut> cut_;
  std::vector<uint8_t> watch_;  // per page of cut_
};

}  // namespace sluice::detail
