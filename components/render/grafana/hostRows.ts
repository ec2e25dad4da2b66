// The dashboard's rows about the machines: the nodes, and the containers on them.
import { Panel, Row } from "./panels";
import { CONTAINER, FILESYSTEM, NODE, rate } from "./queries";

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
