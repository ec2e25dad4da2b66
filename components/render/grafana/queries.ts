// The selectors and helpers every panel's PromQL is written with.
//
// Metric names, each checked against what the exporter exposes at the version the stack deploys
// (test/render/metricNames.test.ts runs the real exporters, or reads cAdvisor's and Qdrant's source):
// - LiteLLM (`litellm/integrations/prometheus.py`, labels in `litellm/types/integrations/prometheus.py`):
//   counters `litellm_proxy_total_requests_metric`, `litellm_proxy_failed_requests_metric`,
//   `litellm_total_tokens_metric` and `litellm_output_tokens_metric` (prometheus_client exposes a counter with a
//   `_total` suffix), and the histogram `litellm_request_total_latency_metric`. All carry `requested_model`, the
//   model name clients ask for; the request counters carry no `model` label, so every LiteLLM panel groups by
//   `requested_model`.
//   Per deployment: the gauge `litellm_deployment_state` (0 healthy, 1 partial outage, 2 cooled down; see
//   alertRules.ts liteLlmDeploymentState), counters `litellm_deployment_total_requests`,
//   `litellm_deployment_failure_responses` (with `exception_status`) and `litellm_deployment_cooled_down`, and
//   the histogram `litellm_deployment_latency_per_output_token`, all labelled `model_id` (model_info.id).
// - Qdrant (`src/common/metrics.rs`): gauges `collections_total`, `collections_vector_total`, `app_info`;
//   counters `rest_responses_total` (a `status` label per HTTP status; `rest_responses_fail_total` is gone since
//   v1.17.0), `grpc_responses_total`; the histogram `rest_responses_duration_seconds` (timed for status 200 only).
// - node-exporter, cAdvisor (`name` is the container name, empty for cgroups that are not containers), and
//   the blackbox exporter's `probe_success`.
import { PROBE_JOB, scrapeJob } from "../../catalog/services";

// Selectors, one per scrape job, so a panel never mixes in another job's series of the same name.
export const LITELLM = `job="${scrapeJob("litellm")}"`;
// A request LiteLLM refused before choosing a deployment is counted with an empty model_id.
export const DEPLOYMENT = `${LITELLM}, model_id!=""`;
export const QDRANT = `job="${scrapeJob("qdrant")}"`;
export const NODE = `job="${scrapeJob("nodeExporter")}"`;
// cAdvisor also reports cgroups that are not containers; those have an empty `name`.
export const CONTAINER = `job="${scrapeJob("cadvisor")}", name!=""`;
// Real filesystems only: not tmpfs, overlay layers or other pseudo filesystems.
export const FILESYSTEM = `${NODE}, fstype=~"ext4|xfs|btrfs"`;
export const PROBES = `job="${PROBE_JOB}"`;

/**
 * The dashboard variable that picks inference nodes by their `node` label (render/prometheus.ts: a worker's name,
 * catalog FIRST_INFERENCE_NODE for the first; only in an environment with workers), and its matcher. "All" is
 * `.+`: every series that has the label, so the operations node (which has none) is never among them.
 */
export const NODE_VARIABLE = "node";
export const NODE_ALL = ".+";
export const PICKED_NODES = `${NODE_VARIABLE}=~"$${NODE_VARIABLE}"`;

export const rate = (metric: string, selector: string): string => `rate(${metric}{${selector}}[$__rate_interval])`;
