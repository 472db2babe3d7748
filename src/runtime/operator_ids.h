// Stable operator ids: the names under which checkpoints and savepoints file each operator's
// state, so that a changed job (an operator added or removed, a SQL query planned anew) still
// restores what its operators held.
//
// An operator's id is its `.uid()` when the user set one, otherwise its name. Ids are unique in a
// job: a name shared by several operators without uids gets `#2`, `#3`… on its later
// occurrences, in the order the operators were added, skipping ids already taken. Such derived
// ids move when an operator of the same name is added before them, which is why stateful
// operators of a job that will change should carry uids.
//
// Cost: once per job start, linear in the number of operators.
#pragma once

#include <string>
#include <vector>

#include "sluice/detail/graph.h"
#include "sluice/status.h"

namespace sluice::runtime {

// The id of every node, by node index. Not OK, naming the operators, when two set the same uid,
// or a uid is empty or holds a control character (ids are written on manifest lines).
Result<std::vector<std::string>> assign_operator_ids(const detail::LogicalGraph& graph);

}  // namespace sluice::runtime
