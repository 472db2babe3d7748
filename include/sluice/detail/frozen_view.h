// FrozenView: what the checkpoint writer reads of a state kept in CowMaps.
//
// A state freezes its maps at the cut (CowMap::freeze(), O(pages)) into one view: the frozen
// maps, each with a tag (pane windows: the pane's start; a state of one map: NoTag), and the
// state's visitor, which turns one entry into what its snapshot writes. for_each_entry(args...)
// calls visit(tag, key, value, args...) for every entry as it was at the cut; the state applies
// the same visitor to its live maps, so the live and the frozen snapshot cannot drift apart.
//
// Thread-safety: a view is filled on the task's thread and then read (once) and destroyed on the
// checkpoint writer's thread, while the task goes on changing its maps (see cow_map.h).
#pragma once

#include <utility>
#include <vector>

#include "sluice/detail/cow_map.h"

namespace sluice::detail {

// The tag of a map that is the whole state.
struct NoTag {};

template <typename Map, typename Visit, typename Tag = NoTag>
class FrozenView {
 public:
  FrozenView() = default;
  explicit FrozenView(Visit visit) : visit_(std::move(visit)) {}

  // Adds `map`, frozen now: its entries as they are at this cut.
  void add(Map& map, Tag tag = Tag{}) { parts_.push_back(Part{std::move(tag), map.freeze()}); }

  // visit(tag, key, value, args...) for every entry. Once per view.
  template <typename... Args>
  void for_each_entry(Args&&... args) const {
    for (const Part& p : parts_) {
      p.frozen.for_each(
          [&](const auto& key, const auto& value) { visit_(p.tag, key, value, args...); });
    }
  }

 private:
  struct Part {
    Tag tag;
    typename Map::Frozen frozen;
  };
  Visit visit_{};
  std::vector<Part> parts_;
};

// A view of one map, frozen now.
template <typename Visit, typename Map>
FrozenView<Map, Visit> freeze_view(Map& map) {
  FrozenView<Map, Visit> view;
  view.add(map);
  return view;
}

}  // namespace sluice::detail
