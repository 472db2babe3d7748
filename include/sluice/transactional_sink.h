// Transactional sinks: how a sink takes part in checkpoints with two-phase commit, so that what it
// publishes is exactly what complete checkpoints cover (exactly-once output across failures).
//
// A sink (see SinkFor in sluice/stream.h: `write(std::span<const T>)`, optionally `open` and
// `finish`) joins the protocol by providing the four calls of TransactionalSink below. The
// runtime calls them on each subtask's copy of the sink:
//
//   write(rows)           between barriers, on the task's thread: rows go into the current
//                         transaction.
//   prepare(n, state)     at the barrier of checkpoint n, on the task's thread (part of the
//                         synchronous cut): make what was written since the previous barrier
//                         durable but unpublished (close and fsync a part file, flush a broker
//                         transaction, PREPARE TRANSACTION), describe every prepared transaction
//                         not yet committed in `state` (stored with the checkpoint), and start a
//                         new current transaction. A status other than OK declines checkpoint n
//                         with that message (the job goes on, the sink then hears abort(n)).
//   commit(n)             once checkpoint n is complete (its manifest is in place): publish the
//                         transactions prepared under n and under every earlier id still pending.
//                         Must be idempotent: recovery and retries call it again for transactions
//                         that may already be published. Returns
//                           OK                     done;
//                           Status::unavailable()  retry later (a transient failure: a broker or
//                                                  database unreachable). The runtime calls
//                                                  commit(n) again after a backoff (10 ms,
//                                                  doubling up to 5 s) without stalling the task;
//                           any other status       the job fails with the message, naming the
//                                                  operator (and restarts from the latest
//                                                  checkpoint when `restart.attempts` allows).
//   abort(n)              checkpoint n, which the sink prepared, will never complete: a task
//                         declined it, it timed out, or it could not be written. The rows of its
//                         transaction are still owed — the next checkpoint's source positions lie
//                         after them — so the sink keeps that transaction for the next commit(m),
//                         m > n (it folds it into the next one; the part-file sink does this), or
//                         merges it into its current one. A sink that cannot keep it (a broker
//                         that already dropped the transaction) returns a failure: the job
//                         restarts from the latest complete checkpoint and the rows are replayed.
//                         Dropping the rows and returning OK would lose them. Statuses as for
//                         commit (unavailable: retried).
//   recover(states, p)    when the job resumes from a checkpoint, after open() and before any row,
//                         on the task's thread: `states` are the `state`s the p old subtasks
//                         prepared at that checkpoint (empty for an old subtask without one).
//                         Commit the transactions they describe that this subtask takes over (an
//                         old subtask's share at another parallelism is the sink's choice), and
//                         abort what was written after the checkpoint (it is replayed). A status
//                         other than OK fails the start of the job.
//
// Order and threads. For one sink subtask, commit and abort calls come one at a time, each after
// the prepare of its checkpoint (which happens-before it). Commits come in ascending checkpoint
// order, and a commit of a later checkpoint may come without one of an earlier (it covers it).
// An abort(n) never follows a commit(m) with m >= n; it may precede the commit of an earlier
// checkpoint that was still being written when n was abandoned. By default they run on
// the task's thread between batches and must be quick (a rename); a retry later waits its
// backoff without blocking the task. A sink whose commit may block (a database, a broker)
// declares
//
//   static constexpr bool kCommitBlocks = true;
//
// and its commit and abort then run on the job's committer thread (one per job), while the task
// goes on writing and preparing: what commit/abort and write/prepare share (the list of prepared
// transactions) the sink guards itself, with a mutex per call (calls are per checkpoint, never per
// row). A job ends — a bounded job after its final checkpoint, a stop with a savepoint — only once
// the commits of its last checkpoint are done; a failed job or a cancelled one leaves pending
// commits to the next start's recover().
//
// Expected failures are returned as Status; an exception thrown from commit or abort counts as a
// failure (the job fails), one thrown from prepare declines the checkpoint.
#pragma once

#include <concepts>
#include <cstdint>
#include <vector>

#include "sluice/status.h"

namespace sluice {

template <typename S>
concept TransactionalSink = requires(S& s, uint64_t id, std::vector<char>& state,
                                     const std::vector<std::vector<char>>& states) {
  { s.prepare(id, state) } -> std::same_as<Status>;
  { s.commit(id) } -> std::same_as<Status>;
  { s.abort(id) } -> std::same_as<Status>;
  { s.recover(states, 1) } -> std::same_as<Status>;
};

// Whether the commits of sink type S may block: S::kCommitBlocks when it declares one.
template <typename S>
constexpr bool commit_blocks() {
  if constexpr (requires { S::kCommitBlocks; }) {
    return static_cast<bool>(S::kCommitBlocks);
  } else {
    return false;
  }
}

}  // namespace sluice
