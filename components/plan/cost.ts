/** Monthly cost of an environment, from the dated catalog. Pure: settings in, EUR out. */
import {
  BACKUP_PRICE_SHARE,
  PRICES_AS_OF,
  PRIMARY_IPV4_EUR_MONTH,
  VOLUME_EUR_PER_GB_MONTH,
} from "../catalog/serverTypes";
import type { Role, Settings } from "../config";

export interface CostLine {
  /** What is paid for, e.g. "inference server cx43". */
  item: string;
  eurMonth: number;
}

export interface CostEstimate {
  lines: CostLine[];
  /** EUR per month before VAT, rounded to cents. */
  totalEurMonth: number;
  pricesAsOf: string;
}

const cents = (eur: number) => Math.round(eur * 100) / 100;

export function estimateCost(settings: Settings): CostEstimate {
  const lines: CostLine[] = [];
  for (const role of ["inference", "operations"] as Role[]) {
    const node = settings.nodes[role];
    lines.push({ item: `${role} server ${node.serverType.name}`, eurMonth: node.serverType.priceEurMonth });
    lines.push({ item: `${role} primary IPv4`, eurMonth: PRIMARY_IPV4_EUR_MONTH });
    if (node.backups) {
      lines.push({ item: `${role} backups (20%)`, eurMonth: cents(node.serverType.priceEurMonth * BACKUP_PRICE_SHARE) });
    }
    lines.push({ item: `${role} volume ${node.volumeGb} GB`, eurMonth: cents(node.volumeGb * VOLUME_EUR_PER_GB_MONTH) });
  }
  return {
    lines,
    totalEurMonth: cents(lines.reduce((sum, l) => sum + l.eurMonth, 0)),
    pricesAsOf: PRICES_AS_OF,
  };
}
