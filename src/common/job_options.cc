// Job options by key: one table names every key, its kind, its description, how a text value is
// applied to the JobOptions field and how the field is printed back.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sluice/options.h"

namespace sluice {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status expected(std::string_view key, std::string_view what, std::string_view value) {
  return Status::invalid_argument(
      fmt::format("job option '{}': expected {}, got '{}'", key, what, value));
}

Result<int64_t> parse_integer(std::string_view key, std::string_view value, int64_t min,
                              int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || v < min || v > max) {
    return expected(key, fmt::format("an integer from {} to {}", min, max), value);
  }
  return v;
}

Result<bool> parse_boolean(std::string_view key, std::string_view value) {
  if (value == "true" || value == "on" || value == "1") return true;
  if (value == "false" || value == "off" || value == "0") return false;
  return expected(key, "true or false", value);
}

std::string format_duration_us(int64_t us) {
  if (us % 1'000'000 == 0) return fmt::format("{}s", us / 1'000'000);
  if (us % 1'000 == 0) return fmt::format("{}ms", us / 1'000);
  return fmt::format("{}us", us);
}

struct OptionEntry {
  JobOptionInfo info;
  Status (*apply)(JobOptions&, std::string_view key, std::string_view value);
  std::string (*print)(const JobOptions&);
};

template <auto Field, int64_t Min, int64_t Max>
Status apply_integer(JobOptions& o, std::string_view key, std::string_view value) {
  Result<int64_t> v = parse_integer(key, value, Min, Max);
  if (!v) return v.status();
  o.*Field = static_cast<std::remove_reference_t<decltype(o.*Field)>>(*v);
  return Status::ok();
}

template <auto Field>
std::string print_integer(const JobOptions& o) {
  return std::to_string(o.*Field);
}

Status apply_channel_capacity(JobOptions& o, std::string_view key, std::string_view value) {
  Result<int64_t> v = parse_integer(key, value, 2, 1 << 16);
  if (!v) return v.status();
  if ((*v & (*v - 1)) != 0) return expected(key, "a power of two (2, 4, 8, 16, …)", value);
  o.channel_capacity = static_cast<size_t>(*v);
  return Status::ok();
}

Status apply_flush_delay(JobOptions& o, std::string_view key, std::string_view value) {
  Result<int64_t> v = parse_duration_us(value);
  if (!v) return expected(key, "a duration such as '1ms' or '500us'", value);
  o.flush_delay_us = *v;
  return Status::ok();
}

// A duration field of at least MinUs; with MinUs 0, "off" also means 0.
template <auto Field, int64_t MinUs>
Status apply_duration(JobOptions& o, std::string_view key, std::string_view value) {
  if (value == "off" && MinUs == 0) {
    o.*Field = 0;
    return Status::ok();
  }
  Result<int64_t> v = parse_duration_us(value);
  if (!v || *v < MinUs) {
    return expected(key,
                    MinUs == 0 ? "a duration such as '1s' or '500ms', or 'off'"
                               : "a positive duration such as '1s' or '500ms'",
                    value);
  }
  o.*Field = *v;
  return Status::ok();
}

template <auto Field>
std::string print_duration(const JobOptions& o) {
  return format_duration_us(o.*Field);
}

template <auto Field>
Status apply_directory(JobOptions& o, std::string_view key, std::string_view value) {
  if (value.empty()) return expected(key, "a directory path", value);
  o.*Field = std::string(value);
  return Status::ok();
}

// A boolean field: "true"/"false" and the other spellings parse_boolean() takes.
template <bool JobOptions::*Field>
Status apply_boolean(JobOptions& o, std::string_view key, std::string_view value) {
  Result<bool> v = parse_boolean(key, value);
  if (!v) return v.status();
  o.*Field = *v;
  return Status::ok();
}

// Observability keys (metrics.address, progress).
Status apply_metrics_address(JobOptions& o, std::string_view key, std::string_view value) {
  if (value == "off") {
    o.metrics_address = "off";
    return Status::ok();
  }
  const size_t colon = value.rfind(':');
  const std::string_view host = colon == std::string_view::npos ? "" : value.substr(0, colon);
  if (host.empty() || host.find_first_of(" /") != std::string_view::npos ||
      !parse_integer(key, value.substr(colon + 1), 1, 65535).is_ok()) {
    return expected(key, "host:port (such as '127.0.0.1:9249', port 1 to 65535) or 'off'", value);
  }
  o.metrics_address = std::string(value);
  return Status::ok();
}

Status apply_progress(JobOptions& o, std::string_view key, std::string_view value) {
  if (value == "auto") {
    o.progress = Progress::kAuto;
  } else if (value == "on" || value == "true") {
    o.progress = Progress::kOn;
  } else if (value == "off" || value == "false") {
    o.progress = Progress::kOff;
  } else {
    return expected(key, "auto, on or off", value);
  }
  return Status::ok();
}

Status apply_state_backend(JobOptions& o, std::string_view key, std::string_view value) {
  if (value == "memory") {
    o.state_backend = StateBackendKind::kMemory;
  } else if (value == "rocksdb") {
    o.state_backend = StateBackendKind::kRocksDb;
  } else {
    return expected(key, "'memory' or 'rocksdb'", value);
  }
  return Status::ok();
}

std::string print_progress(const JobOptions& o) {
  switch (o.progress) {
    case Progress::kOn:
      return "on";
    case Progress::kOff:
      return "off";
    case Progress::kAuto:
      break;
  }
  return "auto";
}

Status apply_state_dir(JobOptions& o, std::string_view key, std::string_view value) {
  if (value.find('\0') != std::string_view::npos) return expected(key, "a directory path", value);
  o.state_dir = std::string(value);
  return Status::ok();
}

constexpr int64_t kMaxInt = std::numeric_limits<int>::max();

// Every key. A new option adds its field to JobOptions and its line here.
const OptionEntry kOptions[] = {
    {{"parallelism", "integer", "subtasks of operators that do not set their own"},
     apply_integer<&JobOptions::parallelism, 1, 4096>,
     print_integer<&JobOptions::parallelism>},
    {{"workers", "integer", "worker threads; 0 means one per core"},
     apply_integer<&JobOptions::workers, 0, 4096>,
     print_integer<&JobOptions::workers>},
    {{"max_parallelism", "integer", "key groups: the most subtasks a keyed operator can have"},
     apply_integer<&JobOptions::max_parallelism, 1, 32768>,
     print_integer<&JobOptions::max_parallelism>},
    {{"batch.size", "size", "rows per batch"},
     apply_integer<&JobOptions::batch_size, 1, kMaxInt>,
     print_integer<&JobOptions::batch_size>},
    {{"batch.flush_delay", "duration", "how long a partial batch waits before it is sent"},
     apply_flush_delay,
     [](const JobOptions& o) { return format_duration_us(o.flush_delay_us); }},
    {{"channel.capacity", "size", "batches a channel holds before backpressure (power of two)"},
     apply_channel_capacity,
     print_integer<&JobOptions::channel_capacity>},
    {{"handle_signals", "boolean", "Ctrl-C and SIGTERM cancel the job cleanly"},
     apply_boolean<&JobOptions::handle_signals>,
     [](const JobOptions& o) { return std::string(o.handle_signals ? "true" : "false"); }},
    {{"metrics.address", "text", "host:port serving /metrics, /api/job and the dashboard, or off"},
     apply_metrics_address,
     [](const JobOptions& o) { return o.metrics_address; }},
    {{"progress", "text", "status on stderr: auto (live line on a terminal), on or off"},
     apply_progress,
     print_progress},
    {{"state.backend", "text", "where keyed state lives: memory or rocksdb"},
     apply_state_backend,
     [](const JobOptions& o) {
       return std::string(o.state_backend == StateBackendKind::kRocksDb ? "rocksdb" : "memory");
     }},
    {{"state.dir", "text", "working directory of the rocksdb state backend (default: temporary)"},
     apply_state_dir,
     [](const JobOptions& o) { return o.effective_state_dir(); }},
    {{"checkpoint.interval", "duration", "time between checkpoints; 'off' (the default) for none"},
     apply_duration<&JobOptions::checkpoint_interval_us, 0>,
     [](const JobOptions& o) {
       return o.checkpoint_interval_us == 0 ? std::string("off")
                                            : format_duration_us(o.checkpoint_interval_us);
     }},
    {{"checkpoint.dir", "text", "directory of checkpoints; a job started on one resumes from it"},
     apply_directory<&JobOptions::checkpoint_dir>,
     [](const JobOptions& o) { return o.checkpoint_dir; }},
    {{"savepoint.path", "text",
      "a savepoint directory (savepoint-<id>) to start from instead of the latest checkpoint"},
     apply_directory<&JobOptions::savepoint_path>,
     [](const JobOptions& o) { return o.savepoint_path; }},
    {{"savepoint.ignore_unclaimed_state", "boolean",
      "resume even when the savepoint holds state of an operator uid the job no longer has"},
     apply_boolean<&JobOptions::ignore_unclaimed_state>,
     [](const JobOptions& o) { return std::string(o.ignore_unclaimed_state ? "true" : "false"); }},
    {{"checkpoint.retain", "integer", "complete checkpoints kept"},
     apply_integer<&JobOptions::checkpoint_retain, 1, 1000>,
     print_integer<&JobOptions::checkpoint_retain>},
    {{"checkpoint.timeout", "duration", "a checkpoint not complete by then is abandoned"},
     apply_duration<&JobOptions::checkpoint_timeout_us, 1>,
     print_duration<&JobOptions::checkpoint_timeout_us>},
    {{"restart.attempts", "integer", "in-process restarts from the latest checkpoint on failure"},
     apply_integer<&JobOptions::restart_attempts, 0, 1000000>,
     print_integer<&JobOptions::restart_attempts>},
    {{"restart.backoff", "duration", "wait before the first restart; doubles for each next one"},
     apply_duration<&JobOptions::restart_backoff_us, 0>,
     print_duration<&JobOptions::restart_backoff_us>},
};

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

const OptionEntry* find(std::string_view key) {
  for (const OptionEntry& e : kOptions) {
    if (e.info.key == key) return &e;
  }
  return nullptr;
}

Status unknown_key(std::string_view key) {
  const OptionEntry* nearest = nullptr;
  size_t best = 4;  // suggest only near misses
  for (const OptionEntry& e : kOptions) {
    size_t d = edit_distance(key, e.info.key);
    if (d < best) best = d, nearest = &e;
  }
  std::string known;
  for (const OptionEntry& e : kOptions) {
    if (!known.empty()) known += ", ";
    known += e.info.key;
  }
  if (nearest != nullptr) {
    return Status::invalid_argument(
        fmt::format("unknown job option '{}' (did you mean '{}'?)", key, nearest->info.key));
  }
  return Status::invalid_argument(fmt::format("unknown job option '{}'; known: {}", key, known));
}

}  // namespace

Result<int64_t> parse_duration_us(std::string_view text) {
  text = trim(text);
  size_t unit_at = text.find_first_not_of("0123456789.");
  std::string_view number = text.substr(0, unit_at);
  std::string_view unit = unit_at == std::string_view::npos ? "ms" : trim(text.substr(unit_at));
  double scale = 0;
  if (unit == "us") scale = 1;
  if (unit == "ms") scale = 1e3;
  if (unit == "s") scale = 1e6;
  if (unit == "m" || unit == "min") scale = 60e6;
  if (unit == "h") scale = 3600e6;
  double v = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (number.empty() || scale == 0 || ec != std::errc() || end != number.data() + number.size() ||
      !std::isfinite(v) || v < 0 || v * scale > 9e18) {
    return Status::invalid_argument(
        fmt::format("expected a duration such as '500ms', '1s' or '2m', got '{}'", text));
  }
  return static_cast<int64_t>(std::llround(v * scale));
}

Status JobOptions::set(std::string_view key, std::string_view value) {
  key = trim(key);
  value = trim(value);
  const OptionEntry* entry = find(key);
  if (entry == nullptr) return unknown_key(key);
  JobOptions changed = *this;
  Status s = entry->apply(changed, key, value);
  if (s) *this = changed;
  return s;
}

std::string JobOptions::effective_state_dir() const {
  if (!state_dir.empty()) return state_dir;
  std::error_code ec;
  std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
  if (ec) tmp = "/tmp";
  return (tmp / "sluice-state").string();
}

Status JobOptions::set(std::string_view assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return Status::invalid_argument(
        fmt::format("expected a job option as key=value, got '{}'", assignment));
  }
  return set(assignment.substr(0, eq), assignment.substr(eq + 1));
}

std::string JobOptions::get(std::string_view key) const {
  const OptionEntry* entry = find(trim(key));
  return entry == nullptr ? std::string() : entry->print(*this);
}

std::span<const JobOptionInfo> job_option_keys() {
  static const std::vector<JobOptionInfo> infos = [] {
    std::vector<JobOptionInfo> v;
    for (const OptionEntry& e : kOptions) v.push_back(e.info);
    return v;
  }();
  return infos;
}

}  // namespace sluice
