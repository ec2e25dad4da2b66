/** The monthly cost: servers, IPv4, backups and volumes from the dated catalog. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { estimateCost } from "../../components/plan/cost";
import { loadStackSettings as settingsOf } from "../harness";

describe("monthly cost", () => {
  it("prod: cx43 + cx33, two IPv4, the operations node's backups and two 10 GB volumes", () => {
    const cost = estimateCost(settingsOf("prod"));
    assert.equal(cost.pricesAsOf, "2026-06-15");
    // 15.99 + 8.49 + 2 x 0.50 + 0.2 x 8.49 + 2 x 10 x 0.0572
    assert.equal(cost.totalEurMonth, 28.32);
    assert.ok(cost.lines.some((l) => l.item === "operations backups (20%)" && l.eurMonth === 1.7));
    assert.ok(!cost.lines.some((l) => l.item.startsWith("inference backups")));
  });

  it("dev: two cx23 with no backups", () => {
    assert.equal(estimateCost(settingsOf("dev")).totalEurMonth, 13.12);
  });

  it("prod beats the essay's pair at today's prices (cpx42 + cpx22, about EUR 90)", () => {
    assert.ok(estimateCost(settingsOf("prod")).totalEurMonth < 69.49 + 19.49);
  });
});
