/**
 * Runtime images: one per runtime family, named by the runtimes manifest (`whirl/nodejs20`,
 * `whirl/python3`, `whirl/native`), built from the Dockerfiles in docker/runtimes/ with Whirl's compiled
 * proxies (dist/runtimes) as the context.
 *
 * Two bases:
 * - `official`: the Dockerfiles' own FROM (node:20-bookworm-slim, python:3.11-slim-bookworm), pulled from
 *   a registry;
 * - `host` (offline): `whirl/runtime-base:host`, a root filesystem assembled from this host's node and
 *   python (rootfs.ts) and imported — no registry needed.
 * Images carry a hash of what they were built from (Dockerfile, proxies, base), so a Whirl whose proxies
 * changed notices stale images.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIMES, type RuntimeFamily } from '../../core/runtimes.js';
import { DockerError, type DockerEngine } from './engine.js';
import { hostRootfs, hostRuntimes, type HostRuntimes } from './rootfs.js';
import { tarStream, type TarEntry } from './tar.js';

export type ImageBase = 'host' | 'official';

export const HOST_BASE_IMAGE = 'whirl/runtime-base:host';
const LABEL_HASH = 'whirl.runtimes.hash';
const LABEL_BASE = 'whirl.base';
const LABEL_FINGERPRINT = 'whirl.base.fingerprint';
/** Bump when rootfs.ts changes what goes into the host base. */
const ROOTFS_FORMAT = '1';

export interface RuntimeImage {
  kind: string;
  family: RuntimeFamily;
  /** Repository and tag, e.g. `whirl/nodejs20:latest`. */
  image: string;
  dockerfile: string;
}

const DOCKERFILES_DIR = fileURLToPath(new URL('../../../docker/runtimes/', import.meta.url));

/** The compiled proxies: dist/runtimes (this module runs from dist/ or, in tests, from src/). */
export function defaultRuntimesDir(): string {
  const beside = fileURLToPath(new URL('../../runtimes', import.meta.url));
  if (existsSync(join(beside, 'nodejs', 'main.js'))) return beside;
  return fileURLToPath(new URL('../../../dist/runtimes', import.meta.url));
}

const withTag = (image: string) => (/:[^/]+$/.test(image) ? image : `${image}:latest`);

/** One image per family: the manifest's default kind of that family names it. */
export function runtimeImages(): RuntimeImage[] {
  const out: RuntimeImage[] = [];
  for (const r of RUNTIMES) {
    if (out.some((i) => i.family === r.family)) continue;
    const base = r.image.split('/').pop()!.split(':')[0]!;
    out.push({
      kind: r.kind,
      family: r.family,
      image: withTag(r.image),
      dockerfile: join(DOCKERFILES_DIR, `${base}.Dockerfile`),
    });
  }
  return out;
}

export function imageForFamily(family: RuntimeFamily): string {
  const i = runtimeImages().find((x) => x.family === family);
  if (i === undefined) throw new Error(`no runtime image for family ${family}`);
  return i.image;
}

/**
 * The proxies' files, relative to the runtimes directory (compiled JavaScript and Python, no tests), and
 * every file of the npm packages a runtime ships (its node_modules).
 */
function contextFiles(runtimesDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, shipped: boolean) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (shipped || name !== 'testing') walk(p, shipped || name === 'node_modules');
      } else if (
        shipped ||
        (/\.(js|py|json)$/.test(name) && !(dir === runtimesDir && name.startsWith('protocol.')))
      ) {
        // (The top level's protocol.*.js are the shared test cases, not part of any proxy.)
        out.push(relative(runtimesDir, p));
      }
    }
  };
  walk(runtimesDir, false);
  return out;
}

interface ImageInspect {
  Id: string;
  Config?: { Labels?: Record<string, string> | null; WorkingDir?: string; User?: string };
}

async function inspect(engine: DockerEngine, image: string): Promise<ImageInspect | undefined> {
  try {
    return await engine.json<ImageInspect>('GET', `/images/${encodeURIComponent(image)}/json`);
  } catch (err) {
    if (err instanceof DockerError && err.status === 404) return undefined;
    throw err;
  }
}

function hostFingerprint(rt: HostRuntimes): string {
  return createHash('sha256')
    .update(JSON.stringify([ROOTFS_FORMAT, rt.node, rt.nodeVersion, rt.python, rt.pythonVersion]))
    .digest('hex')
    .slice(0, 16);
}

/** What an image built now would be built from: its hash label. */
function buildHash(img: RuntimeImage, runtimesDir: string, baseId: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(img.dockerfile));
  for (const f of contextFiles(runtimesDir)) h.update(f).update(readFileSync(join(runtimesDir, f)));
  h.update(baseId);
  return h.digest('hex').slice(0, 16);
}

export type ImageState = 'ready' | 'missing' | 'stale';

export interface ImageStatus extends RuntimeImage {
  state: ImageState;
  base?: ImageBase;
}

/** Whether each runtime image exists and matches the proxies this Whirl ships. */
export async function runtimeImageStatus(
  engine: DockerEngine,
  runtimesDir = defaultRuntimesDir(),
): Promise<ImageStatus[]> {
  const hostBase = await inspect(engine, HOST_BASE_IMAGE);
  // A base assembled from another node or python than this host's now is as good as none.
  const hostBaseId =
    hostBase?.Config?.Labels?.[LABEL_FINGERPRINT] === hostFingerprint(hostRuntimes())
      ? hostBase.Id
      : 'outdated';
  const out: ImageStatus[] = [];
  for (const img of runtimeImages()) {
    const info = await inspect(engine, img.image);
    const labels = info?.Config?.Labels ?? {};
    const base =
      labels[LABEL_BASE] === 'host' ? 'host' : labels[LABEL_BASE] === 'official' ? 'official' : undefined;
    let state: ImageState = 'missing';
    if (info !== undefined) {
      const baseId = base === 'host' ? hostBaseId : 'official';
      state = labels[LABEL_HASH] === buildHash(img, runtimesDir, baseId) ? 'ready' : 'stale';
    }
    out.push({ ...img, state, ...(base === undefined ? {} : { base }) });
  }
  return out;
}

export interface BuildOptions {
  base: ImageBase;
  /** Kinds to build (default: all). */
  kinds?: string[];
  /** Rebuild the host base even if it matches this host. */
  rebuildBase?: boolean;
  runtimesDir?: string;
  log?: (line: string) => void;
}

export interface BuiltImage {
  kind: string;
  image: string;
  id: string;
  ms: number;
}

/** Imports `whirl/runtime-base:host` from this host's runtimes unless an identical one exists. */
async function ensureHostBase(
  engine: DockerEngine,
  log: (line: string) => void,
  rebuild: boolean,
): Promise<{ id: string; runtimes: HostRuntimes }> {
  const rt = hostRuntimes();
  const fingerprint = hostFingerprint(rt);
  const existing = await inspect(engine, HOST_BASE_IMAGE);
  if (!rebuild && existing?.Config?.Labels?.[LABEL_FINGERPRINT] === fingerprint) {
    return { id: existing.Id, runtimes: rt };
  }
  const started = Date.now();
  const { entries, notes } = hostRootfs(rt);
  notes.forEach(log);
  const [repo, tag] = HOST_BASE_IMAGE.split(':') as [string, string];
  await engine.progress('POST', '/images/create', {
    query: {
      fromSrc: '-',
      repo,
      tag,
      changes: [
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'ENV LANG=C.UTF-8',
        `LABEL ${LABEL_BASE}=host ${LABEL_FINGERPRINT}=${fingerprint}`,
        'CMD ["/bin/sh"]',
      ],
    },
    upload: tarStream(entries),
    timeoutMs: 10 * 60_000,
  });
  const created = await inspect(engine, HOST_BASE_IMAGE);
  if (created === undefined) throw new Error(`importing ${HOST_BASE_IMAGE} did not create it`);
  if (existing !== undefined && existing.Id !== created.Id) await removeQuietly(engine, existing.Id);
  log(
    `${HOST_BASE_IMAGE}: node ${rt.nodeVersion}${rt.pythonVersion ? `, python ${rt.pythonVersion}` : ''} from this host (${Date.now() - started} ms)`,
  );
  return { id: created.Id, runtimes: rt };
}

/** Removes a replaced image; one still used by a container or another tag stays. */
async function removeQuietly(engine: DockerEngine, id: string): Promise<void> {
  try {
    await engine.call('DELETE', `/images/${id}`, { query: { noprune: false } });
  } catch {
    // in use: Docker keeps it, and so do we
  }
}

/** Builds the runtime images (all, or those of `kinds`) and tags them as the manifest names them. */
export async function buildRuntimeImages(engine: DockerEngine, o: BuildOptions): Promise<BuiltImage[]> {
  const log = o.log ?? (() => undefined);
  const runtimesDir = o.runtimesDir ?? defaultRuntimesDir();
  if (!existsSync(join(runtimesDir, 'nodejs', 'main.js'))) {
    throw new Error(
      `the compiled runtime proxies are missing in ${runtimesDir}: run \`npm run build\` first`,
    );
  }
  let wanted = runtimeImages();
  if (o.kinds !== undefined) {
    const unknown = o.kinds.filter((k) => !wanted.some((i) => i.kind === k));
    if (unknown.length > 0) {
      throw new Error(`unknown kind ${unknown.join(', ')}; known: ${wanted.map((i) => i.kind).join(', ')}`);
    }
    wanted = wanted.filter((i) => o.kinds!.includes(i.kind));
  }
  let baseId = 'official';
  let buildargs: Record<string, string> = {};
  if (o.base === 'host') {
    const base = await ensureHostBase(engine, log, o.rebuildBase === true);
    baseId = base.id;
    buildargs = { BASE: HOST_BASE_IMAGE };
    if (base.runtimes.python === undefined) {
      const skipped = wanted.filter((i) => i.family === 'python');
      skipped.forEach((i) => log(`${i.image}: skipped (this host has no python3)`));
      wanted = wanted.filter((i) => i.family !== 'python');
    }
  }
  const files = contextFiles(runtimesDir);
  const built: BuiltImage[] = [];
  for (const img of wanted) {
    const started = Date.now();
    const previous = await inspect(engine, img.image);
    const entries: TarEntry[] = [
      { type: 'file', name: 'Dockerfile', data: readFileSync(img.dockerfile) },
      ...files.map((f) => ({
        type: 'file' as const,
        name: `runtimes/${f}`,
        data: readFileSync(join(runtimesDir, f)),
      })),
    ];
    await engine.progress(
      'POST',
      '/build',
      {
        query: {
          t: img.image,
          dockerfile: 'Dockerfile',
          buildargs: JSON.stringify(buildargs),
          labels: JSON.stringify({
            [LABEL_HASH]: buildHash(img, runtimesDir, baseId),
            [LABEL_BASE]: o.base,
            'whirl.kind': img.kind,
          }),
          rm: true,
          forcerm: true,
        },
        upload: tarStream(entries),
        timeoutMs: 30 * 60_000,
      },
      (line) => {
        if (line.stream !== undefined && /^Step \d+/.test(line.stream))
          log(`${img.image}: ${line.stream.trim()}`);
      },
    );
    const now = await inspect(engine, img.image);
    if (now === undefined) throw new Error(`building ${img.image} did not create it`);
    if (previous !== undefined && previous.Id !== now.Id) await removeQuietly(engine, previous.Id);
    built.push({ kind: img.kind, image: img.image, id: now.Id, ms: Date.now() - started });
    log(`${img.image}: built for ${img.kind} on the ${o.base} base (${Date.now() - started} ms)`);
  }
  return built;
}

/**
 * Makes the runtime images usable: missing ones, and stale ones built on the host base, are (re)built
 * from this host (offline, a few seconds); stale ones built on official bases are reported, not replaced.
 * Returns notes for the isolation report.
 */
export async function ensureRuntimeImages(
  engine: DockerEngine,
  log: (line: string) => void,
  runtimesDir = defaultRuntimesDir(),
): Promise<string[]> {
  const notes: string[] = [];
  const status = await runtimeImageStatus(engine, runtimesDir);
  const rebuild = status.filter(
    (s) => s.state === 'missing' || (s.state === 'stale' && s.base !== 'official'),
  );
  for (const s of status) {
    if (s.state === 'stale' && s.base === 'official') {
      notes.push(
        `${s.image} was built from other runtime proxies: run \`whirl runtimes build --base official\``,
      );
    }
  }
  if (rebuild.length > 0) {
    log(`building runtime images from this host: ${rebuild.map((s) => s.image).join(', ')}`);
    await buildRuntimeImages(engine, { base: 'host', kinds: rebuild.map((s) => s.kind), runtimesDir, log });
  }
  return notes;
}
