// Build: compile TypeScript to dist/ and copy the non-TypeScript assets (Python runtime, shell helpers)
// and the npm packages the Node.js runtime ships to actions next to the compiled code, so that dist/ is
// self-contained. dist/ is not wiped first, so that running
// servers and tests keep their files during a rebuild; CI builds from a clean checkout.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyRuntimePackages } from './runtime-packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  console.error('TypeScript is not installed: run `npm install` first.');
  process.exit(1);
}
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });

const assets = new Set(['.py', '.sh', '.json']);
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const src = join(dir, name);
    if (statSync(src).isDirectory()) copyAssets(src);
    else if (assets.has(extname(name)))
      cpSync(src, src.replace(join(root, 'src'), join(root, 'dist')), { preserveTimestamps: true });
  }
}
copyAssets(join(root, 'src'));

// `require('openwhisk')` works in a Node.js action, as in OpenWhisk's runtime (an action's own node_modules
// still come first: NODE_PATH is Node's last resort).
copyRuntimePackages(root, ['openwhisk'], join(root, 'dist', 'runtimes', 'nodejs', 'node_modules'));
