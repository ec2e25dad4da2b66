// The dashboard's rows about the machines: the nodes, and the containers on them.
import { Panel, RED, Row } from "./panels";
import { CONTAINER, FILESYSTEM, NODE, PICKED_NODES, PROBES, rate } from "./queries";

export function nodesRow(): Row {
  const node = "{{role}} ({{instance}})";
  const mount = "{{role}} {{mountpoint}} ({{instance}})";
  const panels: Panel[] = [
    {
      kind: "timeseries",
      title: "Node CPU busy",
      description: "Share of CPU time not idle, averaged over each node's cores.",
      unit: "percentunit",
      queries: [
        {
          expr: `1 - avg by (role, instance) (${rate("node_cpu_seconds_total", `${NODE}, mode="idle"`)})`,
          legend: node,
        },
      ],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    },
    {
      kind: "timeseries",
      title: "Node memory used and available",
      description: "Memory in use (total minus available) and memory available to new processes without swapping.",
      unit: "bytes",
      queries: [
        {
          expr: `node_memory_MemTotal_bytes{${NODE}} - node_memory_MemAvailable_bytes{${NODE}}`,
          legend: `${node} used`,
        },
        { expr: `node_memory_MemAvailable_bytes{${NODE}}`, legend: `${node} available` },
      ],
      width: 12,
      height: 8,
      min: 0,
      dashedSeries: "/available$/",
    },
    {
      kind: "timeseries",
      title: "Node disk used %",
      description: "Share of each real filesystem in use, as unprivileged processes see it.",
      unit: "percentunit",
      queries: [
        {
          expr: `1 - node_filesystem_avail_bytes{${FILESYSTEM}} / node_filesystem_size_bytes{${FILESYSTEM}}`,
          legend: mount,
        },
      ],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    },
    {
      kind: "timeseries",
      title: "Node disk free",
      description: "Space left on each real filesystem for unprivileged processes.",
      unit: "bytes",
      queries: [{ expr: `node_filesystem_avail_bytes{${FILESYSTEM}}`, legend: mount }],
      width: 12,
      height: 8,
      min: 0,
    },
  ];
  return { title: "Nodes", panels };
}

export function containersRow(): Row {
  const container = "{{name}} ({{instance}})";
  const workingSet = `sum by (instance, name) (container_memory_working_set_bytes{${CONTAINER}})`;
  // A container without a limit reports 0; the comparison drops it rather than draw a line at zero.
  const limit = `sum by (instance, name) (container_spec_memory_limit_bytes{${CONTAINER}}) > 0`;
  const panels: Panel[] = [
    {
      kind: "timeseries",
      title: "Container CPU",
      description: "CPU cores each container uses.",
      unit: "short",
      queries: [
        { expr: `sum by (instance, name) (${rate("container_cpu_usage_seconds_total", CONTAINER)})`, legend: container },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
    {
      kind: "timeseries",
      title: "Container memory working set vs limit",
      description:
        "Working set (what the kernel counts against the limit) of each container, and its memory limit, dashed. " +
        "Containers without a limit have no limit line.",
      unit: "bytes",
      queries: [
        { expr: workingSet, legend: container },
        { expr: limit, legend: `${container} limit` },
      ],
      width: 12,
      height: 8,
      min: 0,
      dashedSeries: "/limit$/",
    },
    {
      kind: "timeseries",
      title: "Container memory % of limit",
      description: "Working set as a share of the memory limit, for containers that have one. At 100% the kernel OOM-kills.",
      unit: "percentunit",
      queries: [{ expr: `${workingSet} / (${limit})`, legend: container }],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    },
    {
      kind: "timeseries",
      title: "Container restarts (last hour)",
      description:
        "Times each container started in the hour before each point, counted from changes of its start time. " +
        "A container that is replaced rather than restarted does not count.",
      unit: "short",
      queries: [
        {
          expr: `sum by (instance, name) (changes(container_start_time_seconds{${CONTAINER}}[1h]))`,
          legend: container,
        },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
  ];
  return { title: "Containers", panels };
}

/**
 * One series per inference node (the first and the workers), picked with the `node` variable: CPU, memory, its
 * Ollama's probe and its disks. Only in an environment with workers, where those series carry a `node` label. The
 * panels list no node by name, so adding or removing a worker does not change the dashboard: the variable reads
 * the names from Prometheus.
 */
export function inferenceNodesRow(): Row {
  const node = `${NODE}, ${PICKED_NODES}`;
  const filesystem = `${FILESYSTEM}, ${PICKED_NODES}`;
  const panels: Panel[] = [
    {
      kind: "stat",
      title: "Inference node Ollama probe",
      description:
        "Whether each inference node's Ollama answers its health check (the probe ollama on the first node, ollama-<name> on the others). " +
        "LiteLLM sends a model's requests to the nodes that answer; the ProbeFailed alert fires after 2 minutes down.",
      unit: "none",
      queries: [{ expr: `min by (node) (probe_success{${PROBES}, ${PICKED_NODES}})`, legend: "{{node}}" }],
      width: 24,
      height: 5,
      thresholds: [RED, { value: 1, color: "green" }],
      valueText: { "0": { text: "DOWN", color: "red" }, "1": { text: "UP", color: "green" } },
    },
    {
      kind: "timeseries",
      title: "Inference node CPU busy",
      description: "Share of CPU time not idle on each inference node, averaged over its cores: generation on CPU keeps it near 100 % while a request runs.",
      unit: "percentunit",
      queries: [{ expr: `1 - avg by (node) (${rate("node_cpu_seconds_total", `${node}, mode="idle"`)})`, legend: "{{node}}" }],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    },
    {
      kind: "timeseries",
      title: "Inference node memory used and available",
      description: "Memory in use (total minus available) on each inference node, and memory available without swapping, dashed: the models Ollama keeps loaded live here.",
      unit: "bytes",
      queries: [
        { expr: `node_memory_MemTotal_bytes{${node}} - node_memory_MemAvailable_bytes{${node}}`, legend: "{{node}} used" },
        { expr: `node_memory_MemAvailable_bytes{${node}}`, legend: "{{node}} available" },
      ],
      width: 12,
      height: 8,
      min: 0,
      dashedSeries: "/available$/",
    },
    {
      kind: "timeseries",
      title: "Inference node disk used %",
      description: "Share of each real filesystem in use on each inference node (models are pulled onto its data volume).",
      unit: "percentunit",
      queries: [{ expr: `1 - node_filesystem_avail_bytes{${filesystem}} / node_filesystem_size_bytes{${filesystem}}`, legend: "{{node}} {{mountpoint}}" }],
      width: 24,
      height: 8,
      min: 0,
      max: 1,
    },
  ];
  return { title: "Inference nodes", panels };
}
