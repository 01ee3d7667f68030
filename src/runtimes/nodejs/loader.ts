// Loading a Node.js action's code and finding its entry point, as the OpenWhisk Node.js runtime does.
//
// Plain code is compiled as a CommonJS module body (so line numbers in stack traces match the
// source) and `main` may be a top-level function or variable, a global, or an export. Binary code is
// a base64 zip or tar.gz unpacked into a fresh directory, which becomes the working directory; `main`
// is then "fn" (looked up on the package's main module) or "file.fn" (on file.js).
import { createRequire } from 'node:module';
import { compileFunction, constants as vmConstants } from 'node:vm';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArchiveError, archiveKind, extractArchive } from '../common/archive.js';

export type ActionMain = (args: unknown) => unknown;

/** An init failure whose message says it all (no stack trace wanted in the error string). */
export class InitError extends Error {}

export interface InitMessage {
  main: string;
  code: string;
  binary: boolean;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Walks "a.b.c" from obj; undefined as soon as a step is missing. */
function lookup(obj: unknown, path: string[]): unknown {
  let value = obj;
  for (const key of path) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function assertFunction(value: unknown, name: string): ActionMain {
  if (typeof value !== 'function') throw new InitError(`Action entrypoint '${name}' is not a function.`);
  return value as ActionMain;
}

/**
 * Compiles plain code with the CommonJS wrapper parameters. To reach a top-level `function main` or
 * `let main` (local to the wrapper), a `return` of the entry point's first name is appended; `typeof`
 * keeps that harmless when the name is not declared at all.
 */
function loadPlain(code: string, main: string, dir: string): ActionMain {
  const filename = join(dir, 'action.js');
  const require = createRequire(filename);
  const module = {
    exports: {} as unknown,
    filename,
    id: '.',
    loaded: false,
    children: [],
    path: dir,
    require,
  };
  const exportsObject = module.exports;
  const path = main.split('.');
  const root = path[0]!;
  const tail = IDENTIFIER.test(root) ? `\n;return typeof ${root} === 'undefined' ? undefined : ${root};` : '';
  const wrapper = compileFunction(code + tail, ['exports', 'require', 'module', '__filename', '__dirname'], {
    filename,
    // Lets plain code use import() of Node built-ins (needs a Node 20 release that has the constant).
    importModuleDynamically: (vmConstants as typeof vmConstants | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const found: unknown = wrapper.call(exportsObject, exportsObject, require, module, filename, dir);
  module.loaded = true;
  const candidates = [
    found === undefined ? undefined : lookup(found, path.slice(1)),
    lookup(module.exports, path),
    lookup(exportsObject, path),
  ];
  return assertFunction(
    candidates.find((c) => c !== undefined),
    main,
  );
}

/** "fn" → [undefined, ["fn"]]; "file.fn.x" → ["file", ["fn", "x"]]. */
function splitMain(main: string): [string | undefined, string[]] {
  const dot = main.indexOf('.');
  if (dot <= 0 || dot === main.length - 1) return [undefined, [main]];
  return [main.slice(0, dot), main.slice(dot + 1).split('.')];
}

/** require() first (CommonJS, what OpenWhisk does); fall back to import() for ES module packages. */
async function loadModule(target: string, dir: string): Promise<unknown> {
  const require = createRequire(join(dir, 'index.js'));
  try {
    return require(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw err;
    return (await import(pathToFileURL(require.resolve(target)).href)) as unknown;
  }
}

async function loadArchive(code: string, main: string, tmpDir: string): Promise<ActionMain> {
  const data = Buffer.from(code, 'base64');
  if (!archiveKind(data)) {
    throw new InitError(
      'There was an error uncompressing the action archive: it is neither a zip nor a tar.gz.',
    );
  }
  const dir = await mkdtemp(join(tmpDir, 'action-'));
  try {
    await extractArchive(data, dir);
  } catch (err) {
    const detail = err instanceof ArchiveError ? err.message : String(err);
    throw new InitError(`There was an error uncompressing the action archive: ${detail}.`);
  }
  const [file, path] = splitMain(main);
  // Actions read files relative to their own directory.
  process.chdir(dir);
  if (file === undefined && !existsSync(join(dir, 'package.json')) && !existsSync(join(dir, 'index.js'))) {
    throw new InitError('Zipped actions must contain either package.json or index.js at the root.');
  }
  const exported = await loadModule(file === undefined ? dir : join(dir, file), dir);
  return assertFunction(lookup(exported, path), main);
}

/** Loads the action and returns its entry point; throws (InitError or the action's own error) on failure. */
export async function loadAction(message: InitMessage, tmpDir: string): Promise<ActionMain> {
  return message.binary
    ? loadArchive(message.code, message.main, tmpDir)
    : loadPlain(message.code, message.main, tmpDir);
}
