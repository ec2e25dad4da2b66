// The dashboard's rows about the services: LiteLLM, its models' deployments, Qdrant, and whether each service answers.
import { liteLlmDeploymentState } from "../alertRules";
import { BLUE, Panel, Query, RED, Row } from "./panels";
import { DEPLOYMENT, LITELLM, PROBES, QDRANT, rate } from "./queries";

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

/**
 * Each deployment of each model LiteLLM routes to (model_id "<model>@<where>" once there are external backends,
 * render/litellm.ts; LiteLLM's own hash otherwise): its state, requests, failures, cool-downs and speed.
 */
export function modelDeploymentsRow(): Row {
  const panels: Panel[] = [
    {
      kind: "stat",
      title: "Deployment state",
      description:
        "LiteLLM's view of each deployment: OK when its last request succeeded, FAILING when its last request failed, " +
        "COOLED DOWN when LiteLLM took it out of rotation for its failures (it sends the model's requests to the other deployments meanwhile). " +
        "It changes only when LiteLLM sends the deployment a request. The LiteLLMDeploymentDown alert fires after 5 minutes not OK.",
      unit: "none",
      queries: [{ expr: liteLlmDeploymentState("model_id"), legend: "{{model_id}}" }],
      width: 24,
      height: 6,
      thresholds: [{ value: null, color: "green" }, { value: 1, color: "orange" }, { value: 2, color: "red" }],
      valueText: {
        "0": { text: "OK", color: "green" },
        "1": { text: "FAILING", color: "orange" },
        "2": { text: "COOLED DOWN", color: "red" },
      },
    },
    {
      kind: "timeseries",
      title: "Deployment requests and failures per second",
      description: "Calls LiteLLM made to each deployment, and those that failed, by deployment; a retry or failover is a call of its own.",
      unit: "reqps",
      queries: [
        { expr: `sum by (model_id) (${rate("litellm_deployment_total_requests_total", DEPLOYMENT)})`, legend: "{{model_id}}" },
        { expr: `sum by (model_id) (${rate("litellm_deployment_failure_responses_total", DEPLOYMENT)})`, legend: "{{model_id}} failed" },
      ],
      width: 12,
      height: 8,
      min: 0,
      dashedSeries: ".* failed$",
    },
    {
      kind: "timeseries",
      title: "Deployment failures per second by status",
      description: "Failed calls to each deployment by the HTTP status LiteLLM saw (408 a timeout, 500 the server's error, 429 rate limited).",
      unit: "reqps",
      queries: [
        {
          expr: `sum by (model_id, exception_status) (${rate("litellm_deployment_failure_responses_total", DEPLOYMENT)})`,
          legend: "{{model_id}} {{exception_status}}",
        },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
    {
      kind: "timeseries",
      title: "Deployment cool-downs since LiteLLM started",
      description:
        "Times LiteLLM cooled each deployment down, by the status of the failure that did it: a step up is a cool-down. " +
        "A refused connection never cools a deployment down at LiteLLM 1.110.2; its probe on the Service probes panel shows it.",
      unit: "short",
      queries: [
        {
          expr: `sum by (model_id, exception_status) (litellm_deployment_cooled_down_total{${LITELLM}})`,
          legend: "{{model_id}} {{exception_status}}",
        },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
    {
      kind: "timeseries",
      title: "Deployment latency per output token p95",
      description: "95th percentile of a successful call's time divided by its output tokens (time to first token when streaming), by deployment.",
      unit: "s",
      queries: [
        {
          expr:
            "histogram_quantile(0.95, sum by (le, model_id) " +
            `(${rate("litellm_deployment_latency_per_output_token_bucket", DEPLOYMENT)}))`,
          legend: "{{model_id}} p95",
        },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
  ];
  return { title: "Model deployments", panels };
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
