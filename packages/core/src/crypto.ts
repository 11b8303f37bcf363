/**
 * The few cryptographic primitives hubauth uses, in one place: constant-time comparison, a digest
 * of credentials (so caches and bindings never hold a usable token), keyed digests, and one key
 * derivation for every purpose-bound key (cookie sealing, xsrf).
 */
import crypto from 'node:crypto';

/** Constant-time string comparison (lengths may differ: that alone is not secret). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// The one-shot `crypto.hash` (Node 20.12+) is several times cheaper than a Hash object; digests run
// on every request.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;

/** SHA-256 of `text`, base64url: what stands for a token wherever one must not be kept. */
export function digest(text: string): string {
  return oneShot ? oneShot('sha256', text, 'base64url') : crypto.createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** HMAC-SHA-256 of `text` under `key`, base64url. */
export function keyedDigest(key: Buffer, text: string): string {
  return crypto.createHmac('sha256', key).update(text).digest('base64url');
}

/**
 * A 32-byte key for one purpose from a configured secret (HKDF-SHA-256). Different purposes give
 * unrelated keys, so a value made for one use (a session cookie) cannot pass for another (xsrf).
 */
export function deriveKey(secret: string, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, 'hubauth', `hubauth ${purpose}`, 32));
}

/** `n` random bytes. */
export function randomBytes(n: number): Buffer {
  return crypto.randomBytes(n);
}

/** `n` random lower-case letters (cookie-name suffixes). */
export function randomLetters(n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from(crypto.randomBytes(n), (b) => alphabet[b % 26]).join('');
}
