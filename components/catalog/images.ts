/**
 * Every container image the platform runs, pinned by version. One place to read and to bump; the tests
 * check each renderer against the real program at these versions where it can be installed here.
 *
 * Versions checked 2026-11-27 against the public package registries that mirror each project's releases
 * (the Go module proxy for Ollama, Prometheus, Alertmanager, node-exporter and cAdvisor; PyPI for LiteLLM;
 * npm's @grafana packages for Grafana), and against each project's security advisories: the floors below.
 */

export interface ImagePin {
  /** Registry and repository, without tag. */
  repository: string;
  /** The release, as the project numbers it (no leading v). */
  version: string;
  /** The image tag for that release. */
  tag: string;
}

const pin = (repository: string, version: string, tag = version): ImagePin => ({ repository, version, tag });

export const IMAGES = {
  /** At or above 0.17.1 (CVE-2026-7482). */
  ollama: pin("docker.io/ollama/ollama", "0.17.4"),
  /**
   * At or above 1.83.7 (CVE-2026-42208, CVE-2026-42271); never 1.82.7 or 1.82.8 (trojanized). Releases from
   * 1.84 are tagged vX.Y.Z (the main-v prefix was the older scheme).
   */
  litellm: pin("ghcr.io/berriai/litellm", "1.110.2", "v1.110.2"),
  /** LiteLLM's database for virtual keys and spend. */
  postgres: pin("docker.io/library/postgres", "17.6", "17.6-bookworm"),
  /** qdrant-client on PyPI is released with each server minor; it stands at 1.20.0. */
  qdrant: pin("docker.io/qdrant/qdrant", "1.20.0", "v1.20.0"),
  prometheus: pin("docker.io/prom/prometheus", "3.16.0", "v3.16.0"),
  alertmanager: pin("docker.io/prom/alertmanager", "0.35.0", "v0.35.0"),
  blackboxExporter: pin("docker.io/prom/blackbox-exporter", "0.27.0", "v0.27.0"),
  grafana: pin("docker.io/grafana/grafana", "13.2.3"),
  nodeExporter: pin("docker.io/prom/node-exporter", "1.12.1", "v1.12.1"),
  /** Moved to GitHub's registry from v0.53.0. */
  cadvisor: pin("ghcr.io/google/cadvisor", "0.60.6", "v0.60.6"),
  /**
   * Not a service: the backups take the restic binary out of this image (render/backup.ts). The tests build
   * the same release from the Go module proxy (github.com/restic/restic v0.19.1, tagged 2026-07-05).
   */
  restic: pin("docker.io/restic/restic", "0.19.1"),
} as const satisfies Record<string, ImagePin>;

/** Coolify is installed by its own installer, which takes the version as its first argument. At or above 4.1.1 (CVE-2026-48742). */
export const COOLIFY_VERSION = "4.1.1";

export const imageRef = (image: ImagePin): string => `${image.repository}:${image.tag}`;
