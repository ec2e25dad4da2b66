// The alert rules of every environment, as data: what fires, at which threshold, and what to check.
//
// They target the failures that end in a 3 AM crash on a small two-node platform: a node gone, a disk or
// memory running out, OOM kills, containers crash-looping, a service whose health endpoint stopped answering,
// LiteLLM failing or slow, one of a model's deployments failing or cooled down, clocks drifting, a nightly backup failed or missing. A Watchdog that always fires lets an outside dead-man's switch
// notice when the whole alerting path is gone. `renderAlertRules` in prometheus.ts writes them as a rule file.

import { scrapeJob } from "../catalog/services";

/** Limits the alert rules fire at. Each has a default in {@link DEFAULT_ALERT_THRESHOLDS}. */
export interface AlertThresholds {
  /** DiskSpaceLow fires when a filesystem's free fraction stays below this (0-1). Default 0.10. */
  diskFreeRatio: number;
  /** DiskWillFillIn24h fires when the 6 h trend reaches zero free space within this many hours. Default 24. */
  predictFullHours: number;
  /** MemoryPressure fires when MemAvailable / MemTotal stays below this (0-1). Default 0.10. */
  memoryAvailableRatio: number;
  /** ContainerRestarting fires when a container started at least this many times within 15 minutes. Default 3. */
  restartsIn15m: number;
  /** LiteLLMErrorRate fires when failed / all proxy requests over 5 minutes stays above this (0-1). Default 0.05. */
  litellmErrorRatio: number;
  /** LiteLLMLatencyHigh fires when the 95th percentile of whole-request latency stays above this, in seconds. Default 30. */
  litellmP95Seconds: number;
  /** ClockSkew fires when the kernel's clock offset exceeds this, in seconds (either sign). Default 0.05. */
  clockOffsetSeconds: number;
  /** BackupStale fires when a store's last successful backup (or its setup, before any) is older than this, in hours. Default 26. */
  backupMaxAgeHours: number;
}

export const DEFAULT_ALERT_THRESHOLDS: Readonly<AlertThresholds> = Object.freeze({
  diskFreeRatio: 0.1,
  predictFullHours: 24,
  memoryAvailableRatio: 0.1,
  restartsIn15m: 3,
  litellmErrorRatio: 0.05,
  litellmP95Seconds: 30,
  clockOffsetSeconds: 0.05,
  backupMaxAgeHours: 26,
});

export type Severity = "critical" | "warning";

export interface AlertDefinition {
  name: string;
  severity: Severity;
  /** How long the condition must hold; omitted means it fires at the first evaluation. */
  for?: string;
  expr: string;
  /** Plain text, no templates: it is also what the plan report shows. */
  summary: string;
  /** What to check; may use `$labels` and `$value` templates. */
  description: string;
}

/** Filesystems worth alerting on: in-memory and read-only image filesystems are always "full" or irrelevant. */
const FILESYSTEMS = `fstype!~"tmpfs|ramfs|squashfs|overlay"`;

function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(12))}%`;
}

/**
 * Each LiteLLM deployment's state, the highest per `by` (which should hold model_id), as LiteLLM 1.110.2 sets
 * litellm_deployment_state: 0 its last request succeeded, 1 its last request failed (partial outage), 2 it was
 * cooled down (complete outage). A cooldown writes the gauge under the deployment's configured api_base
 * (router_utils/cooldown_callbacks.py), a request under the URL it called (integrations/prometheus.py
 * set_llm_deployment_success_metrics and ..._failure_metrics), which for Ollama ends in /api/chat: the
 * deployment then has two series, and the cooldown's stays at 2 after it recovers (measured with the real proxy).
 * So the requests' series is the state; the cooldown's counts while the requests' is not back at 0; and where the
 * two are one series (an OpenAI-compatible backend's, whose URL is its api_base) that series is the state.
 * Requests LiteLLM refused before choosing a deployment carry model_id="" and are left out.
 */
export function liteLlmDeploymentState(by: string): string {
  const job = `job="${scrapeJob("litellm")}"`;
  const state = `litellm_deployment_state{${job}, model_id!=""}`;
  const cooled = `litellm_deployment_cooled_down_total{${job}}`;
  const requests = `(${state} unless on (instance, model_id, api_base) ${cooled})`;
  const cooldowns = `(${state} and on (instance, model_id, api_base) ${cooled})`;
  return (
    `max by (${by}) (${requests} or on (instance, model_id) ${state}` +
    ` or (${cooldowns} and on (instance, model_id) (max by (instance, model_id) ${requests} > 0)))`
  );
}

/** How the descriptions name the host an alert is about. */
export interface AlertNaming {
  /**
   * The environment has extra inference nodes, so its inference nodes' series carry a `node` label (a worker's
   * name, or catalog FIRST_INFERENCE_NODE for the first): the descriptions name the node beside its address.
   * The operations node has no such label and reads as before. Default false: the descriptions of a stack without
   * workers stay as they always were, so its Prometheus is not replaced on upgrade.
   */
  nodeNames?: boolean;
  /**
   * The environment's Qdrant is a cluster (it has extra inference nodes): one more alert, on a shard copy that
   * is not active. Default false, for the same reason.
   */
  qdrantCluster?: boolean;
}

export function alertDefinitions(t: AlertThresholds, naming: AlertNaming = {}): AlertDefinition[] {
  // `with` renders nothing for a series without the label (Go's text/template, which Prometheus expands).
  const named = naming.nodeNames === true ? '{{ with $labels.node }} "{{ . }}"{{ end }}' : "";
  const host = `{{ $labels.instance }}${naming.nodeNames === true ? '{{ with $labels.node }} (node "{{ . }}"){{ end }}' : ""}`;
  const hostAndRole = `{{ $labels.instance }} ({{ $labels.role }} node${named})`;
  const nodeJob = scrapeJob("nodeExporter");
  const node = `job="${nodeJob}"`;
  const freeRatio = `node_filesystem_avail_bytes{${FILESYSTEMS}} / node_filesystem_size_bytes{${FILESYSTEMS}}`;
  return [
    {
      name: "Watchdog",
      severity: "warning",
      expr: "vector(1)",
      summary: "Always firing: proves the alerting pipeline works end to end",
      description:
        "This alert fires all the time on purpose. Alertmanager sends it to the dead-man's switch every few minutes; " +
        "when those notifications stop, Prometheus, Alertmanager or the operations node is down.",
    },
    {
      name: "NodeDown",
      severity: "critical",
      for: "2m",
      expr: `up{${node}} == 0`,
      summary: "A node stopped answering node-exporter scrapes",
      description:
        `node-exporter on ${hostAndRole} has not answered for 2 minutes. ` +
        "Check the server in the Hetzner console, `tailscale status` on the operations node (is the node still on the tailnet?), " +
        "then `docker ps` on the node for the node-exporter container.",
    },
    {
      name: "TargetDown",
      severity: "warning",
      for: "5m",
      expr: `up{job!="${nodeJob}"} == 0`,
      summary: "A scrape target stopped answering",
      description:
        `Prometheus cannot scrape job {{ $labels.job }} at ${host} for 5 minutes. ` +
        "Check the container with `docker ps` and `docker logs` on that node, and for litellm or qdrant that the mounted key still matches (a 401 or 403 shows on the Prometheus targets page).",
    },
    {
      name: "DiskSpaceLow",
      severity: "critical",
      for: "5m",
      expr: `${freeRatio} < ${t.diskFreeRatio}`,
      summary: `Less than ${percent(t.diskFreeRatio)} free on a filesystem`,
      description:
        `{{ $labels.mountpoint }} on ${host} has {{ $value | humanizePercentage }} free. ` +
        "Check `docker system df` (images, build cache), container logs under /var/lib/docker/containers, Ollama models and Qdrant snapshots; " +
        "`du -xh --max-depth=2 {{ $labels.mountpoint }}` finds the rest.",
    },
    {
      name: "DiskWillFillIn24h",
      severity: "warning",
      for: "1h",
      expr: `predict_linear(node_filesystem_avail_bytes{${FILESYSTEMS}}[6h], ${t.predictFullHours} * 3600) < 0`,
      summary: `A filesystem will be full within ${t.predictFullHours} hours at the current rate`,
      description:
        `At the rate of the last 6 hours {{ $labels.mountpoint }} on ${host} fills up within ${t.predictFullHours} hours. ` +
        "Find what is growing: container logs, model pulls, Qdrant storage or snapshots, Prometheus's own TSDB on the operations node.",
    },
    {
      name: "MemoryPressure",
      severity: "critical",
      for: "5m",
      expr: `node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < ${t.memoryAvailableRatio}`,
      summary: `Less than ${percent(t.memoryAvailableRatio)} of memory available`,
      description:
        `${hostAndRole} has {{ $value | humanizePercentage }} of its memory available; the OOM killer is next. ` +
        "Check `docker stats` for the biggest containers, the models Ollama keeps loaded (`ollama ps`), its context size and OLLAMA_NUM_PARALLEL, and LiteLLM's worker count.",
    },
    {
      name: "OOMKill",
      severity: "warning",
      expr: "increase(node_vmstat_oom_kill[15m]) > 0",
      summary: "The kernel OOM killer ended a process",
      description:
        `The kernel on ${host} killed a process for lack of memory in the last 15 minutes. ` +
        "`journalctl -k | grep -i oom` names the process; `docker inspect <container> | grep OOMKilled` tells whether a container was hit. " +
        "Then look at memory limits and the models Ollama loads.",
    },
    {
      // cAdvisor exposes no restart counter (that is a kube-state-metrics metric). It exposes
      // container_start_time_seconds per container; each restart of the same container gives the same series a
      // new value, so changes() counts starts. Restarts faster than the scrape interval are undercounted.
      name: "ContainerRestarting",
      severity: "warning",
      expr: `changes(container_start_time_seconds{name!=""}[15m]) >= ${t.restartsIn15m}`,
      summary: `A container restarted at least ${t.restartsIn15m} times in 15 minutes`,
      description:
        `Container {{ $labels.name }} on ${host} keeps restarting (image {{ $labels.image }}). ` +
        "Check `docker logs --tail 100 {{ $labels.name }}` and `docker inspect` (exit code, OOMKilled), and whether a dependency it needs is down.",
    },
    {
      name: "ProbeFailed",
      severity: "critical",
      for: "2m",
      expr: "probe_success == 0",
      summary: "A service's health endpoint is failing",
      description:
        `The {{ $labels.probe }} health check at ${host} has failed for 2 minutes. ` +
        "Check the container on its node (`docker ps`, `docker logs`), then the node itself; probe_http_status_code and probe_duration_seconds for this instance show whether it answered badly or not at all.",
    },
    {
      // LiteLLM's Prometheus callback (litellm/integrations/prometheus.py) counts every proxy request in
      // litellm_proxy_total_requests_metric and the failed ones in litellm_proxy_failed_requests_metric;
      // the Python client exposes both counters with a _total suffix.
      name: "LiteLLMErrorRate",
      severity: "warning",
      for: "10m",
      expr:
        "sum by (job, instance) (rate(litellm_proxy_failed_requests_metric_total[5m]))" +
        " / sum by (job, instance) (rate(litellm_proxy_total_requests_metric_total[5m]))" +
        ` > ${t.litellmErrorRatio}`,
      summary: `More than ${percent(t.litellmErrorRatio)} of LiteLLM requests fail`,
      description:
        "{{ $value | humanizePercentage }} of requests through LiteLLM at {{ $labels.instance }} failed over 5 minutes. " +
        "Check `docker logs` of LiteLLM, whether Ollama answers (the ollama probe), and litellm_proxy_failed_requests_metric_total by exception_class for the kind of error.",
    },
    {
      // litellm_request_total_latency_metric is LiteLLM's histogram of whole-request latency in seconds,
      // from the proxy receiving the request to the response; its buckets reach 300 s.
      name: "LiteLLMLatencyHigh",
      severity: "warning",
      for: "15m",
      expr:
        "histogram_quantile(0.95, sum by (job, instance, le) (rate(litellm_request_total_latency_metric_bucket[10m])))" +
        ` > ${t.litellmP95Seconds}`,
      summary: `LiteLLM's 95th percentile request latency is above ${t.litellmP95Seconds} s`,
      description:
        "95% of requests through LiteLLM at {{ $labels.instance }} take up to {{ $value | humanizeDuration }}. " +
        "Check the inference node's CPU and memory, whether Ollama swaps models in and out (`ollama ps`), queueing (OLLAMA_NUM_PARALLEL), and the prompt sizes clients send.",
    },
    {
      // One deployment of a model (model_info.id "<model>@<where>", render/litellm.ts) failing while LiteLLM
      // serves the model from its others: the error rate may stay low, so it has an alert of its own.
      name: "LiteLLMDeploymentDown",
      severity: "warning",
      for: "5m",
      expr: `${liteLlmDeploymentState("job, instance, model_id")} >= 1`,
      summary: "A LiteLLM deployment of a model is failing or cooled down",
      description:
        "LiteLLM's deployment {{ $labels.model_id }} (model@where: local is the inference node's Ollama, another name an external backend) " +
        "has failed its requests or been cooled down for 5 minutes; LiteLLM sends the model's requests to its other deployments meanwhile, if it has any. " +
        "Check that backend's probe (backend-<where> on the Service probes panel, or the ollama probe for local), " +
        "`docker logs litellm` on the inference node for the error, and litellm_deployment_failure_responses_total by exception_status. " +
        "LiteLLM changes the state only when it sends the deployment a request: without traffic it stays as the last request left it.",
    },
    {
      name: "ClockSkew",
      severity: "warning",
      for: "10m",
      expr: `abs(node_timex_offset_seconds) > ${t.clockOffsetSeconds} or node_timex_sync_status == 0`,
      summary: "A node's clock is off or not synchronised",
      description:
        `The clock of ${host} is more than ${t.clockOffsetSeconds} s off, or the kernel reports it unsynchronised. ` +
        "Check `timedatectl` and `chronyc tracking` (or systemd-timesyncd) on the node, and that outbound NTP (UDP 123) is allowed.",
    },
    {
      // Each node's backup program writes its stores' results for node-exporter's textfile collector
      // (render/backupScripts.ts). The install records when a store's backups were set up, so a store that never
      // succeeded counts from then; "retention" is the run's forget --prune.
      name: "BackupStale",
      severity: "warning",
      expr:
        `time() - aiplatform_backup_last_success_timestamp_seconds{${node}} > ${t.backupMaxAgeHours} * 3600` +
        ` or (time() - aiplatform_backup_enabled_timestamp_seconds{${node}} > ${t.backupMaxAgeHours} * 3600` +
        ` unless on (instance, store) aiplatform_backup_last_success_timestamp_seconds{${node}})`,
      summary: `A store has had no successful backup for more than ${t.backupMaxAgeHours} hours`,
      description:
        `The last successful backup of {{ $labels.store }} on ${hostAndRole} was {{ $value | humanizeDuration }} ago ` +
        "(when none ever succeeded: that long since its backups were set up). " +
        "On the node: `systemctl list-timers ai-platform-backup.timer` (did it run?), `journalctl -u ai-platform-backup` (why did it fail?), " +
        "then `ai-platform-backup` to take one now.",
    },
    {
      name: "BackupFailed",
      severity: "warning",
      expr: `aiplatform_backup_last_run_success{${node}} == 0`,
      summary: "The last backup run of a store failed",
      description:
        `The last nightly backup of {{ $labels.store }} on ${hostAndRole} failed; its last good copy is still in the repository. ` +
        "`journalctl -u ai-platform-backup` on the node says why (the repository unreachable or refusing its password, a store's container down, the disk full); " +
        "fix it and run `ai-platform-backup` on the node to take one now.",
    },
    ...(naming.qdrantCluster === true ? [qdrantReplicaAlert(host)] : []),
  ];
}

/**
 * A Qdrant peer reports shards with a copy that is not active: a copy Qdrant marked dead after a write to it
 * failed, or one still being filled. Qdrant's `collection_dead_replicas` counts those shards on the peer
 * (src/common/metrics.rs at v1.19.0); it has no per-peer reachability metric, and `cluster_peers_total` counts an
 * unreachable peer too.
 */
function qdrantReplicaAlert(host: string): AlertDefinition {
  return {
    name: "QdrantReplicaInactive",
    severity: "warning",
    for: "15m",
    expr: `max by (instance, role, node) (collection_dead_replicas{job="qdrant"}) > 0`,
    summary: "A Qdrant shard has a copy that is not active",
    description:
      `Qdrant on ${host} has reported {{ $value | humanize }} shard(s) with a copy that is not active for 15 minutes: writes to them are not kept on every copy. ` +
      "On the tailnet, `GET /cluster` shows which peer is unreachable and `GET /collections/<name>/cluster` each shard's copies and their state. " +
      "A peer that was down recovers its copies once it answers again; a lost peer is taken out and its shards replicated again (README, \"Qdrant across the inference nodes\").",
  };
}

export function validateThresholds(t: AlertThresholds): void {
  const ratios: (keyof AlertThresholds)[] = ["diskFreeRatio", "memoryAvailableRatio", "litellmErrorRatio"];
  for (const key of ratios) {
    if (!(t[key] > 0 && t[key] < 1)) throw new Error(`threshold ${key} must be a fraction between 0 and 1 (exclusive); got ${t[key]}`);
  }
  const positive: (keyof AlertThresholds)[] = ["predictFullHours", "litellmP95Seconds", "clockOffsetSeconds", "backupMaxAgeHours"];
  for (const key of positive) {
    if (!(Number.isFinite(t[key]) && t[key] > 0)) throw new Error(`threshold ${key} must be a positive number; got ${t[key]}`);
  }
  if (!Number.isInteger(t.restartsIn15m) || t.restartsIn15m < 1) {
    throw new Error(`threshold restartsIn15m must be a whole number, at least 1; got ${t.restartsIn15m}`);
  }
}

/** What `renderAlertRules` emits (at the default thresholds), for the plan report and the routing tests. */
export const ALERTS: readonly { name: string; severity: Severity; summary: string }[] = Object.freeze(
  alertDefinitions(DEFAULT_ALERT_THRESHOLDS).map(({ name, severity, summary }) => Object.freeze({ name, severity, summary })),
);
