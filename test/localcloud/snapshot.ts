/**
 * The fakes' state as plain JSON and back: what a fixture of a local cloud holds (test/fixtures/upgrade). Maps and
 * Dates, which the fakes' state uses and JSON does not know, are written as tagged objects and read back as such.
 */

type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

/** `value` as JSON data: a Map as {"$map": [[key, value]...]}, a Date as {"$date": ISO}. */
export function toPlain(value: unknown): Plain {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return { $date: value.toISOString() };
  if (value instanceof Map) return { $map: [...value.entries()].map(([k, v]) => [toPlain(k), toPlain(v)]) };
  if (value instanceof Set) throw new Error("toPlain: a Set in the fakes' state is not supported");
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toPlain(v)]),
    );
  }
  if (typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") {
    throw new Error(`toPlain: a ${typeof value} in the fakes' state is not data`);
  }
  return value as boolean | number | string;
}

/** The inverse of toPlain. */
export function fromPlain<T>(value: Plain): T {
  return revive(value) as T;
}

function revive(value: Plain): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(revive);
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === "$date" && typeof value.$date === "string") return new Date(value.$date);
  if (keys.length === 1 && keys[0] === "$map" && Array.isArray(value.$map)) {
    return new Map((value.$map as Plain[][]).map(([k, v]) => [revive(k), revive(v)]));
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
}

export type { Plain };
