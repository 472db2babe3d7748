#include "runtime/operator_ids.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace sluice::runtime {
namespace {

bool has_control_character(const std::string& s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// A name as an id: control characters (which a manifest line cannot hold) become spaces.
std::string id_of_name(std::string name) {
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return name.empty() ? std::string("operator") : name;
}

}  // namespace

Result<std::vector<std::string>> assign_operator_ids(const detail::LogicalGraph& graph) {
  const int n = graph.node_count();
  std::vector<std::string> ids(static_cast<size_t>(n));
  std::unordered_map<std::string, int> taken;  // id -> node
  // The users' uids first: a derived id never takes one of them.
  for (int i = 0; i < n; ++i) {
    const detail::NodeSpec& node = graph.node(i);
    if (!node.uid) continue;
    const std::string& uid = *node.uid;
    if (uid.empty() || has_control_character(uid)) {
      return Status::invalid_argument(
          fmt::format("operator '{}': uid '{}' is not usable; expected a non-empty text without "
                      "control characters",
                      node.name, uid));
    }
    auto [it, inserted] = taken.emplace(uid, i);
    if (!inserted) {
      return Status::invalid_argument(fmt::format(
          "operators '{}' and '{}' both have uid '{}'; a uid names one operator of the job",
          graph.node(it->second).name, node.name, uid));
    }
    ids[static_cast<size_t>(i)] = uid;
  }
  for (int i = 0; i < n; ++i) {
    const detail::NodeSpec& node = graph.node(i);
    if (node.uid) continue;
    const std::string base = id_of_name(node.name);
    std::string id = base;
    for (int k = 2; taken.contains(id); ++k) id = fmt::format("{}#{}", base, k);
    taken.emplace(id, i);
    ids[static_cast<size_t>(i)] = std::move(id);
  }
  return ids;
}

}  // namespace sluice::runtime
