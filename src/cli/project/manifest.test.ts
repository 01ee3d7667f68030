import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan } from './build.js';
import { normaliseRuntime, parseProject } from './manifest.js';
import { projectHash } from './managed.js';
import type { ProjectSpec } from './model.js';
import { ManifestError } from './source.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'whirl-manifest-'));
  mkdirSync(join(dir, 'src', 'folder'), { recursive: true });
  writeFileSync(join(dir, 'src', 'hello.js'), 'function main(p) { return p; }');
  writeFileSync(join(dir, 'src', 'hello.py'), 'def main(p):\n  return p\n');
  writeFileSync(
    join(dir, 'src', 'bundle.zip'),
    Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]),
  );
  writeFileSync(join(dir, 'src', 'folder', 'package.json'), '{"main":"index.js"}');
  writeFileSync(join(dir, 'src', 'folder', 'index.js'), 'exports.main = () => ({})');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parse(
  manifest: string,
  o: { deployment?: string; env?: Record<string, string>; name?: string } = {},
) {
  return parseProject({
    manifest: { file: join(dir, 'manifest.yaml'), text: manifest },
    deployment:
      o.deployment === undefined ? undefined : { file: join(dir, 'deployment.yaml'), text: o.deployment },
    env: o.env ?? {},
    projectName: o.name,
  });
}

/** The problems a bad manifest is refused with. */
function problems(manifest: string, o: Parameters<typeof parse>[1] = {}): string[] {
  try {
    parse(manifest, o);
  } catch (err) {
    if (err instanceof ManifestError) return [...err.problems];
    throw err;
  }
  throw new Error('the manifest was accepted');
}

const kv = (list: { key: string; value: unknown }[]) => Object.fromEntries(list.map((x) => [x.key, x.value]));

const FULL = `
project:
  name: demo
  packages:
    demo:
      inputs:
        region: eu
      annotations:
        owner: team
      actions:
        hello:
          function: src/hello.js
          main: greet
          inputs:
            name: string
            count: integer
            greeting: $GREETING
            url: http://\${HOST}:8080/x
            port:
              type: integer
              value: $PORT
            plain:
              type: string
              description: no value
          limits:
            timeout: 5000
            memorySize: 128
            logSize: 5
            concurrentActivations: 2
          web: true
        py:
          function: src/hello.py
          runtime: python@3
          web-export: raw
        zipped:
          function: src/bundle.zip
          runtime: nodejs:20
        dir:
          function: src/folder
      sequences:
        both:
          actions: hello, py, /whisk.system/utils/echo
          web: yes
      triggers:
        tick:
          feed: /whisk.system/alarms/alarm
          inputs:
            cron: "*/5 * * * * *"
        plain:
          inputs:
            source: manifest
      rules:
        on-tick:
          trigger: tick
          action: hello
      apis:
        greetings:
          library:
            books/{id}:
              hello:
                method: get
                response: http
      dependencies:
        myutils:
          location: /whisk.system/utils
          inputs:
            x: 1
    default:
      actions:
        top:
          function: src/hello.js
`;

describe('parseProject', () => {
  let spec: ProjectSpec;
  beforeAll(() => {
    spec = parse(FULL, { env: { GREETING: 'hi', HOST: 'example.org', PORT: '8081' } });
  });

  it('reads the project name, packages and their inputs and annotations', () => {
    expect(spec.name).toBe('demo');
    expect(spec.packages.map((p) => p.name)).toEqual(['demo']);
    expect(kv(spec.packages[0]!.parameters)).toEqual({ region: 'eu' });
    expect(kv(spec.packages[0]!.annotations)).toEqual({ owner: 'team' });
  });

  it('resolves inputs: type names to defaults, $VAR and ${VAR} from the environment, typed multi-line values', () => {
    const hello = spec.actions.find((a) => a.name === 'demo/hello')!;
    expect(kv(hello.parameters)).toEqual({
      name: '',
      count: 0,
      greeting: 'hi',
      url: 'http://example.org:8080/x',
      port: 8081,
      plain: '',
    });
  });

  it('maps limits, main and web flags as wskdeploy does', () => {
    const hello = spec.actions.find((a) => a.name === 'demo/hello')!;
    expect(hello.limits).toEqual({ timeout: 5000, memory: 128, logs: 5, concurrency: 2 });
    expect(hello.main).toBe('greet');
    expect(hello.kind).toBe('nodejs:default');
    expect(kv(hello.annotations)).toEqual({ 'web-export': true, 'raw-http': false, final: true });
    const py = spec.actions.find((a) => a.name === 'demo/py')!;
    expect(py.kind).toBe('python:3');
    expect(kv(py.annotations)).toEqual({ 'web-export': true, 'raw-http': true, final: true });
  });

  it('takes zips and folders as code, a folder with package.json being a Node.js action', () => {
    const zipped = spec.actions.find((a) => a.name === 'demo/zipped')!;
    expect(zipped.code).toEqual({ from: 'file', path: join(dir, 'src', 'bundle.zip') });
    const folder = spec.actions.find((a) => a.name === 'demo/dir')!;
    expect(folder.code).toEqual({ from: 'directory', path: join(dir, 'src', 'folder') });
    expect(folder.kind).toBe('nodejs:default');
  });

  it('puts actions of the default package at the namespace root', () => {
    expect(spec.actions.map((a) => a.name)).toContain('top');
    expect(spec.packages.map((p) => p.name)).not.toContain('default');
  });

  it('qualifies sequence components, rule actions and API actions by their package', () => {
    expect(spec.sequences[0]).toMatchObject({
      name: 'demo/both',
      components: ['demo/hello', 'demo/py', '/whisk.system/utils/echo'],
    });
    expect(spec.rules[0]).toMatchObject({ name: 'on-tick', trigger: 'tick', action: 'demo/hello' });
    expect(spec.routes[0]).toMatchObject({
      apiName: 'greetings',
      basePath: '/library',
      path: '/books/{id}',
      method: 'GET',
      action: 'demo/hello',
      responseType: 'http',
    });
  });

  it('reads triggers with feeds and dependencies as bindings', () => {
    expect(spec.triggers[0]).toMatchObject({ name: 'tick', feed: '/whisk.system/alarms/alarm' });
    expect(kv(spec.triggers[0]!.parameters)).toEqual({ cron: '*/5 * * * * *' });
    expect(spec.bindings[0]).toMatchObject({
      name: 'myutils',
      target: { namespace: 'whisk.system', name: 'utils' },
    });
  });

  it('warns about unset variables and uses the empty string (or the type default)', () => {
    const s = parse(FULL, { env: {} });
    const hello = s.actions.find((a) => a.name === 'demo/hello')!;
    expect(kv(hello.parameters)).toMatchObject({ greeting: '', url: 'http://:8080/x', port: 0 });
    expect(
      s.warnings.some((w) => /\$GREETING is not set/.test(w) && /actions\.hello\.inputs\.greeting/.test(w)),
    ).toBe(true);
  });

  it('lets a deployment file override inputs of packages, actions and triggers', () => {
    const s = parse(FULL, {
      env: { PORT: '1' },
      deployment: `
project:
  name: demo
  packages:
    demo:
      inputs:
        region: us
      actions:
        hello:
          inputs:
            name: Ann
            extra: $PORT
      triggers:
        plain:
          inputs:
            source: deployment
`,
    });
    expect(kv(s.packages[0]!.parameters)).toEqual({ region: 'us' });
    expect(kv(s.actions.find((a) => a.name === 'demo/hello')!.parameters)).toMatchObject({
      name: 'Ann',
      extra: '1',
    });
    expect(kv(s.triggers.find((t) => t.name === 'plain')!.parameters)).toEqual({ source: 'deployment' });
  });

  it('accepts top-level packages and a project name given on the command line', () => {
    const s = parse(`packages:\n  p:\n    actions:\n      a:\n        function: src/hello.js\n`, {
      name: 'cli',
    });
    expect(s.name).toBe('cli');
    expect(s.actions[0]!.name).toBe('p/a');
  });

  it('normalises runtime names', () => {
    expect(normaliseRuntime('nodejs@20')).toBe('nodejs:20');
    expect(normaliseRuntime('python')).toBe('python:default');
    expect(normaliseRuntime('language:default')).toBeUndefined();
  });
});

describe('bad manifests', () => {
  it('names the file, the line and the key of each problem, all at once', () => {
    const found = problems(`project:
  name: demo
  packages:
    demo:
      actions:
        missing:
          function: src/nope.js
        nokind:
          function: src/bundle.zip
        badlimit:
          function: src/hello.js
          limits:
            timeout: soon
        noweb:
          function: src/hello.js
          web: maybe
`);
    expect(found).toHaveLength(4);
    expect(found[0]).toMatch(
      /manifest\.yaml:7: project\.packages\.demo\.actions\.missing\.function: 'src\/nope\.js' does not exist/,
    );
    expect(found[1]).toMatch(
      /manifest\.yaml:9: project\.packages\.demo\.actions\.nokind: a \.zip action needs a runtime/,
    );
    expect(found[2]).toMatch(
      /manifest\.yaml:13: .*limits\.timeout: must be a positive whole number \(milliseconds\), not 'soon'/,
    );
    expect(found[3]).toMatch(/manifest\.yaml:16: .*noweb\.web: must be true, false, yes, no or raw/);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('packages:\n  p:\n    actions: [\n')[0]).toMatch(/manifest\.yaml:\d+: not valid YAML/);
  });

  it('refuses a manifest without packages, or that is not a map', () => {
    expect(problems('project:\n  name: x\n')[0]).toMatch(/has no packages/);
    expect(problems('- a\n- b\n')[0]).toMatch(/must be a YAML map/);
  });

  it('refuses references to actions the manifest does not define', () => {
    const found = problems(`packages:
  p:
    actions:
      a:
        function: src/hello.js
    sequences:
      s:
        actions: a, typo
    rules:
      r:
        trigger: t
        action: nothere
`);
    expect(found).toEqual([
      expect.stringMatching(/sequences\.s: the action 'p\/typo' is not defined/),
      expect.stringMatching(/rules\.r: the action 'p\/nothere' is not defined/),
    ]);
  });

  it('refuses a deployment file that names what the manifest does not have, or another project', () => {
    const manifest = `project:\n  name: demo\n  packages:\n    p:\n      actions:\n        a:\n          function: src/hello.js\n`;
    const found = problems(manifest, {
      deployment: `project:\n  name: other\n  packages:\n    p:\n      actions:\n        b:\n          inputs: {x: 1}\n    q: {}\n`,
    });
    expect(found).toEqual([
      expect.stringMatching(/deployment\.yaml:2: project\.name: the project is 'other' here but 'demo'/),
      expect.stringMatching(
        /deployment\.yaml:\d+: project\.packages\.p\.actions\.b: action 'p\/b' is not in/,
      ),
      expect.stringMatching(/deployment\.yaml:\d+: project\.packages\.q: package 'q' is not in/),
    ]);
  });

  it('refuses a typed input whose environment value does not convert', () => {
    const found = problems(
      `packages:\n  p:\n    actions:\n      a:\n        function: src/hello.js\n        inputs:\n          n:\n            type: integer\n            value: $N\n`,
      { env: { N: 'many' } },
    );
    expect(found[0]).toMatch(/inputs\.n: the value 'many' is not of type integer/);
  });
});

describe('buildPlan', () => {
  it('orders the steps so that what is referenced exists first, and marks every entity as managed', () => {
    const plan = buildPlan(parse(FULL, { env: { PORT: '1' } }), '_');
    expect([...new Set(plan.steps.map((s) => s.type))]).toEqual([
      'package',
      'binding',
      'action',
      'sequence',
      'route',
      'trigger',
      'rule',
    ]);
    const managed = {
      projectName: 'demo',
      projectHash: projectHash(FULL),
      projectDeps: [],
      file: join(dir, 'manifest.yaml'),
    };
    for (const s of plan.steps) {
      if (s.type === 'route') continue;
      expect(kv(s.body.annotations ?? [])['whisk-managed']).toEqual(managed);
    }
  });

  it('sends zips and zipped folders base64-encoded, text code as text, and qualified names', () => {
    const plan = buildPlan(parse(FULL, { env: { PORT: '1' } }), '_');
    const action = (name: string) => plan.steps.find((s) => s.type === 'action' && s.name === name);
    expect(action('demo/hello')).toMatchObject({
      body: { exec: { kind: 'nodejs:default', binary: false, main: 'greet' } },
    });
    expect(action('demo/zipped')).toMatchObject({ body: { exec: { kind: 'nodejs:20', binary: true } } });
    const dir = action('demo/dir');
    expect(dir).toMatchObject({ body: { exec: { binary: true } } });
    const zip = Buffer.from((dir as { body: { exec: { code: string } } }).body.exec.code, 'base64');
    expect(zip.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    expect(plan.steps.find((s) => s.type === 'sequence')).toMatchObject({
      body: { exec: { components: ['/_/demo/hello', '/_/demo/py', '/whisk.system/utils/echo'] } },
    });
    expect(plan.steps.find((s) => s.type === 'rule')).toMatchObject({
      body: { trigger: '/_/tick', action: '/_/demo/hello' },
    });
    const feed = plan.steps.find((s) => s.type === 'trigger' && s.name === 'tick');
    expect(feed).toMatchObject({
      feed: '/whisk.system/alarms/alarm',
      feedParameters: { cron: '*/5 * * * * *' },
    });
    expect(feed).not.toHaveProperty('body.parameters');
  });

  it('adds no whisk-managed annotation to a project without a name', () => {
    const plan = buildPlan(
      parse(`packages:\n  p:\n    actions:\n      a:\n        function: src/hello.js\n`),
      '_',
    );
    expect(plan.managed).toBeUndefined();
    expect(
      plan.steps.every((s) => s.type === 'route' || !kv(s.body.annotations ?? [])['whisk-managed']),
    ).toBe(true);
  });
});
