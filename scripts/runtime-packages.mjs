// The npm packages a runtime ships to its actions, as OpenWhisk's Node.js runtime ships `openwhisk`: each
// is copied from the project's node_modules, with every package it needs at run time, into the runtime's
// own node_modules (dist/runtimes/nodejs/node_modules), keeping npm's layout so that each package resolves
// its dependencies to the same copies it does here. The sandboxes point NODE_PATH at that directory.
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** Where Node would find package `name` when required from `fromDir`: node_modules of it or a parent. */
function locate(name, fromDir, root) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === dirname(dir)) {
      throw new Error(
        `${name} (needed from ${relative(root, fromDir) || '.'}) is not installed: run npm install`,
      );
    }
  }
}

/** The directories of `names` and of everything they depend on at run time (dev dependencies excluded). */
function closure(names, root) {
  const found = new Set();
  const visit = (name, fromDir) => {
    const dir = locate(name, fromDir, root);
    if (found.has(dir)) return;
    found.add(dir);
    const pkg = readJson(join(dir, 'package.json'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      try {
        visit(dep, dir);
      } catch (err) {
        if (!(dep in (pkg.optionalDependencies ?? {}))) throw err;
      }
    }
  };
  names.forEach((name) => visit(name, root));
  return [...found].sort();
}

/**
 * Replaces `dest` with copies of the packages `names` (each must be an exact-version dependency in
 * package.json, so the runtime ships what was tested) and their dependency closure.
 */
export function copyRuntimePackages(root, names, dest) {
  const pins = readJson(join(root, 'package.json')).dependencies ?? {};
  for (const name of names) {
    const installed = readJson(join(locate(name, root, root), 'package.json')).version;
    if (pins[name] !== installed) {
      throw new Error(`${name}: package.json must pin the installed version exactly ("${installed}")`);
    }
  }
  const modules = join(root, 'node_modules');
  rmSync(dest, { recursive: true, force: true });
  for (const dir of closure(names, root)) {
    // Nested node_modules hold other packages: each is copied on its own if the closure needs it.
    const nested = join(dir, 'node_modules');
    cpSync(dir, join(dest, relative(modules, dir)), {
      recursive: true,
      dereference: true,
      preserveTimestamps: true,
      filter: (src) => src !== nested && !src.startsWith(nested + sep),
    });
  }
}
