/** Monthly cost of an environment, from the dated catalog. Pure: settings in, EUR out. */
import {
  BACKUP_PRICE_SHARE,
  PRICES_AS_OF,
  PRIMARY_IPV4_EUR_MONTH,
  VOLUME_EUR_PER_GB_MONTH,
} from "../catalog/serverTypes";
import { CLOUD_PRICES, CLOUD_PRICES_AS_OF, USD_PER_EUR } from "../catalog/cloudPrices";
import type { Role } from "../catalog/services";
import type { Settings } from "../config";

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
  // Each extra inference node: its server, address and volume (no Hetzner backups: it holds no state of its own).
  for (const worker of settings.workers[settings.environment]) {
    const node = `inference node ${worker.name}`;
    lines.push({ item: `${node} server ${worker.serverType.name}`, eurMonth: worker.serverType.priceEurMonth });
    lines.push({ item: `${node} primary IPv4`, eurMonth: PRIMARY_IPV4_EUR_MONTH });
    lines.push({ item: `${node} volume ${worker.volumeGb} GB`, eurMonth: cents(worker.volumeGb * VOLUME_EUR_PER_GB_MONTH) });
  }
  // The nightly backups' Storage Box; an existing target (sftp, s3) is paid for elsewhere.
  if (settings.backup.target === "storagebox") {
    const box = settings.backup.storageBoxType;
    lines.push({ item: `backup Storage Box ${box.name} (${box.capacityTb} TB${box.estimate ? "; price an estimate" : ""})`, eurMonth: box.priceEurMonth });
  }
  return {
    lines,
    totalEurMonth: cents(lines.reduce((sum, l) => sum + l.eurMonth, 0)),
    pricesAsOf: PRICES_AS_OF,
  };
}

export interface CloudComparison {
  requestsPerMonth: number;
  inputTokens: number;
  outputTokens: number;
  platformEurMonth: number;
  pricesAsOf: string;
  usdPerEur: number;
  /** Requests a month the inference node serves at its utilization ceiling (plan/throughput.ts), when known. */
  platformCapacityRequestsPerMonth?: number;
  /** What the requests above that capacity cost through the configured fallback, EUR a month. */
  fallbackEurMonth: number;
  /**
   * Per cloud model: its monthly cost for the same requests, and the volume above which the platform is
   * cheaper; null when that volume is above what the node can serve (the comparison counts only those).
   */
  cloud: { model: string; usdMonth: number; eurMonth: number; breakEvenRequestsPerMonth: number | null }[];
}

/**
 * The platform's fixed monthly price beside what the same requests would cost through cloud APIs, from the
 * dated price table. Per-request cost: input tokens x input rate + output tokens x output rate.
 */
export function compareWithCloud(
  settings: Settings,
  platformEurMonth: number,
  capacity?: { capacityRequestsPerMonth: number; fallbackEurMonth: number },
): CloudComparison {
  const { requestsPerMonth, inputTokens, outputTokens } = settings.comparison;
  const platformUsd = platformEurMonth * USD_PER_EUR;
  return {
    requestsPerMonth,
    inputTokens,
    outputTokens,
    platformEurMonth,
    pricesAsOf: CLOUD_PRICES_AS_OF,
    usdPerEur: USD_PER_EUR,
    ...(capacity ? { platformCapacityRequestsPerMonth: capacity.capacityRequestsPerMonth } : {}),
    fallbackEurMonth: capacity?.fallbackEurMonth ?? 0,
    cloud: CLOUD_PRICES.map((p) => {
      const usdPerRequest = (inputTokens * p.inputUsdPerMillion + outputTokens * p.outputUsdPerMillion) / 1e6;
      const usdMonth = usdPerRequest * requestsPerMonth;
      const breakEven = Math.ceil(platformUsd / usdPerRequest);
      return {
        model: p.model,
        usdMonth: cents(usdMonth),
        eurMonth: cents(usdMonth / USD_PER_EUR),
        breakEvenRequestsPerMonth: capacity && breakEven > capacity.capacityRequestsPerMonth ? null : breakEven,
      };
    }),
  };
}
