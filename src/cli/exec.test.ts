import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeZip } from '../../test/helpers/archive-writer.js';
import {
  buildExec,
  codeExtension,
  inferKind,
  isBinaryContent,
  readArtifact,
  SKELETON_IMAGE,
} from './exec.js';

const dir = mkdtempSync(join(tmpdir(), 'whirl-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer, mode = 0o644): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
}

describe('kind inference', () => {
  it('maps extensions to default kinds', () => {
    expect(inferKind('a.js', false)).toEqual({ kind: 'nodejs:default' });
    expect(inferKind('A.PY', false)).toEqual({ kind: 'python:default' });
    expect(inferKind('a.jar', false)).toEqual({ kind: 'java:default' });
    expect(inferKind('a.txt', false)).toBeUndefined();
  });

  it('lets --kind, --docker and --native win over the extension', () => {
    expect(inferKind('a.js', false, { kind: 'python:3' })).toEqual({ kind: 'python:3' });
    expect(inferKind('a.js', false, { docker: 'me/img' })).toEqual({ kind: 'blackbox', image: 'me/img' });
    expect(inferKind('a.js', false, { native: true })).toEqual({ kind: 'blackbox', image: SKELETON_IMAGE });
  });

  it('requires --kind for a zip', () => {
    expect(() => inferKind('a.zip', false)).toThrow(/needs --kind/);
    expect(inferKind('a.zip', false, { kind: 'nodejs:20' })).toEqual({ kind: 'nodejs:20' });
  });

  it('treats an executable without a known extension as a native action', () => {
    expect(inferKind('tool', true)).toEqual({ kind: 'blackbox', image: SKELETON_IMAGE });
    expect(inferKind('tool.js', true)).toEqual({ kind: 'nodejs:default' });
  });
});

describe('buildExec', () => {
  it('sends text code as is', () => {
    const exec = buildExec(readArtifact(file('h.js', 'function main(){}')), { main: 'go' });
    expect(exec).toEqual({ kind: 'nodejs:default', code: 'function main(){}', binary: false, main: 'go' });
  });

  it('sends zips base64-encoded', () => {
    const zip = makeZip([{ name: 'index.js', data: 'exports.main = () => ({})' }]);
    const exec = buildExec(readArtifact(file('a.zip', zip)), { kind: 'nodejs:default' });
    expect(exec.binary).toBe(true);
    expect(Buffer.from(exec.code!, 'base64').equals(zip)).toBe(true);
  });

  it('makes an executable script a dockerskeleton blackbox, binaries base64', () => {
    const script = buildExec(readArtifact(file('run', '#!/bin/sh\necho {}\n', 0o755)), {});
    expect(script).toEqual({
      kind: 'blackbox',
      image: SKELETON_IMAGE,
      code: '#!/bin/sh\necho {}\n',
      binary: false,
    });
    const elf = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff]);
    const bin = buildExec(readArtifact(file('prog', elf, 0o755)), {});
    expect(bin).toMatchObject({ kind: 'blackbox', binary: true, code: elf.toString('base64') });
  });

  it('allows an image without code only with --docker', () => {
    expect(buildExec(undefined, { docker: 'me/img' })).toEqual({ kind: 'blackbox', image: 'me/img' });
    expect(() => buildExec(undefined, {})).toThrow(/ARTIFACT/);
  });

  it('explains what to do when the kind is unknown, or the file is missing', () => {
    expect(() => buildExec(readArtifact(file('notes.txt', 'x')), {})).toThrow(/--kind KIND/);
    expect(() => readArtifact(join(dir, 'missing.js'))).toThrow(/does not exist/);
  });

  it('detects binary content', () => {
    expect(isBinaryContent(Buffer.from('héllo'))).toBe(false);
    expect(isBinaryContent(Buffer.from([0xc3, 0x28]))).toBe(true);
    expect(isBinaryContent(Buffer.from([65, 0, 66]))).toBe(true);
  });

  it('picks the extension for --save', () => {
    expect(codeExtension('nodejs:20', Buffer.from('x'), false)).toBe('.js');
    expect(codeExtension('python:3', Buffer.from('x'), false)).toBe('.py');
    expect(codeExtension('nodejs:20', Buffer.from('PK\x03\x04rest', 'latin1'), true)).toBe('.zip');
    expect(codeExtension('blackbox', Buffer.from([0x7f, 0x45]), true)).toBe('');
    expect(codeExtension('blackbox', Buffer.from('#!/bin/sh'), false)).toBe('');
  });
});
