// The gunicorn worker of the real LiteLLM (.venv-litellm, at the pinned version) that hung at boot, and the
// stack's sitecustomize.py (LITELLM_SITECUSTOMIZE) that prevents it, run the way the container runs it.
//
// The race: LiteLLM's CLI starts its query-engine reaper thread in the gunicorn master right before gunicorn
// forks the worker; the thread's first /proc scan imports encodings.ascii; a fork during that import leaves the
// worker the import's module lock, held by no thread of its own, and the worker's own first ascii file
// (tzlocal reading /etc/timezone) waits for it forever. Left to chance it hit about one start in ten here, so
// this test makes it certain: a test-only sitecustomize (RACE_WIDENER) first on the path makes the master's fork
// wait until the reaper thread is importing encodings.ascii and keeps that import unfinished until the master
// has forked (without the stack's fix; with it the import never happens and nothing waits), then runs the next
// sitecustomize on the path (the stack's, when it is there) as Python would have. It changes nothing else.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IMAGES } from "../../components/catalog/images";
import {
  LITELLM_LOCAL_ONLY_ENV,
  LITELLM_MASTER_KEY_ENV,
  LITELLM_METRICS_DIR_ENV,
  liteLlmCommand,
  renderLiteLlmConfig,
} from "../../components/render/litellm";
import { freePort, pythonStacks, startProgram } from "../validators/exporters";
import {
  assertLiteLlmInstalled,
  egressTrapEnv,
  LITELLM_BIN,
  LITELLM_PY_SPY,
  LITELLM_VENV,
  liteLlmStartup,
  type StandIn,
  startStandIn,
} from "../validators/litellm";

/** The reaper thread's name at 1.110.2 (proxy/db/query_engine_reaper.py REAPER_THREAD_NAME). */
const REAPER_THREAD = "litellm-orphan-query-engine-reaper";

/** Test-only: holds the reaper thread's import of encodings.ascii until a fork, then chains to the next sitecustomize. */
const RACE_WIDENER = `
import importlib.machinery, importlib.util, os, sys, threading
_log = os.environ["RACE_LOG"]
def _say(line):
    with open(_log, "a", encoding="utf-8") as f:
        f.write(f"{os.getpid()} {line}\\n")
_forked = threading.Event()
_holding = threading.Event()
def _before_fork():
    # The fork waits until the reaper thread is inside the import, unless that import cannot happen any more.
    if "encodings.ascii" in sys.modules or not any(t.name == ${JSON.stringify(REAPER_THREAD)} for t in threading.enumerate()):
        return
    _say(f"the fork waited for the import: {_holding.wait(20)}")
os.register_at_fork(before=_before_fork, after_in_parent=_forked.set)
class _HoldUntilFork:
    def __init__(self, real):
        self.real = real
    def create_module(self, spec):
        return self.real.create_module(spec)
    def exec_module(self, module):
        _say("holds the import of encodings.ascii until a fork")
        _holding.set()
        _say(f"forked while held: {_forked.wait(30)}")
        self.real.exec_module(module)
class _Finder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        thread = threading.current_thread()
        if thread.name != ${JSON.stringify(REAPER_THREAD)}:
            return None
        _say(f"thread {thread.name} imports {name}")
        if name != "encodings.ascii":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None:
            spec.loader = _HoldUntilFork(spec.loader)
        return spec
sys.meta_path.insert(0, _Finder)
_here = os.path.dirname(os.path.abspath(__file__))
_next = importlib.machinery.PathFinder.find_spec("sitecustomize", [p for p in sys.path if os.path.abspath(p or ".") != _here])
if _next is not None:
    _say(f"runs {_next.origin}")
    _module = importlib.util.module_from_spec(_next)
    _next.loader.exec_module(_module)
`;

describe(`LiteLLM ${IMAGES.litellm.version}'s gunicorn worker and a fork during the reaper thread's import`, { timeout: 300_000 }, () => {
  let workDir = "";
  let backend: StandIn;
  let egress: StandIn;

  before(async () => {
    assertLiteLlmInstalled();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "litellm-fork-race-"));
    fs.mkdirSync(path.join(workDir, "widener"));
    fs.writeFileSync(path.join(workDir, "widener", "sitecustomize.py"), RACE_WIDENER);
    // Nothing here is sent a request at boot; they are there so that the configs name loopback addresses only.
    backend = await startStandIn(() => ({ status: 404, body: { error: "fake backend" } }));
    egress = await startStandIn(() => ({ status: 403, body: { error: "egress trap: nothing may leave 127.0.0.1" } }));
  });

  after(async () => {
    await Promise.all([backend, egress].filter((s) => s !== undefined).map((s) => s.close()));
    if (workDir !== "") fs.rmSync(workDir, { recursive: true, force: true });
  });

  /** The stack's rendered config: a node's models, and with `openai` an OpenAI-compatible backend too. */
  function config(name: string, openai: boolean): string {
    const file = path.join(workDir, `${name}.yaml`);
    fs.writeFileSync(
      file,
      renderLiteLlmConfig({
        ollamaApiBase: backend.url,
        localModels: [{ name: "qwen3:0.6b" }, { name: "nomic-embed-text", embedding: true }],
        cloudModels: [],
        fallbacks: {},
        database: false,
        ...(openai ? { backends: [{ name: "vllm", kind: "openai" as const, apiBase: `${backend.url}/v1`, models: [{ name: "qwen3:32b" }] }] } : {}),
      }),
    );
    return file;
  }

  /** Starts LiteLLM as the container does, the race widener first on the path; what it logged and the stacks if it hung. */
  async function start(name: string, configPath: string, startupEnv: Record<string, string>, timeoutMs: number) {
    const raceLog = path.join(workDir, `${name}.race.log`);
    fs.writeFileSync(raceLog, "");
    const port = await freePort();
    const metricsPort = await freePort();
    let stacks = "";
    let error: string | undefined;
    try {
      const proxy = await startProgram("litellm", LITELLM_BIN, [...liteLlmCommand({ configPath, port, metricsPort }), "--host", "127.0.0.1"], {
        readyUrl: `http://127.0.0.1:${port}/health/liveliness`,
        cwd: workDir,
        env: {
          PATH: `${path.join(LITELLM_VENV, "bin")}:/usr/bin:/bin`,
          HOME: workDir,
          ...LITELLM_LOCAL_ONLY_ENV,
          [LITELLM_MASTER_KEY_ENV]: `sk-test-${randomBytes(16).toString("hex")}`,
          [LITELLM_METRICS_DIR_ENV]: fs.mkdtempSync(path.join(workDir, "metrics-")),
          ...egressTrapEnv(egress),
          RACE_LOG: raceLog,
          PYTHONPATH: [path.join(workDir, "widener"), startupEnv.PYTHONPATH].filter((p) => p !== undefined).join(":"),
        },
        timeoutMs,
        diagnose: (pgid) => (stacks = pythonStacks(pgid, LITELLM_PY_SPY)),
      });
      await proxy.stop();
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    return { error, stacks, race: fs.readFileSync(raceLog, "utf8") };
  }

  it("without the stack's sitecustomize, the worker forked during that import never answers: it waits for the import's lock", async () => {
    const run = await start("unfixed", config("unfixed", true), {}, 45_000);
    assert.match(run.race, /forked while held: True/, `the fork did not happen during the import:\n${run.race}`);
    assert.notEqual(run.error, undefined, "LiteLLM answered although its worker was forked during the import");
    assert.match(run.error ?? "", /did not answer/, run.error);
    // The worker's main thread, where the hang was first seen: tzlocal's ascii file, waiting for the module lock.
    const worker = run.stacks.split("--- py-spy dump").find((dump) => /Booting|Worker\.init_process/.test(dump) && /_ModuleLock\.acquire/.test(dump));
    assert.ok(worker, `no process waits in _ModuleLock.acquire:\n${run.stacks}`);
    assert.match(worker, /_ModuleLock\.acquire[\s\S]*search_function \(encodings\/__init__\.py[\s\S]*get_localzone[\s\S]*Worker\.init_process/);
  });

  for (const [name, openai] of [
    ["a node's models", false],
    ["a node's models and an OpenAI-compatible backend", true],
  ] as const) {
    it(`with the stack's sitecustomize the worker answers, the reaper thread importing nothing (${name})`, async () => {
      const tag = openai ? "fixed-openai" : "fixed";
      const run = await start(tag, config(tag, openai), liteLlmStartup(path.join(workDir, tag)), 120_000);
      assert.match(run.race, /runs .*python-startup\/sitecustomize\.py/, `the race widener did not run the stack's sitecustomize:\n${run.race}`);
      assert.equal(run.error, undefined, `${run.error}\n${run.stacks}`);
      // The widener never held anything: the reaper thread imported no module at all.
      assert.doesNotMatch(run.race, /imports|holds|waited/, run.race);
    });
  }
});
