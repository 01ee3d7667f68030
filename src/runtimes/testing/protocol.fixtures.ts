// Test actions for the runtime protocol cases (protocol.cases.ts), one version per proxy kind where
// the case applies. Native actions are POSIX sh scripts so that they run in any sandbox image.
import { randomBytes } from 'node:crypto';
import { makeZip, type ZipEntryInput } from './archive-writer.js';

export type ProxyKind = 'nodejs' | 'python' | 'native';
export const KINDS: ProxyKind[] = ['nodejs', 'python', 'native'];

type PerKind = Record<ProxyKind, string>;

/** Prints hello on both streams and returns its arguments. */
export const ECHO: PerKind = {
  nodejs: `function main(args) {
  console.log('hello stdout');
  console.error('hello stderr');
  return args;
}
`,
  python: `import sys

def main(args):
    print('hello stdout')
    print('hello stderr', file=sys.stderr)
    return args
`,
  native: `#!/bin/sh
echo 'hello stdout'
echo 'hello stderr' >&2
printf '%s\\n' "$1"
`,
};

/** Returns its arguments without printing anything; reads them from stdin for native (any size). */
export const QUIET_ECHO: PerKind = {
  nodejs: 'function main(args) { return args; }\n',
  python: 'def main(args):\n    return args\n',
  native: '#!/bin/sh\nhead -n 1\n',
};

/** { delimiter } → { winter: "<d> ☃ <d>" }, also printed on stdout. */
export const UNICODE: PerKind = {
  nodejs: `function main({ delimiter }) {
  const text = delimiter + ' ☃ ' + delimiter;
  console.log(text);
  return { winter: text };
}
`,
  python: `def main(args):
    text = args['delimiter'] + ' ☃ ' + args['delimiter']
    print(text)
    return {'winter': text}
`,
  native: `#!/bin/sh
d=$(printf '%s' "$1" | sed 's/.*"delimiter":"\\([^"]*\\)".*/\\1/')
text="$d ☃ $d"
echo "$text"
printf '{"winter":"%s"}\\n' "$text"
`,
};

/** Returns the activation context read from the __OW_* environment variables. */
export const ENV_CONTEXT: PerKind = {
  nodejs: `function main() {
  const e = process.env;
  return {
    api_host: e.__OW_API_HOST, api_key: e.__OW_API_KEY, namespace: e.__OW_NAMESPACE,
    action_name: e.__OW_ACTION_NAME, action_version: e.__OW_ACTION_VERSION,
    activation_id: e.__OW_ACTIVATION_ID, deadline: e.__OW_DEADLINE,
  };
}
`,
  python: `import os

def main(args):
    keys = ['api_host', 'api_key', 'namespace', 'action_name', 'action_version', 'activation_id', 'deadline']
    return {k: os.environ.get('__OW_' + k.upper()) for k in keys}
`,
  native: `#!/bin/sh
printf '{"api_host":"%s","api_key":"%s","namespace":"%s","action_name":"%s","action_version":"%s","activation_id":"%s","deadline":"%s"}\\n' \\
  "$__OW_API_HOST" "$__OW_API_KEY" "$__OW_NAMESPACE" "$__OW_ACTION_NAME" "$__OW_ACTION_VERSION" "$__OW_ACTIVATION_ID" "$__OW_DEADLINE"
`,
};

export const INIT_ENV_NAMES = ['SOME_VAR', 'ANOTHER_VAR', 'ARRAY', 'OBJECT', 'NUMBER', 'BOOL', 'NULL'];

/** Captures init-time environment variables at load time (module top level) and returns them. */
export const INIT_ENV: PerKind = {
  nodejs: `const names = ${JSON.stringify(INIT_ENV_NAMES)};
const captured = Object.fromEntries(names.map((n) => [n, process.env[n]]));
function main() { return captured; }
`,
  python: `import os
captured = {n: os.environ.get(n) for n in ${JSON.stringify(INIT_ENV_NAMES)}}

def main(args):
    return captured
`,
  native: `#!/bin/sh
printf '{"SOME_VAR":"%s","ANOTHER_VAR":"%s","NUMBER":"%s","BOOL":"%s","NULL":"%s"}\\n' \\
  "$SOME_VAR" "$ANOTHER_VAR" "$NUMBER" "$BOOL" "$NULL"
`,
};

/** Returns a string instead of a dictionary. */
export const NOT_A_DICT: PerKind = {
  nodejs: "function main() { return 'not a json object'; }\n",
  python: "def main(args):\n    return 'not a json object'\n",
  native: '#!/bin/sh\necho not a json object\n',
};

export const NOT_A_DICT_ERROR: PerKind = {
  nodejs: 'The action did not return a dictionary.',
  python: 'The action did not return a dictionary or array.',
  native: 'The action did not return a dictionary.',
};

/** Returns a JSON array. */
export const ARRAY_RESULT: PerKind = {
  nodejs: "function main() { return ['a', 'b']; }\n",
  python: "def main(args):\n    return ['a', 'b']\n",
  native: `#!/bin/sh\necho '["a","b"]'\n`,
};

/** Says "started" on stderr, then takes two seconds to return its arguments. */
export const SLOW: PerKind = {
  nodejs: `function main(args) {
  console.error('started');
  return new Promise((resolve) => setTimeout(() => resolve(args), 2000));
}
`,
  python: `import sys, time

def main(args):
    print('started', file=sys.stderr, flush=True)
    time.sleep(2)
    return args
`,
  native: `#!/bin/sh
echo started >&2
sleep 2
printf '%s\\n' "$1"
`,
};

/** Overlapping runs: returns its arguments, the peak number of runs in flight, its activation id and API key. */
export const OVERLAPPING: PerKind = {
  nodejs: `let active = 0, peak = 0;
async function main(args) {
  active++;
  peak = Math.max(peak, active);
  await new Promise((resolve) => setTimeout(resolve, 300));
  active--;
  return { args, peak, id: process.env.__OW_ACTIVATION_ID, key: process.env.__OW_API_KEY };
}
`,
  python: `import threading, time
lock = threading.Lock()
state = {'active': 0, 'peak': 0}

def main(args):
    with lock:
        state['active'] += 1
        state['peak'] = max(state['peak'], state['active'])
    time.sleep(0.3)
    with lock:
        state['active'] -= 1
    return {'args': args, 'peak': state['peak']}
`,
  native: `#!/bin/sh
sleep 0.3
printf '{"args":%s,"id":"%s","key":"%s"}\\n' "$1" "$__OW_ACTIVATION_ID" "$__OW_API_KEY"
`,
};

/** Writes tagged-log probes: a line, then (after a pause) a partial line and a stderr line. */
export const LOG_PROBE: Pick<PerKind, 'nodejs' | 'native'> = {
  nodejs: `async function main({ n }) {
  console.log('out-' + n + '-a');
  await new Promise((resolve) => setTimeout(resolve, 20 + (n % 3) * 30));
  process.stdout.write('out-' + n + '-b');
  console.error('err-' + n);
  return { n };
}
`,
  native: `#!/bin/sh
n=$(printf '%s' "$1" | sed 's/[^0-9]//g')
echo "out-$n-a"
sleep 0.1
echo "err-$n" >&2
printf '%s\\n' "$1"
`,
};

/** A syntax error (for native: a zip without an executable, its way of being "bad code"). */
export const BAD_CODE: Pick<PerKind, 'nodejs' | 'python'> = {
  nodejs: '10 PRINT "Hello world!"\n20 GOTO 10\n',
  python: '10 PRINT "Hello world!"\n20 GOTO 10\n',
};

/** The smallest valid entry point of each kind inside an archive. */
export const ARCHIVE_ENTRY: Record<ProxyKind, ZipEntryInput> = {
  nodejs: { name: 'index.js', data: 'exports.main = (args) => ({ ok: true, args });\n' },
  python: { name: '__main__.py', data: "def main(args):\n    return {'ok': True, 'args': args}\n" },
  native: { name: 'exec', data: `#!/bin/sh\nprintf '{"ok":true,"args":%s}\\n' "$1"\n`, mode: 0o755 },
};

/** Reports whether an entry named "link" exists (it must not: links are never extracted). */
export const LINK_PROBE: Record<ProxyKind, ZipEntryInput> = {
  nodejs: {
    name: 'index.js',
    data: "const fs = require('fs');\nexports.main = () => ({ link: fs.existsSync('link') || fs.readdirSync('.').includes('link') });\n",
  },
  python: {
    name: '__main__.py',
    data: "import os\n\ndef main(args):\n    return {'link': os.path.lexists('link')}\n",
  },
  native: {
    name: 'exec',
    data: `#!/bin/sh\nif [ -e link ] || [ -L link ]; then echo '{"link":true}'; else echo '{"link":false}'; fi\n`,
    mode: 0o755,
  },
};

export function base64Zip(entries: ZipEntryInput[]): string {
  return makeZip(entries).toString('base64');
}

let bigBlob: Buffer | undefined;

/** 47 MB of incompressible bytes: with an entry point, a zip that is ~63 MB once base64-encoded. */
export function bigArchive(kind: ProxyKind): string {
  bigBlob ??= randomBytes(47 * 1024 * 1024);
  return base64Zip([ARCHIVE_ENTRY[kind], { name: 'blob.bin', data: bigBlob, method: 'store' }]);
}
