/**
 * Rendered files pinned by committed snapshots. After an intended change, rerun the test with
 * UPDATE_SNAPSHOTS=1 to rewrite its snapshots, and review the diff before committing it.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

export function assertMatchesSnapshot(snapshot: string, text: string): void {
  if (process.env.UPDATE_SNAPSHOTS === "1") {
    fs.mkdirSync(path.dirname(snapshot), { recursive: true });
    fs.writeFileSync(snapshot, text);
  }
  assert.ok(fs.existsSync(snapshot), `no snapshot at ${snapshot}: run with UPDATE_SNAPSHOTS=1 once`);
  assert.equal(text, fs.readFileSync(snapshot, "utf8"), `${path.basename(snapshot)} changed: review, then UPDATE_SNAPSHOTS=1`);
}
