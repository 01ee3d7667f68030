// Extraction of action archives (zip and tar.gz) with Node built-ins only.
//
// Archives come from users, so extraction is bounded and confined: entry names may not be absolute
// or contain "..", links are never created (they are skipped), and the number of entries, the total
// unpacked size and the compression ratio are capped so that a small upload cannot fill the disk or
// the memory of a sandbox. Memory stays bounded too: large entries are inflated as a stream.
import { MB, type ExtractLimits, type ExtractSummary, ArchiveError } from './archive-sink.js';
import { extractTarGz } from './tar-gz.js';
import { extractZip } from './zip.js';

export { ArchiveError, safeEntryPath, type ExtractLimits, type ExtractSummary } from './archive-sink.js';

export type ArchiveKind = 'zip' | 'tar.gz';

/** Default limits; __WHIRL_MAX_UNZIP_BYTES overrides the total size. */
export function defaultLimits(env: NodeJS.ProcessEnv = process.env): ExtractLimits {
  const fromEnv = Number(env.__WHIRL_MAX_UNZIP_BYTES);
  return {
    maxEntries: 20_000,
    maxBytes: Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 512 * MB,
    maxRatio: 200,
    ratioMinBytes: 1 * MB,
  };
}

const startsWith = (data: Uint8Array, magic: number[]): boolean => magic.every((byte, i) => data[i] === byte);

/** Recognises an archive by its magic bytes, as OpenWhisk does (zip 504b0304, gzip 1f8b08). */
export function archiveKind(data: Uint8Array): ArchiveKind | undefined {
  if (startsWith(data, [0x50, 0x4b, 0x03, 0x04])) return 'zip';
  if (startsWith(data, [0x1f, 0x8b, 0x08])) return 'tar.gz';
  return undefined;
}

/** Extracts a zip or tar.gz held in memory into dest (which should be a fresh, empty directory). */
export async function extractArchive(
  data: Buffer,
  dest: string,
  limits: Partial<ExtractLimits> = {},
): Promise<ExtractSummary> {
  const all = { ...defaultLimits(), ...limits };
  const kind = archiveKind(data);
  if (kind === 'zip') return extractZip(data, dest, all);
  if (kind === 'tar.gz') return extractTarGz(data, dest, all);
  throw new ArchiveError('the data is neither a zip nor a tar.gz archive');
}
