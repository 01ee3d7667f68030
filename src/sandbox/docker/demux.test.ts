import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { OutputStream } from '../sandbox.js';
import { StreamDemuxer } from './demux.js';

function frame(type: number, payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

function collect() {
  const out: Record<OutputStream, string> = { stdout: '', stderr: '' };
  const d = new StreamDemuxer((s, c) => (out[s] += c.toString('utf8')));
  return { out, d };
}

describe('StreamDemuxer', () => {
  it('separates stdout and stderr frames glued into one chunk', () => {
    const { out, d } = collect();
    d.push(Buffer.concat([frame(1, 'out1\n'), frame(2, 'err1\n'), frame(1, 'out2\n')]));
    expect(out).toEqual({ stdout: 'out1\nout2\n', stderr: 'err1\n' });
  });

  it('reassembles frames split anywhere, including inside the header', () => {
    const { out, d } = collect();
    const all = Buffer.concat([frame(1, 'hello '), frame(2, '❄ ☃'), frame(1, 'world')]);
    for (const b of all) d.push(Buffer.from([b]));
    expect(out).toEqual({ stdout: 'hello world', stderr: '❄ ☃' });
  });

  it('delivers the same bytes whatever the chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(1, 2), fc.string({ maxLength: 40 })), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }),
        (frames, cuts) => {
          const all = Buffer.concat(frames.map(([t, s]) => frame(t, s)));
          const { out, d } = collect();
          let off = 0;
          for (let i = 0; off < all.length; i++) {
            const n = cuts[i % cuts.length]!;
            d.push(all.subarray(off, off + n));
            off += n;
          }
          expect(out.stdout).toBe(
            frames
              .filter(([t]) => t === 1)
              .map(([, s]) => s)
              .join(''),
          );
          expect(out.stderr).toBe(
            frames
              .filter(([t]) => t === 2)
              .map(([, s]) => s)
              .join(''),
          );
        },
      ),
    );
  });
});
