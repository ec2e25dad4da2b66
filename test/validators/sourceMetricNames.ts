/**
 * The metric names of the two exporters the tests cannot run here (cAdvisor needs a container runtime,
 * Qdrant has no package on the registries this machine reaches), read from their source. Data, with where
 * each list was read; test/render/metricNames.test.ts checks the dashboards' and rules' names against it.
 * When the image catalog bumps either version, read the files again at the new version and update the list
 * and its `forVersion` (the test fails until then).
 */

/** A list of names read from an exporter's source. */
export interface SourceMetricList {
  exporter: string;
  /** The GitHub repository and the files the names were read from. */
  repository: string;
  files: string[];
  /** The commit read, and how it relates to the release deployed. */
  read: string;
  /** The release (components/catalog/images.ts) the list stands for. */
  forVersion: string;
}

/**
 * cAdvisor: every name its Prometheus handler registers, by the metric kind (`--disable_metrics`) that gates it;
 * `always` is registered whatever the flags. The handler also registers client_golang's Go runtime and process
 * collectors (`go_*`, `process_*`), not listed: no panel or rule uses them.
 */
export const CADVISOR_METRICS: SourceMetricList & { byKind: Readonly<Record<string, readonly string[]>> } = {
  exporter: "cAdvisor",
  repository: "google/cadvisor",
  files: ["lib/metrics/prometheus.go", "lib/metrics/prometheus_machine.go", "lib/container/factory.go (the kinds)", "cmd/internal/http/handlers.go"],
  read:
    "commit 6a0c4f25 (2026-07-20, three commits after v0.60.5); the three lib/metrics files are byte-identical in " +
    "the Go module github.com/google/cadvisor/lib v0.60.6, the lib module tagged with the v0.60.6 release",
  forVersion: "0.60.6",
  byKind: {
    always: [
      "cadvisor_version_info",
      "container_scrape_error",
      "container_last_seen",
      "container_health_state",
      "container_creation_time_seconds",
      "container_start_time_seconds",
      "container_spec_cpu_period",
      "container_spec_cpu_quota",
      "container_spec_cpu_shares",
      "container_spec_memory_limit_bytes",
      "container_spec_memory_swap_limit_bytes",
      "container_spec_memory_reservation_limit_bytes",
      "machine_scrape_error",
      "machine_cpu_books",
      "machine_cpu_cores",
      "machine_cpu_drawers",
      "machine_cpu_physical_cores",
      "machine_cpu_sockets",
      "machine_dimm_capacity_bytes",
      "machine_dimm_count",
      "machine_memory_bytes",
      "machine_nvm_avg_power_budget_watts",
      "machine_nvm_capacity",
      "machine_swap_bytes",
    ],
    cpu: [
      "container_cpu_cfs_burst_periods_total",
      "container_cpu_cfs_burst_seconds_total",
      "container_cpu_cfs_periods_total",
      "container_cpu_cfs_throttled_periods_total",
      "container_cpu_cfs_throttled_seconds_total",
      "container_cpu_system_seconds_total",
      "container_cpu_usage_seconds_total",
      "container_cpu_user_seconds_total",
    ],
    sched: [
      "container_cpu_schedstat_run_periods_total",
      "container_cpu_schedstat_run_seconds_total",
      "container_cpu_schedstat_runqueue_seconds_total",
    ],
    cpuLoad: ["container_cpu_load_average_10s", "container_cpu_load_d_average_10s", "container_tasks_state"],
    hugetlb: ["container_hugetlb_failcnt", "container_hugetlb_max_usage_bytes", "container_hugetlb_usage_bytes"],
    memory: [
      "container_memory_cache",
      "container_memory_events_high_total",
      "container_memory_events_max_total",
      "container_memory_failcnt",
      "container_memory_failures_total",
      "container_memory_file_dirty_bytes",
      "container_memory_file_writeback_bytes",
      "container_memory_kernel_usage",
      "container_memory_mapped_file",
      "container_memory_max_usage_bytes",
      "container_memory_pgscan_total",
      "container_memory_pgsteal_total",
      "container_memory_rss",
      "container_memory_swap",
      "container_memory_total_active_file_bytes",
      "container_memory_total_inactive_file_bytes",
      "container_memory_usage_bytes",
      "container_memory_working_set_bytes",
      "container_memory_workingset_refault_anon_total",
      "container_memory_workingset_refault_file_total",
    ],
    cpuset: ["container_memory_migrate"],
    memory_numa: ["container_memory_numa_pages"],
    disk: ["container_fs_inodes_free", "container_fs_inodes_total", "container_fs_limit_bytes", "container_fs_usage_bytes"],
    diskIO: [
      "container_blkio_device_usage_total",
      "container_fs_io_cost_indebt_seconds_total",
      "container_fs_io_cost_indelay_seconds_total",
      "container_fs_io_cost_usage_seconds_total",
      "container_fs_io_cost_wait_seconds_total",
      "container_fs_io_current",
      "container_fs_io_time_seconds_total",
      "container_fs_io_time_weighted_seconds_total",
      "container_fs_read_seconds_total",
      "container_fs_reads_bytes_total",
      "container_fs_reads_merged_total",
      "container_fs_reads_total",
      "container_fs_sector_reads_total",
      "container_fs_sector_writes_total",
      "container_fs_write_seconds_total",
      "container_fs_writes_bytes_total",
      "container_fs_writes_merged_total",
      "container_fs_writes_total",
    ],
    network: [
      "container_network_receive_bytes_total",
      "container_network_receive_errors_total",
      "container_network_receive_packets_dropped_total",
      "container_network_receive_packets_total",
      "container_network_transmit_bytes_total",
      "container_network_transmit_errors_total",
      "container_network_transmit_packets_dropped_total",
      "container_network_transmit_packets_total",
    ],
    tcp: ["container_network_tcp6_usage_total", "container_network_tcp_usage_total"],
    advtcp: ["container_network_advance_tcp_stats_total"],
    udp: ["container_network_udp6_usage_total", "container_network_udp_usage_total"],
    process: [
      "container_file_descriptors",
      "container_processes",
      "container_sockets",
      "container_threads",
      "container_threads_max",
      "container_ulimits_soft",
    ],
    perf_event: [
      "container_perf_events_scaling_ratio",
      "container_perf_events_total",
      "container_perf_uncore_events_scaling_ratio",
      "container_perf_uncore_events_total",
    ],
    referenced_memory: ["container_referenced_bytes"],
    resctrl: ["container_llc_occupancy_bytes", "container_memory_bandwidth_bytes", "container_memory_bandwidth_local_bytes"],
    oom_event: ["container_oom_events_total"],
    pressure: [
      "container_pressure_cpu_stalled_seconds_total",
      "container_pressure_cpu_waiting_seconds_total",
      "container_pressure_io_stalled_seconds_total",
      "container_pressure_io_waiting_seconds_total",
      "container_pressure_memory_stalled_seconds_total",
      "container_pressure_memory_waiting_seconds_total",
    ],
    cpu_topology: [
      "machine_cpu_cache_capacity_bytes",
      "machine_node_distance",
      "machine_node_hugepages_count",
      "machine_node_memory_capacity_bytes",
      "machine_thread_siblings_count",
    ],
    // Kinds that gate no name of their own: percpu adds a `cpu` label to container_cpu_usage_seconds_total;
    // app lets containers publish metrics of their own.
    percpu: [],
    app: [],
  },
};

/** The names cAdvisor exposes when run with `flags`: every kind but those its `--disable_metrics` lists. */
export function cadvisorNames(flags: readonly string[]): Set<string> {
  const flag = flags.find((f) => f.startsWith("--disable_metrics="));
  const disabled = new Set(flag === undefined ? [] : flag.slice("--disable_metrics=".length).split(","));
  for (const kind of disabled) {
    if (!(kind in CADVISOR_METRICS.byKind)) throw new Error(`--disable_metrics names "${kind}", which is not a cAdvisor metric kind`);
  }
  return new Set(
    Object.entries(CADVISOR_METRICS.byKind)
      .filter(([kind]) => kind === "always" || !disabled.has(kind))
      .flatMap(([, names]) => names),
  );
}

/**
 * Qdrant: every metric family of its /metrics, with no `metrics_prefix` set (the stack sets none). REST and
 * gRPC each get the responses family set under `rest_` and `grpc_`; `*_responses_fail_total` was removed in
 * v1.17.0 (qdrant/qdrant#7944: failures are told by the `status` label).
 */
export const QDRANT_METRICS: SourceMetricList & { gauges: readonly string[]; counters: readonly string[]; histograms: readonly string[] } = {
  exporter: "Qdrant",
  repository: "qdrant/qdrant",
  files: ["src/common/metrics.rs"],
  read:
    "tag v1.19.0 (commit 74f3e85b, 2026-08-04), the newest release whose source is at hand here; v1.20.0's is not. " +
    "The file's families did not change between v1.17.0 and v1.19.0 but for additions",
  forVersion: "1.20.0",
  gauges: [
    "app_info",
    "app_status_recovery_mode",
    "audit_log_dir_size_bytes",
    "cluster_enabled",
    "cluster_peers_total",
    "cluster_pending_operations_total",
    "cluster_voter",
    "cluster_working_state",
    "collection_active_replicas_max",
    "collection_active_replicas_min",
    "collection_dead_replicas",
    "collection_indexed_only_excluded_points",
    "collection_points",
    "collection_running_optimizations",
    "collection_shard_transfer_incoming",
    "collection_shard_transfer_outgoing",
    "collection_update_queue_deferred_points",
    "collection_update_queue_length",
    "collection_vectors",
    "collections_total",
    "collections_vector_total",
    "memory_active_bytes",
    "memory_allocated_bytes",
    "memory_metadata_bytes",
    "memory_resident_bytes",
    "memory_retained_bytes",
    "process_max_fds",
    "process_open_fds",
    "process_open_mmaps",
    "process_threads",
    "quota_exceeded",
    "snapshot_creation_running",
    "snapshot_recovery_running",
    "system_max_mmaps",
    "rest_responses_avg_duration_seconds",
    "rest_responses_min_duration_seconds",
    "rest_responses_max_duration_seconds",
    "grpc_responses_avg_duration_seconds",
    "grpc_responses_min_duration_seconds",
    "grpc_responses_max_duration_seconds",
  ],
  // The Rust prometheus crate writes a counter under its family's name, with no `_total` added.
  counters: [
    "cluster_commit",
    "cluster_last_update_timestamp_seconds",
    "cluster_term",
    "collection_hardware_metric_cpu",
    "collection_hardware_metric_payload_index_io_read",
    "collection_hardware_metric_payload_index_io_write",
    "collection_hardware_metric_payload_io_read",
    "collection_hardware_metric_payload_io_write",
    "collection_hardware_metric_vector_io_read",
    "collection_hardware_metric_vector_io_write",
    "process_major_page_faults_total",
    "process_minor_page_faults_total",
    "snapshot_created_total",
    "rest_responses_total",
    "grpc_responses_total",
  ],
  histograms: ["rest_responses_duration_seconds", "grpc_responses_duration_seconds"],
};

/** The series names Qdrant's families give: a histogram's `_bucket`, `_sum` and `_count`, the others as they are. */
export function qdrantNames(): Set<string> {
  const histogramSeries = QDRANT_METRICS.histograms.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]);
  return new Set([...QDRANT_METRICS.gauges, ...QDRANT_METRICS.counters, ...histogramSeries]);
}
