/**
 * The local cloud's reading of a node's boot order (./bootOrder.ts) from real rendered user data: whether
 * docker.service waits for the data volume's mount, which decides how the fake node restarts after a reboot.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { DOCKER_AFTER_DATA_VOLUME_DROPIN_PATH, renderCloudInit, type BootstrapSpec } from "../../components/render/cloudInit";
import { mountUnitName, readBootOrder } from "./bootOrder";

const spec: BootstrapSpec = {
  hostname: "ai-dev-inference",
  tailscaleAuthKey: "fake-tailscale-auth-key-boot-order-0123456789",
  tailscaleTags: ["tag:ai-dev-inference"],
  swapGiB: 0,
  dockerAddressPool: "172.30.0.0/16",
  dataMountPoint: "/srv/data",
};

/** The same user data with the data-volume drop-in's content replaced (or the drop-in removed, for undefined). */
function withDropIn(content: string | undefined): string {
  const doc = parse(renderCloudInit(spec), { version: "1.1" }) as { write_files: { path: string; content: string }[] };
  doc.write_files = doc.write_files.flatMap((f) => (f.path !== DOCKER_AFTER_DATA_VOLUME_DROPIN_PATH ? [f] : content === undefined ? [] : [{ ...f, content }]));
  return "#cloud-config\n" + stringify(doc);
}

describe("readBootOrder", () => {
  it("finds that the rendered user data makes docker.service wait for the data mount", () => {
    const order = readBootOrder(renderCloudInit(spec));
    assert.equal(order.dataMountPoint, "/srv/data");
    assert.equal(order.dockerWaitsForDataMount, true);
    assert.match(order.because ?? "", /RequiresMountsFor=\/srv\/data$/);
  });

  it("finds that Docker does not wait without that drop-in (the fstab entry's nofail orders nothing)", () => {
    assert.equal(readBootOrder(withDropIn(undefined)).dockerWaitsForDataMount, false);
  });

  it("reads RequiresMountsFor= of a path below the mount point, and After= of the mount unit, as a wait", () => {
    assert.equal(readBootOrder(withDropIn("[Unit]\nRequiresMountsFor=/srv/data/qdrant\n")).dockerWaitsForDataMount, true);
    assert.equal(readBootOrder(withDropIn("[Unit]\nAfter=srv-data.mount\n")).dockerWaitsForDataMount, true);
  });

  it("does not read a parent path, another unit or another section as a wait", () => {
    for (const content of ["[Unit]\nRequiresMountsFor=/srv\n", "[Unit]\nAfter=srv.mount\n", "[Service]\nRequiresMountsFor=/srv/data\n", "[Unit]\nRequiresMountsFor=/srv/database\n"]) {
      assert.equal(readBootOrder(withDropIn(content)).dockerWaitsForDataMount, false, content);
    }
  });

  it("names mount units as systemd-escape --path does", () => {
    assert.equal(mountUnitName("/srv/data"), "srv-data.mount");
    assert.equal(mountUnitName("/"), "-.mount");
    assert.equal(mountUnitName("/srv/my-data"), "srv-my\\x2ddata.mount");
  });
});
