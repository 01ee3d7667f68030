/**
 * `whirl project deploy|undeploy|sync|export`: wskdeploy manifests (docs/projects.md). The manifest is
 * read and checked whole, and the code read, before the first request; `--preview` stops there and
 * prints the plan.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError, type FlagDef } from '../args.js';
import { runNoun, type Context, type Noun } from '../command.js';
import {
  countLine,
  deploySteps,
  label,
  managedRemovals,
  previewDeploy,
  removalKey,
  removalsOfSpec,
  removeAll,
  sortRemovals,
  withoutOtherProjects,
  type Removal,
} from '../project/apply.js';
import { buildPlan, type Plan } from '../project/build.js';
import { exportProject } from '../project/export.js';
import { parseProject, type FileText } from '../project/manifest.js';
import type { ProjectSpec } from '../project/model.js';

const MANIFEST_FLAG: FlagDef = {
  long: 'manifest',
  short: 'm',
  kind: 'string',
  arg: 'FILE',
  help: 'the manifest (default: manifest.yaml or manifest.yml here)',
};
const DEPLOYMENT_FLAG: FlagDef = {
  long: 'deployment',
  short: 'd',
  kind: 'string',
  arg: 'FILE',
  help: "inputs that override the manifest's (default: deployment.yaml next to the manifest, if any)",
};
const PROJECT_FLAG: FlagDef = {
  long: 'projectname',
  kind: 'string',
  arg: 'NAME',
  help: 'the project name, when the manifest has none',
};
const PREVIEW_FLAG: FlagDef = {
  long: 'preview',
  kind: 'boolean',
  help: 'print what would be deployed or removed, and change nothing',
};

function firstExisting(dir: string, names: readonly string[]): string | undefined {
  return names.map((n) => join(dir, n)).find((p) => existsSync(p));
}

function readText(file: string, what: string): FileText {
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new UsageError(
      code === 'ENOENT' ? `the ${what} '${file}' does not exist` : `cannot read the ${what} '${file}'`,
    );
  }
}

/** The manifest named by -m or found here; undefined when there is none and `required` is false. */
function manifestFile(ctx: Context, required: boolean): string | undefined {
  const given = ctx.args.string('manifest');
  if (given !== undefined) return given;
  const found = firstExisting('.', ['manifest.yaml', 'manifest.yml']);
  if (found === undefined && required) {
    throw new UsageError(`no manifest: give one with -m FILE, or run in a folder that has manifest.yaml`);
  }
  return found?.replace(/^\.\//, '');
}

function loadSpec(ctx: Context, manifest: string): ProjectSpec {
  const deploymentFile =
    ctx.args.string('deployment') ??
    firstExisting(dirname(manifest), ['deployment.yaml', 'deployment.yml'])?.replace(/^\.\//, '');
  const spec = parseProject({
    manifest: readText(manifest, 'manifest'),
    deployment: deploymentFile === undefined ? undefined : readText(deploymentFile, 'deployment file'),
    env: ctx.env,
    projectName: ctx.args.string('projectname'),
  });
  for (const w of spec.warnings) ctx.warn(w);
  return spec;
}

function loadPlan(ctx: Context): { spec: ProjectSpec; plan: Plan } {
  const spec = loadSpec(ctx, manifestFile(ctx, true)!);
  const plan = buildPlan(spec, ctx.namespace);
  for (const w of plan.warnings.slice(spec.warnings.length)) ctx.warn(w);
  return { spec, plan };
}

const projectLabel = (name: string | undefined) => (name === undefined ? 'the manifest' : `project ${name}`);

function printPreview(ctx: Context, title: string, lines: readonly string[]): void {
  ctx.line(`${title} (preview: nothing was changed)`);
  for (const l of lines) ctx.line(`  ${l}`);
  if (lines.length === 0) ctx.line('  nothing to do');
}

async function deploy(ctx: Context): Promise<void> {
  const { plan } = loadPlan(ctx);
  if (ctx.args.bool('preview')) {
    const lines = await ctx.attempt('read the current state', () => previewDeploy(ctx, plan));
    printPreview(ctx, `Deploying ${projectLabel(plan.projectName)} would`, lines);
    return;
  }
  if (plan.projectName === undefined) {
    ctx.warn(
      `the manifest names no project: 'whirl project sync', 'undeploy --projectname' and 'export' will not find these entities`,
    );
  }
  await deploySteps(ctx, plan.steps);
  ctx.ok(`deployed ${projectLabel(plan.projectName)}: ${countLine(plan.steps)}`);
}

function dedupe(items: readonly Removal[]): Removal[] {
  const seen = new Map<string, Removal>();
  for (const i of items) if (!seen.has(removalKey(i))) seen.set(removalKey(i), i);
  return [...seen.values()];
}

async function sync(ctx: Context): Promise<void> {
  const { plan } = loadPlan(ctx);
  const name = plan.projectName;
  if (name === undefined) {
    throw new UsageError(
      `sync needs a project name: set 'project: name:' in the manifest, or give --projectname`,
    );
  }
  const wanted = new Set(plan.steps.map(removalKey));
  const onServer = await ctx.attempt(`find the entities of project '${name}'`, () =>
    managedRemovals(ctx, name),
  );
  const stale = sortRemovals(dedupe(onServer.filter((r) => !wanted.has(removalKey(r)))));
  if (ctx.args.bool('preview')) {
    const lines = await ctx.attempt('read the current state', () => previewDeploy(ctx, plan));
    printPreview(ctx, `Syncing project ${name} would`, [...lines, ...stale.map((r) => `remove ${label(r)}`)]);
    return;
  }
  await deploySteps(ctx, plan.steps);
  await removeAll(ctx, stale);
  ctx.ok(
    `synced project ${name}: deployed ${countLine(plan.steps)}; removed ${stale.length === 0 ? 'nothing' : countLine(stale)}`,
  );
}

async function undeploy(ctx: Context): Promise<void> {
  const flagName = ctx.args.string('projectname');
  // By name alone, the server says what the project has; a manifest here is read only when named.
  const manifest =
    flagName !== undefined && ctx.args.string('manifest') === undefined ? undefined : manifestFile(ctx, true);
  const spec = manifest === undefined ? undefined : loadSpec(ctx, manifest);
  const name = flagName ?? spec?.name;
  const fromManifest = spec === undefined ? [] : removalsOfSpec(spec);
  const managed =
    name === undefined
      ? []
      : await ctx.attempt(`find the entities of project '${name}'`, () => managedRemovals(ctx, name));
  const items = await ctx.attempt('read the current state', () =>
    withoutOtherProjects(ctx, sortRemovals(dedupe([...fromManifest, ...managed])), name),
  );
  if (ctx.args.bool('preview')) {
    printPreview(
      ctx,
      `Undeploying ${projectLabel(name)} would`,
      items.map((r) => `remove ${label(r)}`),
    );
    return;
  }
  await removeAll(ctx, items);
  ctx.ok(`undeployed ${projectLabel(name)}: ${items.length === 0 ? 'nothing was there' : countLine(items)}`);
}

async function exportCommand(ctx: Context): Promise<void> {
  const name = ctx.args.string('projectname');
  if (name === undefined) throw new UsageError(`export needs --projectname NAME: the project to export`);
  const manifest = ctx.args.string('manifest') ?? 'manifest.yaml';
  const result = await exportProject(ctx, name, manifest, ctx.args.bool('force'));
  for (const w of result.warnings) ctx.warn(w);
  ctx.ok(
    `exported project ${name} to ${result.manifest} (${result.files.length} code file${result.files.length === 1 ? '' : 's'})`,
  );
}

const DETAILS = `Examples:
  whirl project deploy                          # manifest.yaml (and deployment.yaml) in this folder
  whirl project deploy -m app/manifest.yaml -d app/prod.yaml --preview
  whirl project sync                            # deploy, then remove what the manifest no longer lists
  whirl project undeploy --projectname demo
  whirl project export --projectname demo -m exported/manifest.yaml
Inputs may say $VAR or \${VAR}: the environment variable's value. See docs/projects.md.`;

const WRITE_FLAGS = [MANIFEST_FLAG, DEPLOYMENT_FLAG, PROJECT_FLAG, PREVIEW_FLAG];

export const projectNoun: Noun = {
  name: 'project',
  summary: 'Deploy projects described by wskdeploy manifests.',
  verbs: [
    {
      name: 'deploy',
      args: '',
      summary: 'create or update every entity the manifest describes',
      flags: WRITE_FLAGS,
      max: 0,
      details: DETAILS,
      run: deploy,
    },
    {
      name: 'sync',
      args: '',
      summary: 'deploy, then remove the project entities the manifest no longer lists',
      flags: WRITE_FLAGS,
      max: 0,
      details: DETAILS,
      run: sync,
    },
    {
      name: 'undeploy',
      args: '',
      summary: "remove the manifest's entities (and, by project name, every entity of the project)",
      flags: WRITE_FLAGS,
      max: 0,
      details: DETAILS,
      run: undeploy,
    },
    {
      name: 'export',
      args: '',
      summary: "write a manifest and code files for a project's entities on the server",
      flags: [
        { ...MANIFEST_FLAG, help: 'the manifest to write (default: manifest.yaml); code goes next to it' },
        PROJECT_FLAG,
        { long: 'force', kind: 'boolean', help: 'overwrite the manifest if it exists' },
      ],
      max: 0,
      details: DETAILS,
      run: exportCommand,
    },
  ],
};

export const projectCommand = (argv: string[]): Promise<number> => runNoun(projectNoun, argv);
