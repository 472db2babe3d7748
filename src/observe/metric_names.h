// Every metric Sluice exports, in one place: the names the Prometheus endpoint serves, the
// Grafana dashboard (deploy/grafana/) queries and the README documents. Labels: `sluice_job` (the
// name given to execute(); not `job`, which Prometheus sets to the scrape job) on all;
// `operator` and `subtask` on operator figures; `task` (the head operator of a chain) and
// `subtask` on task figures; `kind` where noted.
#pragma once

namespace sluice::observe {

struct MetricName {
  const char* name;
  const char* help;
};

namespace metric {

// Per operator subtask.
inline constexpr MetricName kRecordsIn{"sluice_operator_records_in_total",
                                       "Records received by an operator subtask"};
inline constexpr MetricName kRecordsOut{"sluice_operator_records_out_total",
                                        "Records emitted on an operator subtask's main output"};
inline constexpr MetricName kSideRecordsOut{
    "sluice_operator_side_records_out_total",
    "Records emitted on an operator subtask's side outputs (late records, tagged outputs)"};
inline constexpr MetricName kBytesIn{"sluice_operator_bytes_in_total",
                                     "In-memory bytes of the records received"};
inline constexpr MetricName kBytesOut{"sluice_operator_bytes_out_total",
                                      "In-memory bytes of the records emitted"};
inline constexpr MetricName kWatermark{
    "sluice_operator_watermark_milliseconds",
    "Last watermark an operator subtask emitted (event time, ms since the epoch)"};
inline constexpr MetricName kWatermarkLag{
    "sluice_operator_watermark_lag_seconds",
    "Wall clock minus the last watermark an operator subtask emitted"};
inline constexpr MetricName kLateDropped{"sluice_operator_late_records_dropped_total",
                                         "Records dropped for arriving after the watermark"};
inline constexpr MetricName kDeadLettered{"sluice_operator_dead_letter_records_total",
                                          "Bad records written to a dead-letter output"};
inline constexpr MetricName kBadRecords{"sluice_operator_bad_records_total",
                                        "Bad input records, whatever the policy did with them"};
inline constexpr MetricName kStateBytes{"sluice_operator_state_bytes",
                                        "Approximate bytes of an operator subtask's state"};
inline constexpr MetricName kStateKeys{"sluice_operator_state_keys",
                                       "Entries (keys, windows) in an operator subtask's state"};
inline constexpr MetricName kConnectorLag{
    "sluice_connector_lag_records", "Records a source has yet to read (e.g. Kafka consumer lag)"};
// End-to-end latency at sinks; kind="ingestion" (source to sink) or "event_time".
inline constexpr MetricName kLatency{"sluice_end_to_end_latency_seconds",
                                     "Latency of records reaching a sink, counted in records"};

// Per task subtask (a chain of operators run by one worker at a time).
inline constexpr MetricName kBusy{"sluice_task_busy_seconds_total",
                                  "Time a task spent processing records"};
inline constexpr MetricName kIdle{"sluice_task_idle_seconds_total",
                                  "Time a task had no input or waited for its worker"};
inline constexpr MetricName kBackpressured{"sluice_task_backpressured_seconds_total",
                                           "Time a task was blocked on a full output channel"};
inline constexpr MetricName kQueueDepth{"sluice_task_input_queue_depth",
                                        "Envelopes waiting in a task's input channels"};

// Per job.
inline constexpr MetricName kUptime{"sluice_job_uptime_seconds", "Time since the job started"};
inline constexpr MetricName kCheckpoints{"sluice_checkpoints_total",
                                         "Checkpoints by outcome (status=completed|failed)"};
inline constexpr MetricName kCheckpointDuration{"sluice_checkpoint_duration_seconds",
                                                "Checkpoint duration, trigger to completion"};
inline constexpr MetricName kCheckpointAlignment{"sluice_checkpoint_alignment_seconds",
                                                 "Time spent aligning checkpoint barriers"};
inline constexpr MetricName kCheckpointSize{"sluice_checkpoint_size_bytes",
                                            "Bytes of state in the last completed checkpoint"};
inline constexpr MetricName kErrors{"sluice_errors_total",
                                    "Errors by kind (operator, source, sink, checkpoint)"};

}  // namespace metric
}  // namespace sluice::observe
