// The dashboard's rows about the services: LiteLLM, Qdrant, and whether each service answers.
import { BLUE, Panel, Query, RED, Row } from "./panels";
import { LITELLM, PROBES, QDRANT, rate } from "./queries";

export function liteLlmRow(): Row {
  const latency = (quantile: number): Query => ({
    expr:
      `histogram_quantile(${quantile}, sum by (le, requested_model) ` +
      `(${rate("litellm_request_total_latency_metric_bucket", LITELLM)}))`,
    legend: `{{requested_model}} p${Math.round(quantile * 100)}`,
  });
  const panels: Panel[] = [
    {
      kind: "timeseries",
      title: "LiteLLM requests per second by model",
      description: "Requests clients made to the LiteLLM proxy, successful or not, by the model they asked for.",
      unit: "reqps",
      queries: [
        {
          expr: `sum by (requested_model) (${rate("litellm_proxy_total_requests_metric_total", LITELLM)})`,
          legend: "{{requested_model}}",
        },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
    {
      kind: "timeseries",
      title: "LiteLLM error rate by model",
      description: "Share of requests to the LiteLLM proxy that did not get a success response, by requested model.",
      unit: "percentunit",
      queries: [
        {
          expr:
            `sum by (requested_model) (${rate("litellm_proxy_failed_requests_metric_total", LITELLM)})` +
            ` / sum by (requested_model) (${rate("litellm_proxy_total_requests_metric_total", LITELLM)})`,
          legend: "{{requested_model}}",
        },
      ],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    },
    {
      kind: "timeseries",
      title: "LiteLLM latency p50 / p95 by model",
      description: "Total time of a request through the LiteLLM proxy, median and 95th percentile, by requested model.",
      unit: "s",
      queries: [latency(0.5), latency(0.95)],
      width: 12,
      height: 8,
      min: 0,
    },
    {
      kind: "timeseries",
      title: "LiteLLM tokens per second by model",
      description: "Input plus output tokens, and output tokens alone (generation speed), by requested model.",
      unit: "short",
      queries: [
        {
          expr: `sum by (requested_model) (${rate("litellm_total_tokens_metric_total", LITELLM)})`,
          legend: "{{requested_model}} total",
        },
        {
          expr: `sum by (requested_model) (${rate("litellm_output_tokens_metric_total", LITELLM)})`,
          legend: "{{requested_model}} output",
        },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
  ];
  return { title: "LiteLLM", panels };
}

function qdrantLatency(quantile: number): Query {
  return {
    expr:
      `histogram_quantile(${quantile}, sum by (le) ` + `(${rate("rest_responses_duration_seconds_bucket", QDRANT)}))`,
    legend: `REST p${Math.round(quantile * 100)}`,
  };
}

export function qdrantRow(): Row {
  const panels: Panel[] = [
    {
      kind: "stat",
      title: "Qdrant collections",
      description: "Number of collections.",
      unit: "short",
      queries: [{ expr: `sum(collections_total{${QDRANT}})`, legend: "collections" }],
      width: 4,
      height: 8,
      thresholds: [BLUE],
    },
    {
      kind: "stat",
      title: "Qdrant vectors",
      description: "Vectors in all collections.",
      unit: "short",
      queries: [{ expr: `sum(collections_vector_total{${QDRANT}})`, legend: "vectors" }],
      width: 4,
      height: 8,
      thresholds: [BLUE],
    },
    {
      kind: "stat",
      title: "Qdrant version",
      description: "The version the Qdrant server reports.",
      unit: "none",
      queries: [{ expr: `max by (version) (app_info{${QDRANT}})`, legend: "{{version}}" }],
      width: 4,
      height: 8,
      thresholds: [BLUE],
      showName: true,
    },
    {
      kind: "timeseries",
      title: "Qdrant requests per second",
      description: "REST requests by endpoint, REST responses with a status other than 2xx, and gRPC requests.",
      unit: "reqps",
      queries: [
        { expr: `sum by (method, endpoint) (${rate("rest_responses_total", QDRANT)})`, legend: "{{method}} {{endpoint}}" },
        { expr: `sum(${rate("rest_responses_total", `${QDRANT}, status!~"2.."`)})`, legend: "REST not 2xx" },
        { expr: `sum(${rate("grpc_responses_total", QDRANT)})`, legend: "gRPC" },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
    {
      kind: "timeseries",
      title: "Qdrant REST latency p50 / p95",
      description: "Duration of successful REST responses (Qdrant times status 200 only).",
      unit: "s",
      queries: [qdrantLatency(0.5), qdrantLatency(0.95)],
      width: 24,
      height: 8,
      min: 0,
    },
  ];
  return { title: "Qdrant", panels };
}

export function serviceHealthRow(): Row {
  const panels: Panel[] = [
    {
      kind: "stat",
      title: "Service probes",
      description: "Whether each service's health probe succeeds; a service with several probes is down if any fails.",
      unit: "none",
      queries: [{ expr: `min by (probe) (probe_success{${PROBES}})`, legend: "{{probe}}" }],
      width: 12,
      height: 6,
      thresholds: [RED, { value: 1, color: "green" }],
      valueText: { "0": { text: "DOWN", color: "red" }, "1": { text: "UP", color: "green" } },
    },
    {
      kind: "stat",
      title: "Scrape targets up",
      description: "Share of each job's scrape targets that Prometheus reached on its last scrape.",
      unit: "percentunit",
      queries: [{ expr: "avg by (job) (up)", legend: "{{job}}" }],
      width: 12,
      height: 6,
      thresholds: [RED, { value: 1, color: "green" }],
    },
  ];
  return { title: "Service health", panels };
}
