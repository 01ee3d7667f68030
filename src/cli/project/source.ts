/**
 * A YAML file read for its values and for where each value sits, so that every complaint names the file,
 * the line and the key (`manifest.yaml:12: packages.demo.actions.hello.function: ...`). Complaints are
 * collected rather than thrown one at a time: a bad manifest is reported whole, and nothing is deployed.
 */
import { LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { CommandError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export type Path = readonly (string | number)[];

/** A manifest or deployment file that cannot be used; exit code 2 (bad input file). */
export class ManifestError extends CommandError {
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  ${problems.join('\n  ')}`,
      ExitCode.Usage,
    );
    this.name = 'ManifestError';
  }
}

/** Errors (which stop the command) and warnings (which are printed and let it go on). */
export class Issues {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  error(where: string, message: string): void {
    this.errors.push(`${where}: ${message}`);
  }

  warn(where: string, message: string): void {
    this.warnings.push(`${where}: ${message}`);
  }

  /** Throws every error collected so far as one ManifestError. */
  check(): void {
    if (this.errors.length > 0) throw new ManifestError(this.errors);
  }
}

export class Source {
  private constructor(
    /** The file as the user named it (for messages). */
    readonly file: string,
    readonly text: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    readonly root: unknown,
  ) {}

  /** Parses `text`; syntax errors go to `issues` (with their line) and give undefined. */
  static parse(file: string, text: string, issues: Issues): Source | undefined {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        issues.error(
          `${file}:${lines.linePos(e.pos[0]).line}`,
          `not valid YAML: ${e.message.split('\n')[0]}`,
        );
      }
      return undefined;
    }
    return new Source(file, text, doc, lines, doc.toJS({ maxAliasCount: 100 }) as unknown);
  }

  /** `file:line: a.b.c` for the value at `path` (the closest existing parent's line when it is absent). */
  where(path: Path): string {
    const key = path.length === 0 ? '' : `: ${formatPath(path)}`;
    for (let n = path.length; n >= 0; n--) {
      const node = (n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true)) as
        Node | null | undefined;
      const offset = node?.range?.[0];
      if (offset !== undefined) return `${this.file}:${this.lines.linePos(offset).line}${key}`;
    }
    return `${this.file}${key}`;
  }
}

/** `packages.demo.actions.hello`; keys with dots or spaces quoted. */
export function formatPath(path: Path): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : /^[\w@-]+$/.test(p) ? p : JSON.stringify(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}
