// SlotArray<T>: an array indexed by key slot (key_directory.h) whose entries never move.
//
// Entries live in chunks of kChunk, allocated as the array grows and freed only with it. So a
// checkpoint cut can pin() the array — copy the chunk addresses, a few kilobytes — and read the
// entries of the cut's slots on the checkpoint writer's thread while the task goes on and grows
// the array. Indexing costs one more load than a std::vector (the chunk's address, which stays in
// L1 for the hot chunks).
//
// Thread-safety: owned by one task; a Pinned copy reads entries the task leaves alone (see
// slot_cut.h for who may read what).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace sluice::detail {

template <typename T>
class SlotArray {
 public:
  static constexpr uint32_t kShift = 12;
  static constexpr size_t kChunk = size_t{1} << kShift;  // entries per chunk (a cut's page)
  static constexpr uint32_t kMask = kChunk - 1;

  // The chunks as they were when pinned: entries of slots below the pinned size.
  class Pinned {
   public:
    const T& operator[](uint32_t s) const { return entry(chunks_[s >> kShift], s); }

   private:
    friend class SlotArray;
    std::vector<char*> chunks_;
  };

  SlotArray() = default;
  SlotArray(const SlotArray&) = delete;
  SlotArray& operator=(const SlotArray&) = delete;
  ~SlotArray() {
    for (char* c : chunks_) {
      T* first = std::launder(reinterpret_cast<T*>(c));
      std::destroy(first, first + kChunk);
      ::operator delete(c, std::align_val_t(alignof(T)));
    }
  }

  [[gnu::always_inline]] T& operator[](uint32_t s) { return entry(chunks_[s >> kShift], s); }
  [[gnu::always_inline]] const T& operator[](uint32_t s) const {
    return entry(chunks_[s >> kShift], s);
  }
  size_t size() const { return size_; }
  size_t capacity() const { return chunks_.size() * kChunk; }

  // Makes slots [0, n) addressable; new entries are value-initialized. Never shrinks.
  void resize(size_t n) {
    while (capacity() < n) {
      char* c =
          static_cast<char*>(::operator new(kChunk * sizeof(T), std::align_val_t(alignof(T))));
      std::uninitialized_value_construct_n(reinterpret_cast<T*>(c), kChunk);
      chunks_.push_back(c);
    }
    if (n > size_) size_ = n;
  }
  void push_back(T v) {
    resize(size_ + 1);
    (*this)[static_cast<uint32_t>(size_ - 1)] = std::move(v);
  }

  Pinned pin() const {
    Pinned p;
    p.chunks_.assign(chunks_.begin(), chunks_.end());
    return p;
  }

  // For prefetching ahead without knowing T: entry s is at chunks()[s >> kShift] + (s & kMask) *
  // sizeof(T).
  const char* const* chunks() const { return chunks_.data(); }

 private:
  [[gnu::always_inline]] static T& entry(char* chunk, uint32_t s) {
    return std::launder(reinterpret_cast<T*>(chunk))[s & kMask];
  }

  std::vector<char*> chunks_;  // kChunk entries each
  size_t size_ = 0;
};

}  // namespace sluice::detail
