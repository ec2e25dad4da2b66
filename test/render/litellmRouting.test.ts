// LiteLLM's router with the rendered config for two inference nodes and one external backend, in the real proxy
// at the pinned version (.venv-litellm, bash .ci/install-litellm.sh; without it the tests fail, they never skip).
//
// The config is built as the program builds it: backendRouting (components/services/inference.ts) turns the
// second inference node (a worker, "inference-2") and the external backends read by the settings parser (the
// team's GPU box "gpu-box", preferred, and an OpenAI-compatible "vllm") into LiteLLM's deployments and orders
// (the GPU box 1, the nodes 2). Three Ollama stand-ins: the node's own Ollama (`ollamaApiBase`) and the GPU box on
// 127.0.0.1, the second node on a loopback address of its own at Ollama's port, where workerOllamaUrl puts a
// worker's Ollama; and an OpenAI-compatible one on 127.0.0.1. One proxy serves every case below, in order, each
// leaving the stand-ins as the next expects them. Nothing leaves loopback: an egress trap records what would.
//
// What LiteLLM 1.110.2 does, and where its source says so (site-packages/litellm/ under .venv-litellm):
// - simple-shuffle draws a deployment at random in proportion to its weight (router_strategy/simple_shuffle.py),
//   among the model's deployments of the lowest order that are not cooled down (utils.py
//   get_order_filtered_deployments);
// - enable_weighted_failover draws again among the others after a failed attempt (router.py);
// - a deployment whose failures within cooldown_time exceed allowed_fails is left out for cooldown_time, but a
//   refused connection is no such failure (router_utils/cooldown_handlers.py _is_cooldown_required skips any
//   APIConnectionError): a stopped Ollama is never cooled down, and weighted failover is what steps around it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { IMAGES } from "../../components/catalog/images";
import { port as servicePort } from "../../components/catalog/services";
import type { ExternalBackend } from "../../components/config/backends";
import { LITELLM_MASTER_KEY_ENV, renderLiteLlmConfig } from "../../components/render/litellm";
import { backendRouting } from "../../components/services/inference";
import { loadStackSettings } from "../harness";
import { freePort, type RunningProgram, sleep } from "../validators/exporters";
import {
  assertLiteLlmInstalled,
  type Recorded,
  type Reply,
  type StandIn,
  startLiteLlmProxy,
  startStandIn,
} from "../validators/litellm";

/** Served by both nodes, at the same order: the spread, the stopped node, the failing node. */
const SPREAD = "qwen3:0.6b";
/** Served by the GPU box (order 1) and both nodes (order 2): the preference. */
const PREFERRED = "qwen3:8b";
/** Served by the OpenAI-compatible backend alone. */
const OPENAI_ONLY = "qwen3:32b";
const OPENAI_KEY_ENV = "LITELLM_BACKEND_KEY_VLLM";

const ALLOWED_FAILS = 1;
/** Short, so that a cooldown ends within the test; long enough to send a burst of requests inside one. */
const COOLDOWN_SECONDS = 10;
/** Every stand-in answers in milliseconds; the one that never answers costs this much per attempt. */
const TIMEOUT_SECONDS = 4;

const LOCAL = "local";
const SECOND = "inference-2";
const GPU = "gpu-box";
const id = (model: string, where: string) => `${model}@${where}`;
/** Where a worker's Ollama listens, on its own address (workerOllamaUrl). */
const WORKER_OLLAMA_PORT = servicePort("ollama");

/**
 * The external backends as the settings parser reads them (tailnetDevBackends). It accepts only tailnet hosts, so
 * the entries name tailnet addresses, and only the address (url, host, port) of each parsed backend is then
 * replaced by its loopback stand-in's: name, kind, models, preference and weight are the parser's.
 */
function parsedBackends(at: Record<string, string>): ExternalBackend[] {
  const parsed = loadStackSettings("dev", {
    tailnetDevBackends: [
      `name=${GPU} url=http://100.101.102.103:11434 kind=ollama tag=tag:ai-dev-gpu models=${PREFERRED} preferred=true`,
      `name=vllm kind=openai url=http://100.101.102.104:8000/v1 tag=tag:ai-dev-vllm models=${OPENAI_ONLY}`,
    ],
  }).backends.dev;
  assert.deepEqual(parsed.map((b) => b.name), [GPU, "vllm"]);
  return parsed.map((b) => {
    const url = new URL(at[b.name]);
    return { ...b, url: at[b.name], host: url.hostname, port: Number(url.port) };
  });
}

describe(`LiteLLM ${IMAGES.litellm.version} routing over two nodes and a GPU box`, { timeout: 300_000 }, () => {
  const masterKey = `sk-test-${randomBytes(16).toString("hex")}`;
  const backendKey = `fake-backend-key-${randomBytes(8).toString("hex")}`;
  /** Each Ollama stand-in's chat requests by model, across its restarts. */
  const chats: Record<string, Recorded[]> = { [LOCAL]: [], [SECOND]: [], [GPU]: [] };
  /** How the second node answers while it is up. */
  let secondFails = false;
  /** The Ollama stand-ins on 127.0.0.1: the node's own and the GPU box. */
  const stands: Record<string, StandIn> = {};
  /** The second node's address, 127.0.0.x, and its Ollama stand-in there, at WORKER_OLLAMA_PORT, while it is up. */
  let secondAddress = "";
  let second: http.Server | undefined;
  let vllm: StandIn;
  let egress: StandIn;
  let proxy: RunningProgram | undefined;
  let base = "";
  let metricsBase = "";
  let workDir = "";
  let startupError: string | undefined;
  const requireProxy = () => assert.equal(startupError, undefined, startupError);

  /** What Ollama's /api/chat answers, naming the stand-in. */
  const ollama = (where: string) => (req: Recorded): Reply => {
    if (req.method === "POST" && req.url === "/api/chat") {
      chats[where].push(req);
      if (where === SECOND && secondFails) return { status: 500, body: { error: "fake ollama: model runner crashed" } };
      return {
        status: 200,
        body: {
          model: req.body.model,
          created_at: new Date(0).toISOString(),
          message: { role: "assistant", content: `answer from ${where}` },
          done: true,
          done_reason: "stop",
          prompt_eval_count: 3,
          eval_count: 2,
        },
      };
    }
    return { status: 404, body: { error: `fake ollama ${where}: no ${req.method} ${req.url}` } };
  };
  const openaiCompatible = (req: Recorded): Reply =>
    req.method === "POST" && req.url === "/v1/chat/completions"
      ? {
          status: 200,
          body: {
            id: "chatcmpl-fake",
            object: "chat.completion",
            created: 0,
            model: req.body.model,
            choices: [{ index: 0, message: { role: "assistant", content: "answer from vllm" }, finish_reason: "stop" }],
            usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
          },
        }
      : { status: 404, body: { error: { message: `fake vllm: no ${req.method} ${req.url}` } } };

  const portOf = (where: string) => Number(new URL(stands[where].url).port);
  const stop = async (where: string) => stands[where].close();
  const restart = async (where: string, port: number) => {
    stands[where] = await startStandIn(ollama(where), port);
  };

  const listen = (server: net.Server, host: string, port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  /**
   * The second node's Ollama stand-in on `address`, at a worker's fixed Ollama port. startStandIn listens on
   * 127.0.0.1 alone, where that port may be taken, so the second node has a loopback address of its own.
   */
  async function startSecond(address: string): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        let body: Record<string, unknown>;
        try {
          body = raw === "" ? {} : (JSON.parse(raw) as Record<string, unknown>);
        } catch {
          body = { raw };
        }
        const answer = ollama(SECOND)({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer.body));
      });
    });
    await listen(server, address, WORKER_OLLAMA_PORT);
    second = server;
  }
  async function stopSecond(): Promise<void> {
    const server = second;
    second = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  /** 127.0.0.x with x drawn in 2..250, another drawn while the one drawn has the port taken. */
  async function startSecondSomewhere(): Promise<string> {
    for (let tries = 1; ; tries++) {
      const address = `127.0.0.${randomInt(2, 251)}`;
      try {
        await startSecond(address);
        return address;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || tries === 10) throw e;
      }
    }
  }
  const calls = (where: string, model: string) => chats[where].filter((r) => r.body.model === model).length;

  interface Answer {
    status: number;
    /** The deployment that answered: LiteLLM's x-litellm-model-id, the deployment's model_info.id. */
    deployment: string | null;
    body: string;
  }
  async function chat(model: string): Promise<Answer> {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${masterKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: `ping ${model}` }] }),
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, deployment: res.headers.get("x-litellm-model-id"), body: await res.text() };
  }
  async function ask(model: string, n: number): Promise<Answer[]> {
    const answers: Answer[] = [];
    for (let i = 0; i < n; i++) answers.push(await chat(model));
    return answers;
  }
  const assertAllAnswered = (answers: Answer[]) => {
    const failed = answers.filter((a) => a.status !== 200);
    assert.equal(failed.length, 0, `${failed.length} of ${answers.length} failed, e.g. ${failed[0]?.status} ${failed[0]?.body.slice(0, 300)}`);
  };
  const tally = (answers: Answer[]) => {
    const counts: Record<string, number> = {};
    for (const a of answers) counts[String(a.deployment)] = (counts[String(a.deployment)] ?? 0) + 1;
    return counts;
  };

  /** The sum of a counter's series for one deployment (its model_id label), on the metrics port. */
  async function metric(name: string, deployment: string, extra = ""): Promise<number> {
    const text = await (await fetch(`${metricsBase}/metrics/`, { signal: AbortSignal.timeout(10_000) })).text();
    let sum = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}{`) || !line.includes(`model_id="${deployment}"`) || !line.includes(extra)) continue;
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return sum;
  }
  /** The metric once it reaches `atLeast`: LiteLLM's callbacks record after the answer is sent. */
  async function metricReaching(name: string, deployment: string, atLeast: number, extra = ""): Promise<number> {
    let value = 0;
    for (let tries = 0; tries < 20; tries++) {
      value = await metric(name, deployment, extra);
      if (value >= atLeast) break;
      await sleep(250);
    }
    return value;
  }

  before(async () => {
    try {
      await startProxy();
    } catch (e) {
      startupError = e instanceof Error ? e.message : String(e);
    }
  });

  async function startProxy(): Promise<void> {
    assertLiteLlmInstalled();
    for (const where of [LOCAL, GPU]) stands[where] = await startStandIn(ollama(where));
    secondAddress = await startSecondSomewhere();
    vllm = await startStandIn(openaiCompatible);
    egress = await startStandIn(() => ({ status: 403, body: { error: "egress trap: nothing may leave loopback" } }));
    const backends = parsedBackends({ [GPU]: stands[GPU].url, vllm: `${vllm.url}/v1` });
    const routing = backendRouting(backends, [
      { name: SECOND, address: secondAddress, models: [{ name: SPREAD, embedding: false }, { name: PREFERRED, embedding: false }] },
    ]);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "litellm-routing-"));
    const configFile = path.join(workDir, "config.yaml");
    fs.writeFileSync(
      configFile,
      renderLiteLlmConfig({
        ollamaApiBase: stands[LOCAL].url,
        localModels: [{ name: SPREAD }, { name: PREFERRED }],
        cloudModels: [],
        fallbacks: {},
        database: false,
        requestTimeoutSeconds: TIMEOUT_SECONDS,
        localOrder: routing.localOrder,
        // The settings have no key for a backend yet (backendRouting names none, and LiteLLM sends a placeholder):
        // the renderer's apiKeyEnv, added here, is what the OpenAI-compatible case shows.
        backends: routing.backends?.map((b) => (b.name === "vllm" ? { ...b, apiKeyEnv: OPENAI_KEY_ENV } : b)),
        routing: { strategy: "simple-shuffle", allowedFails: ALLOWED_FAILS, cooldownSeconds: COOLDOWN_SECONDS, numRetries: 1 },
      }),
    );
    const port = await freePort();
    const metricsPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    metricsBase = `http://127.0.0.1:${metricsPort}`;
    proxy = await startLiteLlmProxy({
      test: "litellmRouting",
      configPath: configFile,
      port,
      metricsPort,
      workDir,
      egress,
      env: {
        [LITELLM_MASTER_KEY_ENV]: masterKey,
        [OPENAI_KEY_ENV]: backendKey,
        // egressTrapEnv's exceptions and the second node's address: without it, its requests go to the trap.
        NO_PROXY: `127.0.0.1,${secondAddress},localhost`,
        no_proxy: `127.0.0.1,${secondAddress},localhost`,
      },
    });
  }

  after(async () => {
    await proxy?.stop();
    await stopSecond();
    await Promise.all([...Object.values(stands), vllm, egress].filter((s) => s !== undefined).map((s) => s.close()));
    if (workDir !== "") fs.rmSync(workDir, { recursive: true, force: true });
  });

  it("spreads a model's requests over the nodes that serve it at random, and says which deployment answered", async () => {
    requireProxy();
    const answers = await ask(SPREAD, 30);
    assertAllAnswered(answers);
    // simple-shuffle promises a random draw by weight (equal here) per request, no more: over 30 draws each node
    // gets some (the chance that one gets none is 2 in 2^30).
    const counts = tally(answers);
    assert.deepEqual(Object.keys(counts).sort(), [id(SPREAD, LOCAL), id(SPREAD, SECOND)].sort(), JSON.stringify(counts));
    // The id LiteLLM names is the stand-in that answered.
    assert.equal(counts[id(SPREAD, LOCAL)], calls(LOCAL, SPREAD));
    assert.equal(counts[id(SPREAD, SECOND)], calls(SECOND, SPREAD));
    assert.equal(calls(GPU, SPREAD), 0, "the GPU box does not serve this model");
    // Ollama is sent Ollama's request, without LiteLLM's routing fields.
    const sent = chats[SECOND].find((r) => r.body.model === SPREAD);
    assert.ok(sent);
    assert.deepEqual(Object.keys(sent.body).sort(), ["messages", "model", "options", "stream"]);
  });

  it("gives the preferred GPU box (order 1) all of its model's requests while it is up, the nodes (order 2) while it is stopped", async () => {
    requireProxy();
    const preferred = await ask(PREFERRED, 12);
    assertAllAnswered(preferred);
    assert.deepEqual(tally(preferred), { [id(PREFERRED, GPU)]: 12 });
    assert.equal(calls(GPU, PREFERRED), 12);
    assert.equal(calls(LOCAL, PREFERRED) + calls(SECOND, PREFERRED), 0, "a node was sent a request while the GPU box was up");

    const gpuPort = portOf(GPU);
    await stop(GPU);
    try {
      const fallen = await ask(PREFERRED, 20);
      assertAllAnswered(fallen);
      const counts = tally(fallen);
      assert.deepEqual(Object.keys(counts).sort(), [id(PREFERRED, LOCAL), id(PREFERRED, SECOND)].sort(), JSON.stringify(counts));
      // LiteLLM still tried the GPU box first each time: its refused attempts are its failures.
      assert.ok((await metricReaching("litellm_deployment_failure_responses_total", id(PREFERRED, GPU), 20)) >= 20);
    } finally {
      await restart(GPU, gpuPort);
    }

    // A refused connection does not cool a deployment down, so the GPU box is first again as soon as it answers.
    const back = await ask(PREFERRED, 5);
    assertAllAnswered(back);
    assert.deepEqual(tally(back), { [id(PREFERRED, GPU)]: 5 });
  });

  it("with a node stopped (connection refused) every request succeeds on the other node, and LiteLLM does not cool it down", async () => {
    requireProxy();
    const failuresBefore = await metric("litellm_deployment_failure_responses_total", id(SPREAD, SECOND));
    await stopSecond();
    try {
      const answers = await ask(SPREAD, 24);
      assertAllAnswered(answers);
      assert.deepEqual(tally(answers), { [id(SPREAD, LOCAL)]: 24 });
      // It was drawn and refused (the chance it never was in 24 draws is 1 in 2^24): weighted failover answered
      // those requests from the other node.
      const refused = (await metricReaching("litellm_deployment_failure_responses_total", id(SPREAD, SECOND), failuresBefore + 1)) - failuresBefore;
      assert.ok(refused >= 1, "the stopped node was never tried");
      assert.equal(await metric("litellm_deployment_cooled_down_total", id(SPREAD, SECOND)), 0, "LiteLLM cooled down a node for a refused connection");
    } finally {
      await startSecond(secondAddress);
    }
  });

  it("cools a node that answers 500 down after allowed fails + 1 failures, sends it nothing while it is cooled down, and tries it again after", async () => {
    requireProxy();
    secondFails = true;
    const failedBefore = calls(SECOND, SPREAD);
    const answers: Answer[] = [];
    while (calls(SECOND, SPREAD) - failedBefore < ALLOWED_FAILS + 1 && answers.length < 60) answers.push(await chat(SPREAD));
    const cooledAt = Date.now();
    assertAllAnswered(answers);
    assert.equal(calls(SECOND, SPREAD) - failedBefore, ALLOWED_FAILS + 1, `the failing node was drawn ${calls(SECOND, SPREAD) - failedBefore} times in ${answers.length} requests`);
    assert.ok(
      (await metricReaching("litellm_deployment_cooled_down_total", id(SPREAD, SECOND), 1, 'exception_status="500"')) >= 1,
      "LiteLLM did not count a cooldown of the failing node",
    );

    const seen = calls(SECOND, SPREAD);
    const during = await ask(SPREAD, 20);
    assert.ok(Date.now() - cooledAt < COOLDOWN_SECONDS * 1000, "the burst outlasted the cooldown; the test proves nothing on this machine");
    assertAllAnswered(during);
    assert.deepEqual(tally(during), { [id(SPREAD, LOCAL)]: 20 });
    assert.equal(calls(SECOND, SPREAD), seen, "a cooled-down node was sent a request");

    // After the cooldown, the node (answering again) is back among the draws.
    secondFails = false;
    await sleep(Math.max(0, cooledAt + (COOLDOWN_SECONDS + 1) * 1000 - Date.now()));
    const later: Answer[] = [];
    while (calls(SECOND, SPREAD) === seen && later.length < 30) later.push(await chat(SPREAD));
    assertAllAnswered(later);
    assert.ok(calls(SECOND, SPREAD) > seen, "the node was not tried again after its cooldown");
  });

  it("cools a node that accepts connections and never answers down after its requests time out, and opens no connection to it then", async () => {
    requireProxy();
    await stopSecond();
    const accepted: net.Socket[] = [];
    const hung = net.createServer((socket) => accepted.push(socket));
    await listen(hung, secondAddress, WORKER_OLLAMA_PORT);
    try {
      const answers: Answer[] = [];
      while (accepted.length < ALLOWED_FAILS + 1 && answers.length < 40) answers.push(await chat(SPREAD));
      assertAllAnswered(answers);
      assert.ok(accepted.length >= ALLOWED_FAILS + 1, `the hung node was reached ${accepted.length} times in ${answers.length} requests`);
      assert.ok(
        (await metricReaching("litellm_deployment_cooled_down_total", id(SPREAD, SECOND), 1, 'exception_status="408"')) >= 1,
        "LiteLLM did not cool the hung node down after its timeouts",
      );
      const opened = accepted.length;
      const during = await ask(SPREAD, 15);
      assertAllAnswered(during);
      assert.equal(accepted.length, opened, "LiteLLM opened a connection to a cooled-down node");
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    }
  });

  it("sends a model of an OpenAI-compatible backend to its /v1 with its key from the environment", async () => {
    requireProxy();
    const answer = await chat(OPENAI_ONLY);
    assert.equal(answer.status, 200, answer.body);
    assert.equal(answer.deployment, id(OPENAI_ONLY, "vllm"));
    const sent = vllm.requests.filter((r) => r.method === "POST" && r.url === "/v1/chat/completions");
    assert.equal(sent.length, 1);
    assert.equal(sent[0].body.model, OPENAI_ONLY);
    assert.equal(sent[0].headers.authorization, `Bearer ${backendKey}`);
  });

  it("sent nothing anywhere but the stand-ins on loopback: 127.0.0.1 and the second node's 127.0.0.x", () => {
    requireProxy();
    assert.deepEqual(egress.requests.map((r) => `${r.method} ${r.url}`), []);
    assert.match(secondAddress, /^127\.0\.0\.([2-9]|[1-9]\d|1\d\d|2[0-4]\d|250)$/);
    // The second node was reached where the program's config sends a worker's requests: its address, Ollama's port.
    assert.ok(chats[SECOND].length > 0);
    assert.deepEqual([...new Set(chats[SECOND].map((r) => r.headers.host))], [`${secondAddress}:${WORKER_OLLAMA_PORT}`]);
  });
});
