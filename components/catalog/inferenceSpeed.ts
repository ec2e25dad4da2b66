/**
 * Measured llama.cpp speed on Hetzner Cloud server types, for the throughput model (plan/throughput.ts).
 *
 * Source: SpareCores/sc-inspector-data `data/hcloud/<type>/llm/stdout`: llama-bench, llama.cpp build 4753,
 * Q4_K_M weights; "pp" is prompt processing of a 128-token prompt, "tg" the generation of 128 tokens, both in
 * tokens per second. CX and CPX measured in October 2025, CCX and CAX in April 2025; compiled in
 * ../shared/FACTS.md ("Inference speed on Hetzner CPUs"). The CCX runs used threads = vCPU / 2, so they
 * understate CCX speed.
 *
 * The benchmark's models (SpareCores' model list): gemma-2b.Q4_K_M.gguf, llama-7b.Q4_K_M.gguf (4.08 GB) and
 * phi-4-q4.gguf (14B). The 2B and 14B file sizes are the GGUF files' published sizes, rounded (an assumption
 * beside the 7B's, which FACTS.md states).
 */

export const INFERENCE_SPEED_MEASURED = "2025-04 (CCX, CAX), 2025-10 (CX, CPX)";
export const INFERENCE_SPEED_SOURCE = "SpareCores/sc-inspector-data data/hcloud/*/llm/stdout (llama-bench, llama.cpp b4753, Q4_K_M)";

/** The benchmark's models, by their size on disk (GB), which is what one generated token reads from memory. */
export const BENCH_MODELS = {
  "2B": { file: "gemma-2b.Q4_K_M.gguf", fileGb: 1.63 },
  "7B": { file: "llama-7b.Q4_K_M.gguf", fileGb: 4.08 },
  "14B": { file: "phi-4-q4.gguf", fileGb: 9.05 },
} as const;
export type BenchModel = keyof typeof BENCH_MODELS;

export type CpuFamily = "Xeon Skylake" | "EPYC Rome" | "EPYC Genoa" | "EPYC Milan" | "Ampere Altra";

export interface SpeedPoint {
  model: BenchModel;
  /** Prompt processing, tokens/s; absent where the source has none. */
  promptTokS?: number;
  /** Generation, tokens/s. */
  generationTokS: number;
}

/**
 * The CPU family of every catalogued server type. The measured types' families are the source's; for the
 * others, Hetzner's current generation of that line (an assumption: a CX53 is taken to be EPYC Rome like
 * CX33 and CX43; CX23 was measured on a Xeon Skylake host).
 */
export const CPU_FAMILY: Readonly<Record<string, CpuFamily>> = {
  cx23: "Xeon Skylake",
  cx33: "EPYC Rome",
  cx43: "EPYC Rome",
  cx53: "EPYC Rome",
  cax11: "Ampere Altra",
  cax21: "Ampere Altra",
  cax31: "Ampere Altra",
  cax41: "Ampere Altra",
  cpx22: "EPYC Genoa",
  cpx32: "EPYC Genoa",
  cpx42: "EPYC Genoa",
  cpx52: "EPYC Genoa",
  cpx62: "EPYC Genoa",
  ccx13: "EPYC Milan",
  ccx23: "EPYC Milan",
  ccx33: "EPYC Milan",
  ccx43: "EPYC Milan",
};

const p = (model: BenchModel, promptTokS: number | undefined, generationTokS: number): SpeedPoint =>
  promptTokS === undefined ? { model, generationTokS } : { model, promptTokS, generationTokS };

/** The measured points, by server type (FACTS.md's table, each cell one point). */
export const MEASURED_SPEED: Readonly<Record<string, readonly SpeedPoint[]>> = {
  cx23: [p("2B", 12, 6.9)],
  cx33: [p("2B", 52, 27), p("7B", 17, 10.9)],
  cx43: [p("2B", 101, 45), p("7B", 32, 18.3), p("14B", undefined, 9.1)],
  cax31: [p("2B", 32, 18.7), p("7B", undefined, 7.3)],
  cpx22: [p("2B", 35, 17.2)],
  cpx32: [p("2B", 68, 31), p("7B", 22, 15.2)],
  cpx42: [p("2B", 134, 54), p("7B", 44, 26.0), p("14B", undefined, 11.9)],
  cpx62: [p("2B", 263, 88), p("7B", 87, 39.5), p("14B", undefined, 19.6)],
  ccx23: [p("2B", 35, 16.8), p("7B", 11, 7.0)],
  ccx33: [p("2B", 72, 24), p("7B", 22.5, 9.3), p("14B", undefined, 4.3)],
};
