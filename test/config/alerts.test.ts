/**
 * Prod never alerts into the void (issue 13, point 4): without a pager and a dead man's switch it is refused,
 * unless alertsDeliberatelyUnsent says so; dev runs without, and the plan says what reaches no one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildReport } from "../../tools/report";
import { loadStackSettings, runProgram, settingsProblems } from "../harness";

const problems = settingsProblems;

const PAGER = { alertPaging: "ntfy", alertPagingUrl: "https://ntfy.sh/ai-prod-pager" };
const DEAD_MANS_SWITCH = { deadMansSwitchUrl: "https://hc-ping.com/5f1c2e9a" };

describe("prod's alerts must reach someone", () => {
  it("prod without a pager and a dead man's switch is refused, each with its setting", () => {
    assert.deepEqual(problems("prod", { alertsDeliberatelyUnsent: "false" }), [
      'ai-platform:alertPaging is "none" in prod, so critical alerts would reach no one: use webhook or ntfy ' +
        "(with ai-platform:alertPagingUrl) or email (with ai-platform:alertEmailTo), or set " +
        "ai-platform:alertsDeliberatelyUnsent to true to run prod without alerts on purpose",
      "ai-platform:deadMansSwitchUrl is not set in prod, so nobody would learn that the monitoring itself is down: " +
        "`pulumi config set --secret ai-platform:deadMansSwitchUrl <ping URL>` (e.g. a healthchecks.io check), or set " +
        "ai-platform:alertsDeliberatelyUnsent to true to run prod without alerts on purpose",
    ]);
    assert.equal(problems("prod", { alertsDeliberatelyUnsent: "false", ...PAGER }).length, 1);
    assert.equal(problems("prod", { alertsDeliberatelyUnsent: "false", ...DEAD_MANS_SWITCH }).length, 1);
  });

  it("prod with both, or saying in so many words that alerts are unsent, is accepted; dev needs neither", () => {
    const paged = loadStackSettings("prod", { alertsDeliberatelyUnsent: "false", ...PAGER, ...DEAD_MANS_SWITCH });
    assert.equal(paged.operations.paging.kind, "ntfy");
    assert.equal(loadStackSettings("prod").operations.paging.kind, "none", "the repository's prod opts out explicitly");
    assert.equal(loadStackSettings("dev").operations.paging.kind, "none");
  });

  it("the plan says what reaches no one in dev, and nothing of it once prod pages and has its switch", async () => {
    const dev = buildReport(await runProgram("dev"));
    assert.ok(
      dev.includes(
        "Alerts that reach no one: critical alerts page no one (alertPaging); the Watchdog reaches no dead man's switch " +
          "(deadMansSwitchUrl). Dev may run so; prod refuses to unless ai-platform:alertsDeliberatelyUnsent is true.",
      ),
    );
    const prod = buildReport(
      await runProgram("prod", {
        set: Object.fromEntries(
          Object.entries({ alertsDeliberatelyUnsent: "false", ...PAGER, ...DEAD_MANS_SWITCH }).map(([k, v]) => [`ai-platform:${k}`, v]),
        ),
      }),
    );
    assert.doesNotMatch(prod, /reach no one/);
  });
});
