/** The throughput model: measured speeds reproduced, the memory-bandwidth rule, M/M/1, the workload's fit. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { BENCH_MODELS, CPU_FAMILY, MEASURED_SPEED } from "../../components/catalog/inferenceSpeed";
import { SERVER_TYPES } from "../../components/catalog/serverTypes";
import { compareWithCloud, estimateCost } from "../../components/plan/cost";
import { HOURS_PER_MONTH, measuredTypeFor, mm1, modelSpeed, planThroughput, UTILIZATION_CEILING } from "../../components/plan/throughput";
import { loadStackSettings as settingsOf, PROJECT_ROOT } from "../harness";

const close = (actual: number, expected: number, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

describe("the speed model", () => {
  it("reproduces every measured point of every measured type", () => {
    for (const [type, points] of Object.entries(MEASURED_SPEED)) {
      for (const point of points) {
        const speed = modelSpeed(type, BENCH_MODELS[point.model].fileGb);
        assert.ok(speed, type);
        assert.equal(speed.estimate, false);
        close(speed.generationTokS, point.generationTokS);
        if (point.promptTokS !== undefined) close(speed.promptTokS, point.promptTokS);
      }
    }
  });

  it("scales generation by 1 / model size on one type (qwen2.5:7b, 4.7 GB, on cx43 from the 4.08 GB point)", () => {
    const speed = modelSpeed("cx43", 4.7);
    close(speed!.generationTokS, (18.3 * 4.08) / 4.7);
    close(speed!.promptTokS, (32 * 4.08) / 4.7);
    assert.ok(modelSpeed("cx43", 8)!.generationTokS < modelSpeed("cx43", 4)!.generationTokS);
  });

  it("gives every catalogued type a speed; an unmeasured one the nearest measured type of its CPU family, marked an estimate", () => {
    for (const t of SERVER_TYPES) {
      assert.ok(CPU_FAMILY[t.name], `${t.name} has a CPU family`);
      const speed = modelSpeed(t.name, 4.7);
      assert.ok(speed, t.name);
      assert.equal(speed.estimate, !MEASURED_SPEED[t.name]);
      assert.equal(CPU_FAMILY[speed.measuredOn], CPU_FAMILY[t.name]);
    }
    assert.equal(measuredTypeFor("cx53"), "cx43");
    assert.equal(measuredTypeFor("cpx52"), "cpx42");
    assert.equal(measuredTypeFor("ccx43"), "ccx33");
    assert.equal(measuredTypeFor("cax11"), "cax31");
    assert.equal(modelSpeed("nope", 4), undefined);
  });
});

describe("M/M/1", () => {
  it("matches its closed form: rho = lambda S, Wq = rho S / (1 - rho), median response ln2 S / (1 - rho)", () => {
    const q = mm1(0.01, 50); // rho 0.5
    close(q.utilization, 0.5);
    close(q.meanWaitSeconds, 50);
    close(q.medianResponseSeconds, Math.LN2 * 100);
    assert.equal(mm1(0.03, 50).meanWaitSeconds, Infinity);
  });

  it("more load never lowers utilization or delay; a faster server never raises them", () => {
    for (let s = 1; s <= 120; s += 7) {
      let last = mm1(0, s);
      for (let lambda = 0.0005; lambda < 1 / s; lambda += 0.0005) {
        const q = mm1(lambda, s);
        assert.ok(q.utilization >= last.utilization && q.meanWaitSeconds >= last.meanWaitSeconds);
        assert.ok(q.medianResponseSeconds >= last.medianResponseSeconds);
        const faster = mm1(lambda, s * 0.8);
        assert.ok(faster.utilization <= q.utilization && faster.meanWaitSeconds <= q.meanWaitSeconds);
        last = q;
      }
    }
  });
});

describe("the workload on prod's inference node", () => {
  it("the default workload fits: 10,000 requests of 1,000 + 500 tokens with qwen2.5:7b on cx43", () => {
    const plan = planThroughput(settingsOf("prod"), 28.32)!;
    assert.equal(plan.serverType, "cx43");
    assert.equal(plan.estimate, false);
    const speed = modelSpeed("cx43", 4.7)!;
    const seconds = 1000 / speed.promptTokS + 500 / speed.generationTokS;
    close(plan.requestSeconds, Math.round(seconds * 10) / 10);
    assert.equal(plan.capacityRequestsPerMonth, Math.floor((UTILIZATION_CEILING * HOURS_PER_MONTH * 3600) / seconds));
    close(plan.busyHoursPerMonth, Math.round(((10000 * seconds) / 3600) * 10) / 10);
    assert.ok(plan.fits);
    assert.equal(plan.overflowRequestsPerMonth, 0);
    assert.equal(plan.fallbackShare, 0);
    assert.equal(plan.warning, undefined);
    assert.equal(plan.peakFactor, 3);
    assert.ok(plan.peakQueueDelaySeconds !== null && plan.peakQueueDelaySeconds > 0);
    close(plan.eurPerMillionOutputTokens, Math.round((28.32 / 5) * 100) / 100);
  });

  it("ten times the load does not fit: a warning naming what would, and no fallback cost", () => {
    const plan = planThroughput(settingsOf("prod", { comparisonRequestsPerMonth: 100000 }), 28.32)!;
    assert.equal(plan.fits, false);
    assert.ok(plan.utilization > UTILIZATION_CEILING);
    assert.equal(plan.servedRequestsPerMonth, plan.capacityRequestsPerMonth);
    assert.ok(plan.warning);
    assert.match(plan.warning, /above the 70 % ceiling/);
    assert.match(plan.warning, /a smaller model, /);
    assert.match(plan.warning, /ai-platform:fallbacks/);
    assert.deepEqual(plan.fallbackCosts, []);
  });

  it("with a cloud fallback the excess goes there, priced, and no warning", () => {
    const plan = planThroughput(
      settingsOf("prod", {
        comparisonRequestsPerMonth: 100000,
        cloudModels: ["gpt-4o-mini=openai/gpt-4o-mini"],
        openaiApiKey: "sk-test",
        fallbacks: ["qwen2.5:7b=gpt-4o-mini"],
      }),
      28.32,
    )!;
    assert.equal(plan.warning, undefined);
    assert.equal(plan.fallbackCosts.length, 1);
    const excess = 100000 - plan.capacityRequestsPerMonth;
    assert.equal(plan.fallbackCosts[0].requestsPerMonth, excess);
    close(plan.fallbackCosts[0].usdMonth, Math.round(excess * (1000 * 0.15 + 500 * 0.6) / 1e4) / 100);
  });

  it("more load never lowers utilization or peak delay; a faster type never raises them", () => {
    let last = planThroughput(settingsOf("prod", { comparisonRequestsPerMonth: 1000 }), 28.32)!;
    for (const requests of [2000, 5000, 10000, 20000, 25000]) {
      const plan = planThroughput(settingsOf("prod", { comparisonRequestsPerMonth: requests }), 28.32)!;
      assert.ok(plan.utilization >= last.utilization && plan.peakUtilization >= last.peakUtilization);
      assert.ok((plan.peakQueueDelaySeconds ?? Infinity) >= (last.peakQueueDelaySeconds ?? Infinity));
      const faster = planThroughput(settingsOf("prod", { comparisonRequestsPerMonth: requests, inferenceServerType: "cpx62" }), 28.32)!;
      assert.ok(faster.utilization <= plan.utilization && faster.peakUtilization <= plan.peakUtilization);
      assert.ok((faster.peakQueueDelaySeconds ?? Infinity) <= (plan.peakQueueDelaySeconds ?? Infinity));
      last = plan;
    }
  });

  it("splits the requests by the configured shares, and refuses shares that do not add up", () => {
    const plan = planThroughput(settingsOf("prod", { models: ["qwen2.5:7b", "llama3.2:1b", "nomic-embed-text"], comparisonModelShares: ["qwen2.5:7b=80", "llama3.2:1b=20"] }), 28.32)!;
    assert.deepEqual(plan.models.map((m) => [m.model, m.share]), [["qwen2.5:7b", 0.8], ["llama3.2:1b", 0.2]]);
    assert.throws(
      () => settingsOf("prod", { models: ["qwen2.5:7b", "llama3.2:1b"], comparisonModelShares: ["qwen2.5:7b=80", "llama3.2:1b=30"] }),
      /comparisonModelShares is .*add up to 110 %: make them add up to 100/,
    );
    assert.throws(() => settingsOf("prod", { comparisonModelShares: ["mistral:7b=100"] }), /mistral:7b is not a chat model in ai-platform:models: use one of qwen2.5:7b/);
    assert.throws(() => settingsOf("prod", { comparisonModelShares: ["qwen2.5:7b=0"] }), /has "qwen2.5:7b=0": write model=percent with a whole percent from 1 to 100/);
    assert.throws(() => settingsOf("prod", { comparisonPeakFactor: 0 }), /comparisonPeakFactor is "0": use a whole number from 1 to 100/);
  });
});

describe("several inference nodes (prodInferenceNodes): each its own M/M/1, each model's requests split equally", () => {
  const T = HOURS_PER_MONTH * 3600;
  const seconds = (type: string, fileGb: number) => {
    const speed = modelSpeed(type, fileGb)!;
    return 1000 / speed.promptTokS + 500 / speed.generationTokS;
  };
  const qwen = 4.7;

  it("without extra nodes the plan has no node figures, as before", () => {
    const plan = planThroughput(settingsOf("prod"), 28.32)!;
    assert.equal(plan.nodes, undefined);
    assert.ok(plan.models.every((m) => m.nodes === undefined));
  });

  it("a second node of the same type serving the model doubles the capacity and halves each node's load", () => {
    const one = planThroughput(settingsOf("prod"), 28.32)!;
    const plan = planThroughput(settingsOf("prod", { prodInferenceNodes: ["name=b type=cx43"] }), 28.32)!;
    const s = seconds("cx43", qwen);
    assert.equal(plan.capacityRequestsPerMonth, Math.floor((UTILIZATION_CEILING * T) / (s / 2)));
    assert.ok(plan.capacityRequestsPerMonth >= 2 * one.capacityRequestsPerMonth);
    assert.deepEqual(plan.models.map((m) => [m.model, m.nodes]), [["qwen2.5:7b", ["inference", "b"]]]);
    assert.deepEqual(plan.nodes!.map((n) => [n.name, n.serverType, n.requestsPerMonth]), [["inference", "cx43", 5000], ["b", "cx43", 5000]]);
    close(plan.busyHoursPerMonth, Math.round(((5000 * s) / 3600) * 10) / 10);
    close(plan.utilization, Math.round(((5000 * s) / 3600 / HOURS_PER_MONTH) * 1000) / 1000);
    // Each node at the peak hour: half the arrivals, the same request length.
    const peak = mm1((10000 / T) * 3 * 0.5, s);
    for (const n of plan.nodes!) close(n.peakQueueDelaySeconds!, Math.round(peak.meanWaitSeconds * 10) / 10);
    assert.ok(plan.peakQueueDelaySeconds! < one.peakQueueDelaySeconds!);
  });

  it("a node serving one of two models takes half of that model only; the first node keeps the other whole", () => {
    const plan = planThroughput(
      settingsOf("prod", {
        models: ["qwen2.5:7b", "llama3.2:1b", "nomic-embed-text"],
        comparisonModelShares: ["qwen2.5:7b=80", "llama3.2:1b=20"],
        prodInferenceNodes: ["name=b type=cx43 models=llama3.2:1b"],
      }),
      28.32,
    )!;
    assert.deepEqual(plan.models.map((m) => [m.model, m.nodes]), [["qwen2.5:7b", ["inference"]], ["llama3.2:1b", ["inference", "b"]]]);
    assert.deepEqual(plan.nodes!.map((n) => [n.name, n.models, n.requestsPerMonth]), [["inference", ["qwen2.5:7b", "llama3.2:1b"], 9000], ["b", ["llama3.2:1b"], 1000]]);
    const first = 0.8 * seconds("cx43", qwen) + 0.1 * seconds("cx43", 1.3);
    assert.equal(plan.capacityRequestsPerMonth, Math.floor((UTILIZATION_CEILING * T) / first), "the first node is the busiest");
    close(plan.nodes![1].busyHoursPerMonth, Math.round(((10000 * 0.1 * seconds("cx43", 1.3)) / 3600) * 10) / 10);
  });

  it("on unequal types the slower node fills first: equal shares give less than the sum of the two capacities", () => {
    const plan = planThroughput(settingsOf("prod", { prodInferenceNodes: ["name=b type=cx33"], comparisonRequestsPerMonth: 100000 }), 28.32)!;
    const fast = seconds("cx43", qwen);
    const slow = seconds("cx33", qwen);
    assert.equal(plan.capacityRequestsPerMonth, Math.floor((UTILIZATION_CEILING * T) / (slow / 2)));
    assert.ok(plan.capacityRequestsPerMonth < Math.floor((UTILIZATION_CEILING * T) / fast) + Math.floor((UTILIZATION_CEILING * T) / slow));
    const busiest = plan.nodes!.find((n) => n.name === "b")!;
    assert.equal(plan.utilization, busiest.utilization);
    assert.ok(busiest.utilization > plan.nodes![0].utilization);
    assert.equal(plan.fits, false);
    assert.match(plan.warning!, /on its busiest inference node, b \(cx33\)/);
    assert.match(plan.warning!, /\d+ more inference node\(s\) of type cx43 serving every model \(ai-platform:prodInferenceNodes\)/);
  });
});

describe("the README's throughput figures", () => {
  it("are prod's plan at the default and ten times the load", () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const n = (x: number) => x.toLocaleString("en-US");
    // At prod's price from the cost table, as the offline plan (`npm run plan -- prod`) that the README quotes.
    const price = estimateCost(settingsOf("prod")).totalEurMonth;
    const base = planThroughput(settingsOf("prod"), price)!;
    const tenfold = planThroughput(settingsOf("prod", { comparisonRequestsPerMonth: 100000 }), price)!;
    assert.ok(readme.includes(`| one request alone (1,000 + 500 tokens) | ${base.requestSeconds} s | ${tenfold.requestSeconds} s |`));
    assert.ok(readme.includes(`| capacity at 70 % | ${n(base.capacityRequestsPerMonth)} requests`));
    assert.ok(readme.includes(`| ${base.busyHoursPerMonth} h, ${Math.round(base.utilization * 1000) / 10} % | ${n(tenfold.busyHoursPerMonth)} h, ${Math.round(tenfold.utilization * 1000) / 10} %: does not fit |`));
    assert.ok(readme.includes(`| EUR per million output tokens here | ${base.eurPerMillionOutputTokens.toFixed(2)} | ${tenfold.eurPerMillionOutputTokens.toFixed(2)} (`));
    assert.ok(readme.includes(tenfold.warning!.slice(0, 60)));
  });

  it("price prod and its break-even against each cloud API as the cost table does", () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const n = (x: number) => x.toLocaleString("en-US");
    const price = estimateCost(settingsOf("prod")).totalEurMonth;
    const plan = planThroughput(settingsOf("prod"), price)!;
    const comparison = compareWithCloud(settingsOf("prod"), price, { capacityRequestsPerMonth: plan.capacityRequestsPerMonth, fallbackEurMonth: 0 });
    assert.ok(readme.includes(`The prod stack here costs **EUR ${price.toFixed(2)} a month**`));
    assert.ok(readme.includes(`| this platform, prod (fixed) | ${(price * comparison.usdPerEur).toFixed(2)} | ${price.toFixed(2)} | - |`));
    for (const c of comparison.cloud.filter((x) => x.breakEvenRequestsPerMonth !== null)) {
      assert.ok(readme.includes(`| ${c.model} | ${c.usdMonth.toFixed(2)} | ${c.eurMonth.toFixed(2)} | ${n(c.breakEvenRequestsPerMonth!)} requests/month |`), c.model);
    }
  });
});
