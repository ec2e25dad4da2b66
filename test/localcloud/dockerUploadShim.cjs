/*
 * Preloaded (NODE_OPTIONS=--require) into the program when the lifecycle scenarios run it on the offline engine
 * (../shared/pulumi-engine): that engine's pulumi-resource-docker is pulumi-docker v5.1.0 + 24 commits, whose
 * schema's ContainerUpload has no `owner` and `group` (checked with `pulumi package get-schema`: content,
 * contentBase64, executable, file, permissions, source, sourceHash), while @pulumi/docker 5.2.0, the version
 * package.json pins, sends them, so `up` fails with "Invalid or unknown key ... uploads". The released 5.2.0
 * plugin takes them. This drops the two keys (and only them) from every Container's uploads, and says so once.
 * Not a change of the program: a stand-in for the plugin the engine lacks. Set LOCALCLOUD_KEEP_UPLOAD_OWNER=1
 * to see the failure.
 */
const Module = require("node:module");
const originalLoad = Module._load;
let said = false;
const patched = new WeakMap();

function strip(args) {
  if (!args || !Array.isArray(args.uploads)) return args;
  const uploads = args.uploads.map((u) => {
    if (!u || typeof u !== "object" || !("owner" in u || "group" in u)) return u;
    if (!said) {
      said = true;
      process.stderr.write("localcloud shim: dropping owner/group of docker.Container uploads (the offline docker plugin lacks them)\n");
    }
    const { owner: _o, group: _g, ...rest } = u;
    return rest;
  });
  return { ...args, uploads };
}

Module._load = function load(request, parent, isMain) {
  const loaded = originalLoad.apply(this, arguments);
  if (request !== "@pulumi/docker" || process.env.LOCALCLOUD_KEEP_UPLOAD_OWNER === "1") return loaded;
  if (patched.has(loaded)) return patched.get(loaded);
  const Original = loaded.Container;
  class Container extends Original {
    constructor(name, args, opts) {
      super(name, strip(args), opts);
    }
  }
  const proxy = new Proxy(loaded, { get: (target, prop, receiver) => (prop === "Container" ? Container : Reflect.get(target, prop, receiver)) });
  patched.set(loaded, proxy);
  return proxy;
};
