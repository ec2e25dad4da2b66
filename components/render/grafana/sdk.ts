// The Grafana Foundation SDK's modules, as the rest of this folder uses them.
import { createRequire } from "node:module";
import type * as CommonSdk from "@grafana/grafana-foundation-sdk/dist/common";
import type * as DashboardSdk from "@grafana/grafana-foundation-sdk/dist/dashboard";
import type * as PrometheusSdk from "@grafana/grafana-foundation-sdk/dist/prometheus";
import type * as StatSdk from "@grafana/grafana-foundation-sdk/dist/stat";
import type * as TimeseriesSdk from "@grafana/grafana-foundation-sdk/dist/timeseries";

// The SDK publishes its modules only through package.json "exports" ("…/dashboard"), which the tsconfig's
// `moduleResolution: node` does not read. So the types come from the files under dist/ and Node loads the
// exported entry points, which is what both resolve to.
const sdkRequire = createRequire(__filename);
export const common = sdkRequire("@grafana/grafana-foundation-sdk/common") as typeof CommonSdk;
export const dashboard = sdkRequire("@grafana/grafana-foundation-sdk/dashboard") as typeof DashboardSdk;
export const prometheus = sdkRequire("@grafana/grafana-foundation-sdk/prometheus") as typeof PrometheusSdk;
export const stat = sdkRequire("@grafana/grafana-foundation-sdk/stat") as typeof StatSdk;
export const timeseries = sdkRequire("@grafana/grafana-foundation-sdk/timeseries") as typeof TimeseriesSdk;
