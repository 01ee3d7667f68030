/**
 * Identities: who a `uuid:key` pair is. Keys are 64 random characters; they are stored only as a salted
 * SHA-256 (a slow hash buys nothing against keys of this entropy) and compared in constant time.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export interface Identity {
  subject: string;
  namespace: string;
  uuid: string;
  /** hex SHA-256 of salt + key */
  keyHash: string;
  salt: string;
  blocked?: boolean;
}

export const KEY_LENGTH = 64;
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function generateKey(): string {
  const bytes = randomBytes(KEY_LENGTH);
  let key = '';
  // 256 % 62 leaves a small bias; reject the top of the byte range to keep keys uniform.
  for (let i = 0; key.length < KEY_LENGTH; i++) {
    const b = i < bytes.length ? bytes[i]! : randomBytes(1)[0]!;
    if (b < 248) key += KEY_ALPHABET[b % 62];
  }
  return key;
}

export function generateCredentials(): { uuid: string; key: string } {
  return { uuid: randomUUID(), key: generateKey() };
}

export function hashKey(key: string, salt: string): string {
  return createHash('sha256').update(salt).update(key).digest('hex');
}

export function newIdentity(subject: string, namespace: string, uuid: string, key: string): Identity {
  const salt = randomBytes(16).toString('hex');
  return { subject, namespace, uuid, salt, keyHash: hashKey(key, salt) };
}

export function keyMatches(identity: Identity, key: string): boolean {
  const a = Buffer.from(hashKey(key, identity.salt), 'hex');
  const b = Buffer.from(identity.keyHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Parses `uuid:key` as the admin tool and the CLI accept it; undefined when malformed. */
export function parseCredentials(auth: string): { uuid: string; key: string } | undefined {
  const colon = auth.indexOf(':');
  if (colon < 0) return undefined;
  const uuid = auth.slice(0, colon);
  const key = auth.slice(colon + 1);
  if (!UUID.test(uuid) || key.length < 1 || key.length > 256) return undefined;
  return { uuid, key };
}
