/**
 * What the tests that run the real LiteLLM proxy share: where .ci/install-litellm.sh puts it, the check that it
 * is the version the stack pins, and loopback stand-ins for the servers it calls (Ollama, a cloud API, an
 * egress trap), which record every request.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import * as path from "node:path";
import { IMAGES } from "../../components/catalog/images";
import {
  LITELLM_LOCAL_ONLY_ENV,
  LITELLM_METRICS_DIR_ENV,
  LITELLM_SITECUSTOMIZE,
  liteLlmCommand,
  liteLlmStartupEnv,
} from "../../components/render/litellm";
import { pythonStacks, type RunningProgram, startProgram } from "./exporters";

export const LITELLM_VENV = path.resolve(__dirname, "..", "..", ".venv-litellm");
/** The proxy's command. */
export const LITELLM_BIN = path.join(LITELLM_VENV, "bin", "litellm");
/** py-spy, installed beside it: the stacks of a LiteLLM that does not answer (test/validators/exporters.ts pythonStacks). */
export const LITELLM_PY_SPY = path.join(LITELLM_VENV, "bin", "py-spy");
const INSTALL_HINT = "run `bash .ci/install-litellm.sh` to install it";

/** Fails, saying how to install it, unless .venv-litellm has LiteLLM at the version the stack pins. */
export function assertLiteLlmInstalled(): void {
  assert.ok(fs.existsSync(LITELLM_BIN), `LiteLLM is not installed at ${LITELLM_BIN}: ${INSTALL_HINT}`);
  const probe = spawnSync(path.join(LITELLM_VENV, "bin", "python"), ["-c", "import importlib.metadata as m; print(m.version('litellm'))"], {
    encoding: "utf8",
  });
  const installed = probe.stdout.trim();
  assert.equal(
    installed,
    IMAGES.litellm.version,
    `.venv-litellm has LiteLLM ${installed || "(unreadable)"}, the stack pins ${IMAGES.litellm.version}: ${INSTALL_HINT}`,
  );
}

/** A request a stand-in received; a JSON body parsed, any other as `{ raw }`. */
export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface StandIn {
  url: string;
  requests: Recorded[];
  close: () => Promise<void>;
}

/** A stand-in's answer: a string body goes as text/plain, anything else as JSON. */
export type Reply = { status: number; body: unknown };

/**
 * An HTTP server on 127.0.0.1 that records every request and answers with `reply`; on `port` when given (a
 * stand-in started again where a stopped one was), else on a free one.
 */
export async function startStandIn(reply: (req: Recorded) => Reply, port = 0): Promise<StandIn> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: Record<string, unknown> = {};
      try {
        body = raw === "" ? {} : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        body = { raw };
      }
      const recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
      requests.push(recorded);
      const { status, body: answer } = reply(recorded);
      res.writeHead(status, { "content-type": typeof answer === "string" ? "text/plain" : "application/json" });
      res.end(typeof answer === "string" ? answer : JSON.stringify(answer));
    });
  });
  // A CONNECT (HTTPS through a proxy) is recorded and refused, never tunnelled.
  server.on("connect", (req: http.IncomingMessage, socket: Socket) => {
    requests.push({ method: "CONNECT", url: req.url ?? "", headers: req.headers, body: {} });
    socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The proxy environment variables, each pointing at `trap`, so that anything LiteLLM sends off loopback lands there. */
export function egressTrapEnv(trap: StandIn): Record<string, string> {
  const env: Record<string, string> = { NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" };
  for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"]) env[name] = trap.url;
  return env;
}

/**
 * The stack's sitecustomize.py (LITELLM_SITECUSTOMIZE) written under `workDir`, and the environment that makes
 * LiteLLM run it, as the container does: what every test that starts LiteLLM adds to its environment.
 */
export function liteLlmStartup(workDir: string): Record<string, string> {
  const dir = path.join(workDir, "python-startup");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "sitecustomize.py"), LITELLM_SITECUSTOMIZE);
  return liteLlmStartupEnv(dir);
}

/**
 * Starts the real proxy as the container runs it (its command line, the local-only environment, the startup file,
 * an empty metrics directory), on 127.0.0.1, with anything it sends off loopback landing in `egress`; resolves once
 * /health/liveliness answers. `env` adds the test's own variables (the master key, a backend's key).
 *
 * A start that does not answer within 2 minutes is reported with the proxy's log and Python stacks and tried once
 * more: the worker's boot hang (LITELLM_SITECUSTOMIZE) is closed by the startup file and shown by
 * test/render/litellmForkRace.test.ts, and the tests that use this one are about other things.
 */
export async function startLiteLlmProxy(opts: {
  /** Who starts it, for the log line of a failed first start. */
  test: string;
  configPath: string;
  port: number;
  metricsPort: number;
  workDir: string;
  egress: StandIn;
  env: Record<string, string>;
}): Promise<RunningProgram> {
  const args = [...liteLlmCommand({ configPath: opts.configPath, port: opts.port, metricsPort: opts.metricsPort }), "--host", "127.0.0.1"];
  const start = () =>
    startProgram("litellm", LITELLM_BIN, args, {
      readyUrl: `http://127.0.0.1:${opts.port}/health/liveliness`,
      cwd: opts.workDir,
      env: {
        PATH: `${path.join(LITELLM_VENV, "bin")}:/usr/bin:/bin`,
        HOME: opts.workDir,
        ...LITELLM_LOCAL_ONLY_ENV,
        // Each start with an empty samples directory, as the container's tmpfs is at each start.
        [LITELLM_METRICS_DIR_ENV]: fs.mkdtempSync(path.join(opts.workDir, "litellm-metrics-")),
        ...liteLlmStartup(opts.workDir),
        ...egressTrapEnv(opts.egress),
        ...opts.env,
      },
      timeoutMs: 120_000,
      diagnose: (pgid) => pythonStacks(pgid, LITELLM_PY_SPY),
    });
  try {
    return await start();
  } catch (first) {
    process.stderr.write(`${opts.test}: LiteLLM's first start failed; starting it once more.\n${first instanceof Error ? first.message : String(first)}\n`);
    return start();
  }
}
