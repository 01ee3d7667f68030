/**
 * Building an action's `exec` from what the user gave: the kind from `--kind`, `--docker`, `--native`,
 * the file extension (`.js` → nodejs:default, `.py` → python:default...) or the file being executable
 * (a native "blackbox" action); archives and binary files travel base64-encoded.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { UsageError } from './args.js';
import type { CodeExec } from './types.js';

/** The image `--native` stands for (Whirl runs it with its native proxy). */
export const SKELETON_IMAGE = 'openwhisk/dockerskeleton';

export const EXTENSION_KINDS: Readonly<Record<string, string>> = {
  '.js': 'nodejs:default',
  '.mjs': 'nodejs:default',
  '.cjs': 'nodejs:default',
  '.py': 'python:default',
  '.swift': 'swift:default',
  '.php': 'php:default',
  '.rb': 'ruby:default',
  '.go': 'go:default',
  '.rs': 'rust:default',
  '.jar': 'java:default',
};

/** Extensions whose content is always sent base64-encoded. */
const ARCHIVES = new Set(['.zip', '.jar', '.tgz', '.gz']);

export interface Artifact {
  path: string;
  content: Buffer;
  executable: boolean;
}

export function readArtifact(path: string): Artifact {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`cannot read the file '${path}': it does not exist`);
  }
  if (!st.isFile()) throw new UsageError(`'${path}' is not a file`);
  return { path, content: readFileSync(path), executable: (st.mode & 0o111) !== 0 };
}

/** True for content that is not UTF-8 text (NUL bytes or invalid sequences). */
export function isBinaryContent(content: Uint8Array): boolean {
  if (content.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(content);
    return false;
  } catch {
    return true;
  }
}

export interface ExecOptions {
  kind?: string | undefined;
  main?: string | undefined;
  docker?: string | undefined;
  native?: boolean | undefined;
}

/** What kind a file is, by the rules in the module comment; `undefined` when nothing tells. */
export function inferKind(
  path: string,
  executable: boolean,
  o: ExecOptions = {},
): { kind: string; image?: string } | undefined {
  if (o.docker !== undefined) return { kind: 'blackbox', image: o.docker };
  if (o.native === true) return { kind: 'blackbox', image: SKELETON_IMAGE };
  if (o.kind !== undefined) return { kind: o.kind };
  const ext = extname(path).toLowerCase();
  const byExt = EXTENSION_KINDS[ext];
  if (byExt !== undefined) return { kind: byExt };
  if (ext === '.zip') {
    throw new UsageError(
      `a .zip action needs --kind (for example --kind nodejs:default or --kind python:default), or --native`,
    );
  }
  if (executable) return { kind: 'blackbox', image: SKELETON_IMAGE };
  return undefined;
}

/** The code as sent: text as is; archives and binaries base64. */
export function encodeCode(a: Artifact): { code: string; binary: boolean } {
  const binary = ARCHIVES.has(extname(a.path).toLowerCase()) || isBinaryContent(a.content);
  return binary
    ? { code: a.content.toString('base64'), binary }
    : { code: a.content.toString('utf8'), binary };
}

/** The `exec` of an action created from an artifact (or an image alone with `--docker`). */
export function buildExec(artifact: Artifact | undefined, o: ExecOptions): CodeExec {
  if (artifact === undefined) {
    if (o.docker === undefined) throw new UsageError('an ARTIFACT (a file with the code) is needed');
    return { kind: 'blackbox', image: o.docker, ...(o.main === undefined ? {} : { main: o.main }) };
  }
  const inferred = inferKind(artifact.path, artifact.executable, o);
  if (inferred === undefined) {
    throw new UsageError(
      `cannot tell the kind of '${basename(artifact.path)}' from its extension: use --kind KIND ` +
        `(for example nodejs:default or python:default), or --native for an executable`,
    );
  }
  const { code, binary } = encodeCode(artifact);
  return {
    kind: inferred.kind,
    ...(inferred.image === undefined ? {} : { image: inferred.image }),
    code,
    binary,
    ...(o.main === undefined ? {} : { main: o.main }),
  };
}

/** File extension for `action get --save`, by kind and, for binary code, by its first bytes. */
export function codeExtension(kind: string, content: Buffer, binary: boolean): string {
  const family = kind.split(':')[0]!;
  if (binary) {
    if (content.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])))
      return family === 'java' ? '.jar' : '.zip';
    if (content[0] === 0x1f && content[1] === 0x8b) return '.tgz';
    return '';
  }
  const ext = Object.entries(EXTENSION_KINDS).find(([, k]) => k.split(':')[0] === family)?.[0];
  return ext ?? '';
}
