/**
 * Hetzner Cloud server types the platform may run on.
 *
 * Source: Hetzner's price-adjustment notices (effective 2026-06-15 for new orders and rescales), as quoted in
 * mixxor/eu-cloud-prices `prices/hetzner.json` and robhunter/agentdeals PR #1324; compiled in
 * ../shared/FACTS.md on 2026-11. The provider exposes no prices, so this table is the only source of cost
 * figures: update `PRICES_AS_OF` with it.
 *
 * Prices are EUR per month before VAT, without the primary IPv4 address.
 */

/** The date the prices below took effect. */
export const PRICES_AS_OF = "2026-06-15";

/** EUR per month for a primary IPv4 address (IPv6 is free). */
export const PRIMARY_IPV4_EUR_MONTH = 0.5;

/** EUR per GB-month for a Hetzner Cloud volume. */
export const VOLUME_EUR_PER_GB_MONTH = 0.0572;

/** Backups cost this share of the server's price. */
export const BACKUP_PRICE_SHARE = 0.2;

/**
 * Hetzner Storage Boxes, EUR per month before VAT: an ESTIMATE. No stored public source gives Hetzner's
 * current Storage Box prices (searched 2026-11-27 and 2026-11-30: Hetzner's Storage Box docs send readers to
 * hetzner.com/storage/storage-box, which no stored corpus holds, and eu-cloud-prices lists no Storage Box).
 * 3.20 is BX11's net price before the 2026 adjustments; the hcloud-python client's and
 * smartecho-hr/hetzner_cloud_exporter's test fixtures carry the same figure, but fixtures are not a price list,
 * and the 2026 adjustments may have raised it. Check hetzner.com/storage/storage-box, or the API's
 * `GET /storage_box_types` (its `prices`), and update the figure and this note.
 */
export const STORAGE_BOX_PRICES_AS_OF = "an estimate (BX11's pre-2026 price, not verified on 2026-11-30)";
export const STORAGE_BOX_TYPES = [{ name: "bx11", capacityTb: 1, priceEurMonth: 3.2, estimate: true }] as const;

/** The smallest volume Hetzner creates, in GB. */
export const MIN_VOLUME_GB = 10;

/** The largest volume Hetzner creates, in GB (10 TB). */
export const MAX_VOLUME_GB = 10240;

export type Architecture = "x86" | "arm";

export interface ServerType {
  /** Hetzner's name, e.g. "cx43". */
  name: string;
  vcpus: number;
  /** RAM in GB as Hetzner sells it. */
  memoryGb: number;
  /** Local disk in GB. */
  diskGb: number;
  architecture: Architecture;
  /** Dedicated vCPUs (CCX) rather than shared. */
  dedicated: boolean;
  /** Locations where the type is offered. */
  locations: readonly string[];
  /** EUR per month before VAT, from PRICES_AS_OF. */
  priceEurMonth: number;
}

/** Every location named here: Falkenstein, Nuremberg, Helsinki (EU), Ashburn, Hillsboro (US), Singapore. */
export const LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"] as const;

/** CX and CAX are sold in the EU locations only. */
const EU_ONLY = ["fsn1", "nbg1", "hel1"] as const;
const EVERYWHERE = LOCATIONS;

function type(
  name: string,
  vcpus: number,
  memoryGb: number,
  diskGb: number,
  architecture: Architecture,
  dedicated: boolean,
  locations: readonly string[],
  priceEurMonth: number,
): ServerType {
  return { name, vcpus, memoryGb, diskGb, architecture, dedicated, locations, priceEurMonth };
}

export const SERVER_TYPES: readonly ServerType[] = [
  type("cx23", 2, 4, 40, "x86", false, EU_ONLY, 5.49),
  type("cx33", 4, 8, 80, "x86", false, EU_ONLY, 8.49),
  type("cx43", 8, 16, 160, "x86", false, EU_ONLY, 15.99),
  type("cx53", 16, 32, 320, "x86", false, EU_ONLY, 29.49),
  type("cax11", 2, 4, 40, "arm", false, EU_ONLY, 5.99),
  type("cax21", 4, 8, 80, "arm", false, EU_ONLY, 10.49),
  type("cax31", 8, 16, 160, "arm", false, EU_ONLY, 20.99),
  type("cax41", 16, 32, 320, "arm", false, EU_ONLY, 40.99),
  // CPX disk sizes are the generation's listed figures; the FACTS table gives vCPU and RAM only.
  type("cpx22", 2, 4, 80, "x86", false, EVERYWHERE, 19.49),
  type("cpx32", 4, 8, 160, "x86", false, EVERYWHERE, 35.49),
  type("cpx42", 8, 16, 320, "x86", false, EVERYWHERE, 69.49),
  type("cpx52", 12, 24, 480, "x86", false, EVERYWHERE, 100.49),
  type("cpx62", 16, 32, 640, "x86", false, EVERYWHERE, 129.99),
  type("ccx13", 2, 8, 80, "x86", true, EVERYWHERE, 42.99),
  type("ccx23", 4, 16, 160, "x86", true, EVERYWHERE, 85.99),
  type("ccx33", 8, 32, 240, "x86", true, EVERYWHERE, 138.49),
  type("ccx43", 16, 64, 360, "x86", true, EVERYWHERE, 275.99),
];

export function findServerType(name: string): ServerType | undefined {
  return SERVER_TYPES.find((t) => t.name === name);
}
