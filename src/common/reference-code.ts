import { randomBytes } from 'node:crypto';

/**
 * Victims' reference codes: what a frightened person types from an SMS into a form, so
 * no look-alike characters (no 0/O, 1/I/L, U/V, S/5, Z/2) and no separators to get
 * wrong. 12 characters from 25 give 12 × log2(25) ≈ 55.7 bits: unguessable at any rate
 * the report form allows. Drawn from the CSPRNG by rejection sampling, so every
 * character is uniform.
 */
export const REFERENCE_ALPHABET = '346789ABCDEFGHJKMNPQRTWXY';
export const REFERENCE_LENGTH = 12;
const LIMIT = 256 - (256 % REFERENCE_ALPHABET.length); // 250: bytes at or above are redrawn

export function newReferenceCodes(count: number): string[] {
  const codes = new Array<string>(count);
  let pool = randomBytes(Math.max(64, count * REFERENCE_LENGTH * 1.1));
  let at = 0;
  for (let n = 0; n < count; n++) {
    let code = '';
    while (code.length < REFERENCE_LENGTH) {
      if (at >= pool.length) {
        pool = randomBytes(4096);
        at = 0;
      }
      const b = pool[at++];
      if (b < LIMIT) code += REFERENCE_ALPHABET[b % REFERENCE_ALPHABET.length];
    }
    codes[n] = code;
  }
  return codes;
}

/** What a person typed ("abcd efgh-jkmn") as a stored code, or null if it cannot be one. */
export function normaliseReferenceCode(input: string): string | null {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== REFERENCE_LENGTH) return null;
  for (const ch of code) if (!REFERENCE_ALPHABET.includes(ch)) return null;
  return code;
}
