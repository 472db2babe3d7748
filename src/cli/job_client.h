// JobClient: the commands that talk to a running job over its HTTP endpoint (the job option
// `metrics.address`, e.g. 127.0.0.1:9249): `sluice savepoint` and `sluice stop`.
//
// Thread-safety: plain functions; each call opens its own connection.
#pragma once

#include <string>

#include "sluice/status.h"

namespace sluice::cli {

// Asks the job at `address` ("host:port", or "http://host:port") for a savepoint into
// `target_dir`, stopping it afterwards with `stop`. The savepoint's directory, or a message that
// says what went wrong (no job there, the job's own reason).
Result<std::string> request_savepoint(const std::string& address, const std::string& target_dir,
                                      bool stop);

}  // namespace sluice::cli
