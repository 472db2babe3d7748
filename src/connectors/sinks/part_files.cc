// PartFiles: the part files of a sink subtask; the API is in sluice/connectors/part_file_sink.h.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "sluice/connectors/part_file_sink.h"
#include "sluice/state_serializer.h"

namespace sluice::detail {
namespace {

void check(const Status& s) {
  if (!s.is_ok()) throw std::runtime_error(s.message());
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

PartFiles::PartFiles(std::string dir, std::string extension, sinks::Delivery delivery)
    : dir_(std::move(dir)), extension_(std::move(extension)), delivery_(delivery) {}

PartFiles::~PartFiles() = default;

std::string PartFiles::part_name(int subtask, uint64_t seq, bool in_progress) const {
  return in_progress ? fmt::format("{}/.part-{}-{}.{}.inprogress", dir_, subtask, seq, extension_)
                     : fmt::format("{}/part-{}-{}.{}", dir_, subtask, seq, extension_);
}

void PartFiles::open(int subtask, int parallelism, bool checkpointing) {
  subtask_ = subtask;
  parallelism_ = parallelism;
  checkpointing_ = checkpointing;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create '{}': {}", dir_, ec.message()));
}

std::string& PartFiles::buffer() {
  if (part_ == nullptr) {
    FileWriter::Options options;
    options.sync_on_close = true;
    auto writer = FileWriter::open(part_name(subtask_, next_seq_, true), options);
    check(writer.status());
    part_ = std::move(writer).value();
  }
  return part_->buffer();
}

void PartFiles::maybe_flush() { check(part_->maybe_flush()); }

Status PartFiles::close_part() {
  if (part_ == nullptr) return Status::ok();
  SLUICE_RETURN_IF_ERROR(part_->close());
  part_.reset();
  return Status::ok();
}

Status PartFiles::publish(int subtask, uint64_t seq) {
  const std::string from = part_name(subtask, seq, true);
  const std::string to = part_name(subtask, seq, false);
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    // Committed before a crash: the part is already in place (recovery commits again).
    if (errno == ENOENT && ::access(to.c_str(), F_OK) == 0) return Status::ok();
    return Status::io_error(
        fmt::format("cannot publish '{}' as '{}': {}", from, to, std::strerror(errno)));
  }
  return Status::ok();
}

Status PartFiles::prepare(uint64_t checkpoint_id, std::vector<char>& state) {
  if (part_ != nullptr) {
    SLUICE_RETURN_IF_ERROR(close_part());
    if (delivery_ == sinks::Delivery::kAtLeastOnce) {
      SLUICE_RETURN_IF_ERROR(publish(subtask_, next_seq_));
      fsync_dir(dir_);
    } else {
      pending_.push_back({checkpoint_id, subtask_, next_seq_});
    }
    ++next_seq_;
  }
  StateWriter w(&state);
  w.write(next_seq_);
  w.write(static_cast<uint64_t>(pending_.size()));
  for (const Pending& p : pending_) {
    w.write(p.checkpoint_id);
    w.write(p.subtask);
    w.write(p.seq);
  }
  return Status::ok();
}

Status PartFiles::commit(uint64_t checkpoint_id) {
  size_t done = 0;
  Status status;
  while (done < pending_.size() && pending_[done].checkpoint_id <= checkpoint_id) {
    status = publish(pending_[done].subtask, pending_[done].seq);
    if (!status.is_ok()) break;
    ++done;
  }
  if (done > 0) {
    fsync_dir(dir_);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(done));
  }
  return status;
}

// Subtask s takes over the parts of the old subtasks o with o % parallelism == s: it commits
// what they had pending and deletes what they wrote after the checkpoint.
Status PartFiles::recover(const std::vector<std::vector<char>>& states, int old_parallelism) {
  std::vector<int> owned;
  for (int o = subtask_; o < std::max(old_parallelism, parallelism_); o += parallelism_) {
    owned.push_back(o);
  }
  std::vector<std::pair<int, uint64_t>> keep;  // (subtask, seq) committed now
  for (int o : owned) {
    if (o >= static_cast<int>(states.size()) || states[static_cast<size_t>(o)].empty()) continue;
    StateReader r(states[static_cast<size_t>(o)]);
    const uint64_t next_seq = r.read<uint64_t>();
    const uint64_t n = r.read<uint64_t>();
    for (uint64_t i = 0; i < n && !r.failed(); ++i) {
      Pending p{r.read<uint64_t>(), r.read<int>(), r.read<uint64_t>()};
      if (!r.failed()) keep.emplace_back(p.subtask, p.seq);
    }
    if (r.failed() || !r.at_end()) {
      return Status::invalid_argument("part file sink: truncated or malformed state");
    }
    if (o == subtask_) next_seq_ = next_seq;
  }
  for (const auto& [s, seq] : keep) SLUICE_RETURN_IF_ERROR(publish(s, seq));
  // In-progress parts of the owned subtasks are from after the checkpoint: the replay rewrites
  // their rows. A published part of this subtask's number is never written again: after
  // restores at other parallelisms this subtask may continue no old subtask of its number (say
  // 2 -> 1 -> 3: the new subtask 1 finds no state of an old subtask 1), and its parts must not
  // replace the ones that subtask published before.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    int s = -1;
    unsigned long long seq = 0;
    if (std::sscanf(name.c_str(), "part-%d-%llu.", &s, &seq) == 2 && s == subtask_) {
      next_seq_ = std::max<uint64_t>(next_seq_, seq + 1);
      continue;
    }
    if (std::sscanf(name.c_str(), ".part-%d-%llu.", &s, &seq) != 2) continue;
    if (name.size() < 11 || name.compare(name.size() - 11, 11, ".inprogress") != 0) continue;
    if ((s % parallelism_) != subtask_ && s >= 0) continue;
    std::filesystem::remove(entry.path(), ec);
  }
  fsync_dir(dir_);
  return Status::ok();
}

void PartFiles::finish() {
  if (checkpointing_) {
    // The final checkpoint pre-commits and commits the last part.
    if (part_ != nullptr) check(part_->flush());
    return;
  }
  check(commit(UINT64_MAX));  // parts of a savepoint that did not complete: the end publishes them
  if (part_ == nullptr) return;
  check(close_part());
  check(publish(subtask_, next_seq_++));
  fsync_dir(dir_);
}

}  // namespace sluice::detail
