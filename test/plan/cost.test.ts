/** The monthly cost: servers, IPv4, backups and volumes from the dated catalog. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareWithCloud, estimateCost } from "../../components/plan/cost";
import { loadStackSettings as settingsOf } from "../harness";

describe("monthly cost", () => {
  it("prod: cx43 + cx33, two IPv4, the operations node's backups, two 10 GB volumes and the backups' Storage Box", () => {
    const cost = estimateCost(settingsOf("prod"));
    assert.equal(cost.pricesAsOf, "2026-06-15");
    // 15.99 + 8.49 + 2 x 0.50 + 0.2 x 8.49 + 2 x 10 x 0.0572 + 3.20 (bx11)
    assert.equal(cost.totalEurMonth, 31.52);
    assert.ok(cost.lines.some((l) => l.item === "operations backups (20%)" && l.eurMonth === 1.7));
    assert.ok(!cost.lines.some((l) => l.item.startsWith("inference backups")));
    // The Storage Box's price is not verified against a current source: the line says it is an estimate.
    assert.deepEqual(cost.lines.at(-1), { item: "backup Storage Box bx11 (1 TB; price an estimate)", eurMonth: 3.2 });
  });

  it("dev: two cx23 with no server backups, and its own Storage Box", () => {
    assert.equal(estimateCost(settingsOf("dev")).totalEurMonth, 16.32);
  });

  it("an existing backup target costs nothing here: no Storage Box line", () => {
    const sftp = estimateCost(settingsOf("dev", { backupTarget: "sftp", backupRepositoryUrl: "sftp://u@backup.example.com:22/ai", backupTargetPassword: "pw" }));
    assert.ok(!sftp.lines.some((l) => l.item.includes("Storage Box")));
    assert.equal(sftp.totalEurMonth, 13.12);
  });

  it("prod beats the essay's pair at today's prices (cpx42 + cpx22, about EUR 90)", () => {
    assert.ok(estimateCost(settingsOf("prod")).totalEurMonth < 69.49 + 19.49);
  });
});

describe("the comparison with cloud APIs", () => {
  it("prices the essay's 10,000 requests through each API and finds the volume where the platform wins", () => {
    const settings = settingsOf("prod");
    const comparison = compareWithCloud(settings, 28.32);
    assert.equal(comparison.requestsPerMonth, 10000);
    const mini = comparison.cloud.find((c) => c.model === "gpt-4o-mini")!;
    // 10,000 x (1000 x 0.15 + 500 x 0.60) / 1e6 USD
    assert.equal(mini.usdMonth, 4.5);
    // 28.32 EUR x 1.15 USD/EUR / 0.00045 USD per request, rounded up
    assert.equal(mini.breakEvenRequestsPerMonth, Math.ceil((28.32 * 1.15) / 0.00045));
    const sonnet = comparison.cloud.find((c) => c.model === "claude-sonnet-4.6")!;
    assert.equal(sonnet.usdMonth, 105);
    assert.ok(sonnet.breakEvenRequestsPerMonth! < 10000, "at 10,000 requests the platform is cheaper than Sonnet");
  });

  it("counts only what the node can serve: a break-even above its capacity is none, and the fallback's cost is carried", () => {
    const comparison = compareWithCloud(settingsOf("prod"), 28.32, { capacityRequestsPerMonth: 27000, fallbackEurMonth: 12.5 });
    assert.equal(comparison.platformCapacityRequestsPerMonth, 27000);
    assert.equal(comparison.fallbackEurMonth, 12.5);
    // gpt-4o-mini breaks even at 72,374 requests, above the 27,000 the node serves.
    assert.equal(comparison.cloud.find((c) => c.model === "gpt-4o-mini")!.breakEvenRequestsPerMonth, null);
    assert.equal(comparison.cloud.find((c) => c.model === "claude-sonnet-4.6")!.breakEvenRequestsPerMonth, 3102);
  });

  it("follows the request volume and token sizes from the settings", () => {
    const settings = settingsOf("prod", { comparisonRequestsPerMonth: "100000", comparisonInputTokens: "800", comparisonOutputTokens: "300" });
    const mini = compareWithCloud(settings, 28.32).cloud.find((c) => c.model === "gpt-4o-mini")!;
    assert.equal(mini.usdMonth, 30);
  });
});
