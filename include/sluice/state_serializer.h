// Bytes of keyed state: how keys and state values are written into snapshots and read back.
//
// Snapshots are taken per key group (see detail/key_groups.h) so that state can be redistributed
// when a job restarts with another parallelism. A StateWriter appends to a byte buffer, a
// StateReader consumes one; both are plain and synchronous, the checkpoint layer decides where
// the bytes go (files, compression, checksums).
//
// Extension point: trivially copyable types and std::string serialize out of the box. For any
// other key or value type, specialise `sluice::StateSerializer<T>`:
//
//   template <> struct sluice::StateSerializer<MyType> {
//     static void write(sluice::StateWriter& w, const MyType& v) { ... w.write(v.field); ... }
//     static void read(sluice::StateReader& r, MyType& v) { ... r.read(v.field); ... }
//   };
//
// Thread-safety: a writer or reader is used by one thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace sluice {

class StateWriter;
class StateReader;

// Primary template: trivially copyable types, as their bytes (the snapshot is read back on the
// same architecture; a portable format is the checkpoint layer's business).
template <typename T, typename Enable = void>
struct StateSerializer {
  static constexpr bool kPrimary = true;  // specialisations leave this out
  static void write(StateWriter& w, const T& value);
  static void read(StateReader& r, T& value);
};

// Appends to a byte buffer it borrows.
class StateWriter {
 public:
  explicit StateWriter(std::vector<char>* out) : out_(out) {}
  void write_bytes(const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    out_->insert(out_->end(), p, p + size);
  }
  template <typename T>
  void write(const T& value) {
    StateSerializer<T>::write(*this, value);
  }

 private:
  std::vector<char>* out_;
};

// Reads from a byte range it borrows. A read past the end sets failed() and yields zeros; the
// caller checks failed() once at the end instead of after every field.
class StateReader {
 public:
  StateReader(const char* data, size_t size) : data_(data), size_(size) {}
  explicit StateReader(const std::vector<char>& bytes) : StateReader(bytes.data(), bytes.size()) {}
  void read_bytes(void* out, size_t size) {
    if (size > size_ - pos_) {
      failed_ = true;
      std::memset(out, 0, size);
      pos_ = size_;
      return;
    }
    std::memcpy(out, data_ + pos_, size);
    pos_ += size;
  }
  template <typename T>
  void read(T& value) {
    StateSerializer<T>::read(*this, value);
  }
  template <typename T>
  T read() {
    T value{};
    read(value);
    return value;
  }
  bool failed() const { return failed_; }
  bool at_end() const { return pos_ == size_; }
  // Marks the input as malformed (a reader of a composite type found an impossible value).
  void fail() { failed_ = true; }
  size_t remaining() const { return size_ - pos_; }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// The check sits in the functions, not the class, so that kSerializable<T> below can look at the
// class of any T.
#define SLUICE_REQUIRE_TRIVIALLY_COPYABLE(T)                                             \
  static_assert(std::is_trivially_copyable_v<T>,                                         \
                "keyed state: this type is neither trivially copyable nor std::string; " \
                "specialise sluice::StateSerializer<T> (see sluice/state_serializer.h)")
template <typename T, typename Enable>
void StateSerializer<T, Enable>::write(StateWriter& w, const T& value) {
  SLUICE_REQUIRE_TRIVIALLY_COPYABLE(T);
  w.write_bytes(&value, sizeof(T));
}
template <typename T, typename Enable>
void StateSerializer<T, Enable>::read(StateReader& r, T& value) {
  SLUICE_REQUIRE_TRIVIALLY_COPYABLE(T);
  r.read_bytes(&value, sizeof(T));
}

template <>
struct StateSerializer<std::string> {
  static void write(StateWriter& w, const std::string& s) {
    const uint64_t n = s.size();
    w.write_bytes(&n, sizeof(n));
    w.write_bytes(s.data(), s.size());
  }
  static void read(StateReader& r, std::string& s) {
    uint64_t n = 0;
    r.read_bytes(&n, sizeof(n));
    if (n > r.remaining()) {
      r.fail();
      s.clear();
      return;
    }
    s.resize(n);
    r.read_bytes(s.data(), n);
  }
};

// Containers of serializable types.
template <typename T>
struct StateSerializer<std::vector<T>> {
  static void write(StateWriter& w, const std::vector<T>& v) {
    w.write(static_cast<uint64_t>(v.size()));
    for (const T& x : v) w.write(x);
  }
  static void read(StateReader& r, std::vector<T>& v) {
    const uint64_t n = r.read<uint64_t>();
    v.clear();
    if (n > r.remaining()) {  // every element takes at least a byte: n is corrupt
      r.fail();
      return;
    }
    v.resize(n);
    for (T& x : v) r.read(x);
  }
};
template <typename A, typename B>
struct StateSerializer<std::pair<A, B>> {
  static void write(StateWriter& w, const std::pair<A, B>& p) {
    w.write(p.first);
    w.write(p.second);
  }
  static void read(StateReader& r, std::pair<A, B>& p) {
    r.read(p.first);
    r.read(p.second);
  }
};
template <typename T>
struct StateSerializer<std::optional<T>> {
  static void write(StateWriter& w, const std::optional<T>& v) {
    w.write(static_cast<uint8_t>(v.has_value()));
    if (v) w.write(*v);
  }
  static void read(StateReader& r, std::optional<T>& v) {
    if (r.read<uint8_t>() == 0) {
      v.reset();
      return;
    }
    v.emplace();
    r.read(*v);
  }
};

// Whether values of T can go into a snapshot: a specialisation of StateSerializer exists, or T is
// trivially copyable. Operators whose state holds other types still run, but fail a checkpoint
// with a message naming the type's problem.
template <typename T>
inline constexpr bool kSerializable = !requires {
  StateSerializer<T>::kPrimary;
}
|| std::is_trivially_copyable_v<T>;
template <typename T>
inline constexpr bool kSerializable<std::vector<T>> = kSerializable<T>;
template <typename T>
inline constexpr bool kSerializable<std::optional<T>> = kSerializable<T>;
template <typename A, typename B>
inline constexpr bool kSerializable<std::pair<A, B>> = kSerializable<A>&& kSerializable<B>;

}  // namespace sluice
