/**
 * SMS length and encoding, as a handset and the network will see it.
 *
 * Operators must see the real cost of a message before a 200,000-recipient
 * campaign goes out: one curly apostrophe pasted from a word processor turns
 * the whole message into UCS-2 and can triple the number of segments billed.
 *
 * Decisions:
 * - Empty text is 0 characters and 0 segments: there is nothing to send (an
 *   empty body is reported separately by the content rules).
 * - Multi-part segments are counted by packing characters, not by dividing:
 *   a GSM-7 extension character (escape + character) and a UTF-16 surrogate
 *   pair (e.g. an emoji) are never split across two segments, as handsets and
 *   providers do. For text without such characters this equals
 *   ceil(n / 153) and ceil(n / 67); with them it can be one segment more.
 * - Form feed belongs to the GSM-7 extension table and counts two septets.
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface NonGsmCharacter {
  char: string;
  count: number;
  /** GSM-7 text that can stand in for `char`; '' means "remove it". Absent when there is none. */
  suggestion?: string;
}

export interface SmsAnalysis {
  encoding: SmsEncoding;
  /** GSM-7: septets (extension characters count two). UCS-2: UTF-16 code units. */
  characters: number;
  segments: number;
  nonGsmCharacters: NonGsmCharacter[];
}

export const SMS_LIMITS = {
  'GSM-7': { single: 160, perPart: 153 },
  'UCS-2': { single: 70, perPart: 67 },
} as const satisfies Record<SmsEncoding, { single: number; perPart: number }>;

// GSM 03.38 default alphabet, in table order (0x00-0x7F); 0x1B is the escape
// to the extension table and is therefore not a character of its own.
const GSM_BASIC_TABLE =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ' +
  'ÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmnopqrstuvwxyzäöñüà';

const GSM_EXTENSION_TABLE = '\f^{}\\[~]|€';

const GSM_BASIC = new Set(GSM_BASIC_TABLE);
const GSM_EXTENSION = new Set(GSM_EXTENSION_TABLE);

/** Typographic characters that word processors and phones insert in place of plain ones. */
const REPLACEMENTS: ReadonlyMap<string, string> = new Map([
  // quotes and apostrophes
  ['\u2018', "'"], ['\u2019', "'"], ['\u201A', "'"], ['\u201B', "'"],
  ['\u2032', "'"], ['\u00B4', "'"], ['`', "'"],
  ['\u201C', '"'], ['\u201D', '"'], ['\u201E', '"'], ['\u201F', '"'],
  ['\u2033', '"'], ['\u00AB', '"'], ['\u00BB', '"'],
  // dashes and hyphens
  ['\u2010', '-'], ['\u2011', '-'], ['\u2012', '-'], ['\u2013', '-'],
  ['\u2014', '-'], ['\u2015', '-'], ['\u2212', '-'],
  ['\u2026', '...'],
  ['\u2022', '-'],
  ['\u00D7', 'x'],
  // spaces that look like a space
  ['\u00A0', ' '], ['\u2002', ' '], ['\u2003', ' '], ['\u2004', ' '],
  ['\u2005', ' '], ['\u2006', ' '], ['\u2007', ' '], ['\u2008', ' '],
  ['\u2009', ' '], ['\u200A', ' '], ['\u202F', ' '], ['\u205F', ' '],
  ['\u3000', ' '], ['\t', ' '],
  // invisible characters: nothing to keep
  ['\u200B', ''], ['\u200C', ''], ['\u200D', ''], ['\u2060', ''],
  ['\uFEFF', ''], ['\u00AD', ''],
  // line and paragraph separators pasted from documents
  ['\u2028', '\n'], ['\u2029', '\n'],
  // letters absent from GSM-7 whose plain form is what a reader expects
  ['ç', 'c'],
]);

export function isGsmCharacter(char: string): boolean {
  return GSM_BASIC.has(char) || GSM_EXTENSION.has(char);
}

/** The GSM-7 stand-in for one non-GSM character, if there is a sensible one. */
export function gsmReplacementFor(char: string): string | undefined {
  const known = REPLACEMENTS.get(char);
  if (known !== undefined) return known;
  return withoutAccents(char);
}

// Accented letters such as á or ô are not in GSM-7, but their base letter is
// and reads naturally in a name or a place.
function withoutAccents(char: string): string | undefined {
  const base = char.normalize('NFD').replace(/\p{M}+/gu, '');
  if (base === char || base === '') return undefined;
  return [...base].every((c) => GSM_BASIC.has(c)) ? base : undefined;
}

export function analyseSms(text: string): SmsAnalysis {
  const nonGsmCharacters = countNonGsm(text);
  const encoding: SmsEncoding = nonGsmCharacters.length === 0 ? 'GSM-7' : 'UCS-2';
  const units = characterUnits(text, encoding);
  const characters = units.reduce((sum, n) => sum + n, 0);
  return { encoding, characters, segments: countSegments(units, encoding), nonGsmCharacters };
}

/** Replaces every non-GSM character that has a GSM-7 stand-in; others are left as they are. */
export function suggestGsmReplacement(text: string): string {
  let out = '';
  for (const char of text) {
    out += isGsmCharacter(char) ? char : (gsmReplacementFor(char) ?? char);
  }
  return out;
}

function countNonGsm(text: string): NonGsmCharacter[] {
  const counts = new Map<string, number>();
  for (const char of text) {
    if (!isGsmCharacter(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  return [...counts].map(([char, count]) => {
    const suggestion = gsmReplacementFor(char);
    return suggestion === undefined ? { char, count } : { char, count, suggestion };
  });
}

/** Size of each indivisible character in the unit the encoding is billed in. */
function characterUnits(text: string, encoding: SmsEncoding): number[] {
  const units: number[] = [];
  for (const char of text) {
    if (encoding === 'UCS-2') units.push(char.length);
    else units.push(GSM_EXTENSION.has(char) ? 2 : 1);
  }
  return units;
}

function countSegments(units: readonly number[], encoding: SmsEncoding): number {
  const { single, perPart } = SMS_LIMITS[encoding];
  const total = units.reduce((sum, n) => sum + n, 0);
  if (total === 0) return 0;
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const size of units) {
    if (used + size > perPart) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return segments;
}
