// FixedString<N>: a short string stored inline, so records can carry names and codes without a
// heap allocation and be copied with memcpy. It holds at most N bytes; the length is a uint8_t for
// N < 256 and a uint16_t otherwise. Bytes are opaque (UTF-8 by convention); there is no terminator.
//
// A FixedString is a value: trivially copyable, safe to share between threads for reading, and
// needs external synchronization for writing like any other object.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace sluice {

template <size_t N>
struct FixedString {
  static_assert(N > 0 && N <= 65535, "FixedString capacity must be in [1, 65535]");
  using Length = std::conditional_t<(N < 256), uint8_t, uint16_t>;
  static constexpr size_t kCapacity = N;

  constexpr FixedString() = default;

  // REQUIRES: s.size() <= N.
  void assign(std::string_view s) {
    assert(s.size() <= N);
    std::memcpy(data_, s.data(), s.size());
    length_ = static_cast<Length>(s.size());
  }

  std::string_view view() const { return std::string_view(data_, length_); }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)

  const char* data() const { return data_; }
  size_t size() const { return length_; }
  bool empty() const { return length_ == 0; }

  friend bool operator==(const FixedString& a, const FixedString& b) {
    return a.view() == b.view();
  }
  friend bool operator==(const FixedString& a, std::string_view b) { return a.view() == b; }

 private:
  char data_[N] = {};
  Length length_ = 0;
};

}  // namespace sluice
