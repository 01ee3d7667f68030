// The `native` kind: OpenWhisk's blackbox ("dockerskeleton") semantics. /init stores an executable
// (a script, a binary, or a zip/tar.gz with `exec` at its root); each /run spawns it with the
// arguments as one JSON string argument (and on stdin), the run's __OW_* variables in its
// environment, and takes the last line of its stdout as the result.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArchiveError, archiveKind, extractArchive } from '../common/archive.js';
import { errorReply, reply, type Reply } from '../common/http-server.js';
import {
  MISSING_CODE,
  NOT_A_DICTIONARY,
  initEnv,
  isRecord,
  notInitializable,
  notRunnable,
  refuse,
  runArgs,
  runEnv,
  type Status,
} from '../common/protocol.js';
import { logErr, logTag, writeSentinels } from '../common/sentinel.js';
import { LineSplitter, ResultSplitter } from './output.js';

export const NO_BINARY = 'The action failed to generate or locate a binary. See logs for details.';

/**
 * Linux refuses a single argument longer than MAX_ARG_STRLEN (32 pages); bigger arguments go on
 * stdin only, as the OpenWhisk blackbox proxy does.
 */
const MAX_ARGUMENT_BYTES = 131_071;

export interface NativeOptions {
  concurrent: boolean;
  /** Prefix each log line with its activation id (__WHIRL_LOG_TAGS=1). */
  logTags: boolean;
  tmpDir: string;
}

/** An init failure with a message fit for the /init response. */
class InitFailure extends Error {
  constructor(
    readonly response: string,
    readonly log: string,
  ) {
    super(log);
  }
}

/** Base64 text that decodes to an archive, even if the client did not set `binary`. */
function looksLikeBase64Archive(code: string): boolean {
  return (
    archiveKind(Buffer.from(code.slice(0, 8), 'base64')) !== undefined && /^[A-Za-z0-9+/=\s]+$/.test(code)
  );
}

export class NativeActionService {
  private status: Status = 'ready';
  private executable: string | undefined;
  private workDir = '';
  private env: Record<string, string> = {};
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly options: NativeOptions) {}

  init = async (body: Record<string, unknown>): Promise<Reply> => {
    const refusal = notInitializable(this.executable !== undefined, this.status);
    if (refusal) return refuse(refusal);
    const value = isRecord(body.value) ? body.value : {};
    if (typeof value.code !== 'string' || !value.code) return errorReply(403, MISSING_CODE);
    this.status = 'starting';
    try {
      this.env = initEnv(value.env);
      await this.install(value.code, value.binary === true);
      this.status = 'ready';
      return reply(200, { OK: true });
    } catch (error) {
      this.status = 'stopped';
      const failure = error instanceof InitFailure ? error : new InitFailure(NO_BINARY, String(error));
      logErr(failure.log);
      writeSentinels();
      return errorReply(502, failure.response);
    }
  };

  /** Writes the executable (or unpacks the archive holding it) into a fresh directory. */
  private async install(code: string, binary: boolean): Promise<void> {
    const dir = await mkdtemp(join(this.options.tmpDir, 'action-'));
    const data =
      binary || looksLikeBase64Archive(code) ? Buffer.from(code, 'base64') : Buffer.from(code, 'utf8');
    const exec = join(dir, 'exec');
    if (archiveKind(data)) {
      try {
        await extractArchive(data, dir);
      } catch (error) {
        const detail = error instanceof ArchiveError ? error.message : String(error);
        const message = `There was an error uncompressing the action archive: ${detail}.`;
        throw new InitFailure(message, message);
      }
      const info = await stat(exec).catch(() => undefined);
      if (!info?.isFile()) {
        throw new InitFailure(
          NO_BINARY,
          'The archive does not contain an executable named "exec" at its root.',
        );
      }
      await chmod(exec, 0o755);
    } else {
      await writeFile(exec, data, { mode: 0o755 });
      await chmod(exec, 0o755);
    }
    this.workDir = dir;
    this.executable = exec;
  }

  run = async (body: Record<string, unknown>): Promise<Reply> => {
    const executable = this.executable;
    const refusal = notRunnable(executable !== undefined, this.status);
    if (refusal || !executable) return refuse(refusal ?? '');
    const input = runArgs(body);
    if ('refused' in input) return input.refused;
    const env = runEnv(body);
    if (!this.options.concurrent) this.status = 'running';
    try {
      return await this.execute(executable, input.args, env);
    } finally {
      if (!this.options.concurrent && this.status === 'running') this.status = 'ready';
    }
  };

  private execute(executable: string, args: object, runEnvironment: Record<string, string>): Promise<Reply> {
    const input = JSON.stringify(args);
    const tag = this.options.logTags ? logTag(runEnvironment.__OW_ACTIVATION_ID ?? '') : '';
    const toStdout = (line: string): void => void process.stdout.write(`${tag}${line}\n`);
    const toStderr = (line: string): void => void process.stderr.write(`${tag}${line}\n`);

    return new Promise<Reply>((resolve) => {
      const child = spawn(executable, Buffer.byteLength(input) <= MAX_ARGUMENT_BYTES ? [input] : [], {
        cwd: this.workDir,
        env: { ...process.env, ...this.env, ...runEnvironment },
        stdio: ['pipe', 'pipe', 'pipe'],
        // Own process group, so that shutdown can take the action's own children down too.
        detached: true,
      });
      this.children.add(child);
      const stdout = new ResultSplitter(toStdout);
      const stderr = tag ? new LineSplitter(toStderr) : undefined;
      child.stdout.setEncoding('utf8').on('data', (text: string) => stdout.push(text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        if (stderr) stderr.push(text);
        else process.stderr.write(text);
      });
      // The action may never read its stdin; a closed pipe is not an error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(`${input}\n`);

      let settled = false;
      const finish = (outcome: Reply, problem?: string): void => {
        if (settled) return;
        settled = true;
        this.children.delete(child);
        const rest = stderr?.rest();
        if (rest) toStderr(rest);
        if (problem) logErr(`${tag}${problem}`);
        writeSentinels(tag);
        resolve(outcome);
      };
      child.on('error', (error) => {
        finish(
          errorReply(502, `The action could not be started: ${error.message}`),
          `Cannot run ${executable}: ${error.message}`,
        );
      });
      // When the action exits, whatever it left running in its process group goes too: background
      // children must not outlive their activation, nor hold its output open.
      child.on('exit', () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group is already empty.
        }
      });
      child.on('close', (code, signal) => {
        const last = stdout.finish();
        let result: unknown;
        try {
          result = JSON.parse(last);
        } catch {
          result = undefined;
        }
        if (result !== null && typeof result === 'object') {
          finish({ status: 200, json: last });
          return;
        }
        // Not a result: show the line in the logs, as it probably explains what went wrong.
        if (last) toStdout(last);
        if (code === 0) {
          finish(errorReply(502, NOT_A_DICTIONARY));
        } else {
          const how = signal ? `was killed by signal ${signal}` : `exited with code ${code}`;
          finish(errorReply(502, `The action ${how} and did not return a dictionary.`));
        }
      });
    });
  }

  /** Kills every running action process group (on proxy shutdown). */
  killAll = (): void => {
    for (const child of this.children) {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
}
