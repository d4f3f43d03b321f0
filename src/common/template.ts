/**
 * Message templates with GOV.UK Notify-style placeholders: `((reference))`.
 *
 * Decisions:
 * - Placeholder names are case-insensitive and whitespace just inside the
 *   brackets is tolerated: `(( Reference ))` is `reference`. Whitespace in the
 *   middle of a name is not (`((report url))` is an unknown placeholder), so a
 *   typo is reported rather than guessed at.
 * - `(())` is a placeholder with an empty name, and therefore unknown.
 * - Rendering is a single pass: a value that itself contains `((...))` is
 *   inserted literally, never expanded again.
 */
import { analyseSms } from './sms-segments.js';

export const KNOWN_PLACEHOLDERS = ['reference', 'report_url', 'institution'] as const;
export type KnownPlaceholder = (typeof KNOWN_PLACEHOLDERS)[number];

/** Longest reference code the system issues; sized for the worst-case SMS. */
export const REFERENCE_MAX_LENGTH = 12;

export interface PlaceholderMatch {
  /** Exactly as written, e.g. `(( Reference ))`. */
  raw: string;
  /** Normalised: trimmed and lower-case. */
  name: string;
  index: number;
}

export type TemplateErrorKind = 'unknown_placeholder' | 'missing_value';

export class TemplateError extends Error {
  constructor(
    readonly kind: TemplateErrorKind,
    readonly placeholders: readonly string[],
  ) {
    super(templateErrorMessage(kind, placeholders));
    this.name = 'TemplateError';
  }
}

function templateErrorMessage(kind: TemplateErrorKind, names: readonly string[]): string {
  const list = names.map((n) => `((${n}))`).join(', ');
  return kind === 'unknown_placeholder'
    ? `The template uses ${list}, which the system cannot fill; use only ${knownList()}.`
    : `No value was given for ${list}.`;
}

function knownList(): string {
  return KNOWN_PLACEHOLDERS.map((n) => `((${n}))`).join(', ');
}

const PLACEHOLDER = /\(\(([^()]*)\)\)/g;

export function findPlaceholders(body: string): PlaceholderMatch[] {
  return [...body.matchAll(PLACEHOLDER)].map((m) => ({
    raw: m[0],
    name: normaliseName(m[1] ?? ''),
    index: m.index ?? 0,
  }));
}

export function isKnownPlaceholder(name: string): boolean {
  return isKnownName(normaliseName(name));
}

function isKnownName(name: string): name is KnownPlaceholder {
  return (KNOWN_PLACEHOLDERS as readonly string[]).includes(name);
}

/** Distinct unknown placeholder names (normalised), in order of first use. */
export function unknownPlaceholders(body: string): string[] {
  const names = findPlaceholders(body).map((p) => p.name);
  return unique(names.filter((n) => !isKnownPlaceholder(n)));
}

/**
 * Fills every placeholder. Throws TemplateError if the body uses a placeholder
 * the system does not know, or a known one without a value. Value keys are
 * matched case-insensitively; extra values are ignored.
 */
export function renderTemplate(body: string, values: Readonly<Record<string, string>>): string {
  const unknown = unknownPlaceholders(body);
  if (unknown.length > 0) throw new TemplateError('unknown_placeholder', unknown);
  const lookup = normaliseKeys(values);
  const missing = unique(findPlaceholders(body).map((p) => p.name)).filter((n) => !lookup.has(n));
  if (missing.length > 0) throw new TemplateError('missing_value', missing);
  return body.replace(PLACEHOLDER, (_raw, name: string) => lookup.get(normaliseName(name)) ?? '');
}

/**
 * Fills the HTML part of an email. Values are HTML-escaped: an institution's name or a
 * reference is text, and must never become markup or end an attribute early.
 */
export function renderHtmlTemplate(html: string, values: Readonly<Record<string, string>>): string {
  return renderTemplate(html, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, escapeHtml(v)])));
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

export interface WorstCaseValues {
  /** The URL ((report_url)) renders as; see reportUrlFor. */
  reportUrl: string;
  /** Every name ((institution)) can take; the one giving the costliest SMS is used. */
  institutionNames: readonly string[];
  /** Defaults to REFERENCE_MAX_LENGTH. */
  referenceMaxLength?: number;
}

/** The victim report form's public address, from the configured PUBLIC_BASE_URL. */
export function reportUrlFor(publicBaseUrl: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/report`;
}

/**
 * The body as it renders for the recipient whose SMS costs most. Unknown
 * placeholders are left as written (they are reported elsewhere), so a length
 * can still be shown while the template is being edited.
 */
export function longestRendering(body: string, worst: WorstCaseValues): string {
  const reference = 'X'.repeat(worst.referenceMaxLength ?? REFERENCE_MAX_LENGTH);
  const institutions = worst.institutionNames.length > 0 ? worst.institutionNames : [''];
  const renderings = institutions.map((institution) =>
    fillKnown(body, { reference, report_url: worst.reportUrl, institution }),
  );
  return costliest(renderings);
}

function fillKnown(body: string, values: Record<KnownPlaceholder, string>): string {
  return body.replace(PLACEHOLDER, (raw, name: string) => {
    const key = normaliseName(name);
    return isKnownName(key) ? values[key] : raw;
  });
}

// The costliest rendering is not always the longest string: a name with one
// non-GSM character switches the whole message to UCS-2.
function costliest(renderings: readonly string[]): string {
  let worst = renderings[0] ?? '';
  let worstCost = smsCost(worst);
  for (const text of renderings.slice(1)) {
    const cost = smsCost(text);
    if (cost[0] > worstCost[0] || (cost[0] === worstCost[0] && cost[1] > worstCost[1])) {
      worst = text;
      worstCost = cost;
    }
  }
  return worst;
}

function smsCost(text: string): [segments: number, characters: number] {
  const { segments, characters } = analyseSms(text);
  return [segments, characters];
}

function normaliseName(name: string): string {
  return name.trim().toLowerCase();
}

function normaliseKeys(values: Readonly<Record<string, string>>): Map<string, string> {
  return new Map(Object.entries(values).map(([k, v]) => [normaliseName(k), v]));
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
