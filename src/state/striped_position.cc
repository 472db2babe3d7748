#include "sluice/detail/striped_position.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>

namespace sluice::detail {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Reads one old subtask's stream into its next index and the layers it carried.
Status read_stream(const std::vector<char>& bytes, uint64_t& next,
                   std::vector<std::vector<uint64_t>>& layers) {
  StateReader r(bytes);
  if (bytes.size() == sizeof(uint64_t)) {  // format 0: the next index alone
    r.read(next);
    return Status::ok();
  }
  const auto tag = r.read<uint32_t>();
  const auto format = r.read<uint32_t>();
  if (r.failed() || tag != StripedPosition::kFormatTag) {
    return Status::invalid_argument("not a source position (truncated or malformed state)");
  }
  if (format != StripedPosition::kFormat) {
    return Status::invalid_argument("its position is in format " + std::to_string(format) +
                                    ", which this version of Sluice cannot read (it reads 0 and " +
                                    std::to_string(StripedPosition::kFormat) + ")");
  }
  r.read(next);
  auto carried = r.read<std::vector<std::vector<uint64_t>>>();
  if (r.failed() || !r.at_end()) return Status::invalid_argument("truncated or malformed state");
  for (auto& layer : carried) {
    if (layer.empty()) return Status::invalid_argument("a layer of its position is empty");
    layers.push_back(std::move(layer));
  }
  return Status::ok();
}

}  // namespace

void StripedPosition::start(int subtask, int parallelism, uint64_t first) {
  subtask_ = static_cast<uint64_t>(subtask);
  stride_ = static_cast<uint64_t>(parallelism);
  first_ = first;
  next_ = stripe_at_or_after(first);
  layers_.clear();
  ceiling_ = 0;
}

Status StripedPosition::restore(const OperatorRestore& in, const std::string& op) {
  auto refuse = [&](const std::string& why) {
    return Status::invalid_argument("operator " + op + ": " + why);
  };
  const auto old_parallelism = static_cast<size_t>(std::max(in.old_parallelism, 0));
  if (old_parallelism == 0 || in.operator_states.size() != old_parallelism) {
    return refuse("the checkpoint holds " + std::to_string(in.operator_states.size()) +
                  " positions for parallelism " + std::to_string(in.old_parallelism));
  }
  // The old run's next indexes are one more layer, on top of those its subtasks carried.
  std::vector<std::vector<uint64_t>> layers;
  std::vector<uint64_t> last(old_parallelism, 0);
  for (size_t s = 0; s < old_parallelism; ++s) {
    if (in.operator_states[s].empty()) {
      return refuse("the checkpoint holds no position for its old subtask " + std::to_string(s));
    }
    Status st = read_stream(in.operator_states[s], last[s], layers);
    if (!st.is_ok()) return refuse("old subtask " + std::to_string(s) + ": " + st.message());
  }
  layers.push_back(std::move(last));
  adopt(std::move(layers));
  return Status::ok();
}

void StripedPosition::adopt(std::vector<std::vector<uint64_t>> layers) {
  // Old subtasks carry copies of the same layers.
  std::sort(layers.begin(), layers.end());
  layers.erase(std::unique(layers.begin(), layers.end()), layers.end());
  // An index i of this stripe (i ≡ subtask_ mod stride_) falls on the residues r of a layer of
  // modulus m with r ≡ subtask_ (mod gcd(m, stride_)). Below the least next index of those
  // residues the layer made every index of the stripe; from the greatest on, none.
  uint64_t from = first_;
  layers_.clear();
  for (auto& next : layers) {
    const uint64_t m = next.size();
    const uint64_t g = std::gcd(m, stride_);
    uint64_t low = kMax;
    uint64_t high = 0;
    for (uint64_t r = subtask_ % g; r < m; r += g) {
      low = std::min(low, next[r]);
      high = std::max(high, next[r]);
    }
    from = std::max(from, low);
    layers_.push_back(Layer{std::move(next), high});
  }
  next_ = stripe_at_or_after(from);
  std::erase_if(layers_, [&](const Layer& l) { return l.ceiling <= next_; });
  ceiling_ = 0;
  for (const Layer& l : layers_) ceiling_ = std::max(ceiling_, l.ceiling);
  if (next_ < ceiling_) next_ = skip_made(next_);
}

void StripedPosition::snapshot(OperatorSnapshot& out, std::string_view what) const {
  StateWriter w(&out.operator_state);
  w.write(kFormatTag);
  w.write(kFormat);
  w.write(next_);
  // A layer whose indexes of this stripe all lie below next_ adds nothing: at a restore the
  // next indexes of this run cover them.
  uint64_t carried = 0;
  for (const Layer& l : layers_) carried += l.ceiling > next_;
  w.write(carried);
  for (const Layer& l : layers_) {
    if (l.ceiling > next_) w.write(l.next);
  }
  out.offsets.assign(what).append(" ").append(std::to_string(next_));
  if (carried > 0) {
    out.offsets.append(" (skipping, up to ")
        .append(std::to_string(ceiling_))
        .append(", what a run at another parallelism made)");
  }
}

bool StripedPosition::made(uint64_t i) const {
  for (const Layer& l : layers_) {
    if (i < l.ceiling && i < l.next[i % l.next.size()]) return true;
  }
  return false;
}

uint64_t StripedPosition::skip_made(uint64_t i) const {
  while (i < ceiling_ && made(i)) i += stride_;
  return i;
}

uint64_t StripedPosition::stripe_at_or_after(uint64_t i) const {
  const uint64_t step = (subtask_ + stride_ - i % stride_) % stride_;
  return i > kMax - step ? kMax : i + step;
}

}  // namespace sluice::detail
