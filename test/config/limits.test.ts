/** The settings' limits: one per integer setting, and every default within what the reader accepts. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LOCATIONS } from "../../components/catalog/serverTypes";
import { KV_CACHE_TYPES, RANGES, RangedSettingName, RECEIVER_KINDS } from "../../components/config/limits";
import { SETTINGS } from "../../components/config/schema";

describe("the settings' limits", () => {
  it("every integer setting has a range, and its default lies in it", () => {
    const integers = Object.entries(SETTINGS).filter(([, s]) => s.type === "integer").map(([key]) => key);
    assert.deepEqual(Object.keys(RANGES).sort(), integers.sort());
    for (const [key, range] of Object.entries(RANGES)) {
      const value = SETTINGS[key as RangedSettingName].default;
      assert.ok(range.min <= value && value <= range.max, `${key}'s default ${value} is outside ${range.min} to ${range.max}`);
    }
  });

  it("every setting with a list of choices defaults to one of them", () => {
    assert.ok((LOCATIONS as readonly string[]).includes(SETTINGS.location.default));
    assert.ok((KV_CACHE_TYPES as readonly string[]).includes(SETTINGS.kvCacheType.default));
    assert.ok((RECEIVER_KINDS as readonly string[]).includes(SETTINGS.alertPaging.default));
    assert.ok((RECEIVER_KINDS as readonly string[]).includes(SETTINGS.alertChat.default));
  });
});
