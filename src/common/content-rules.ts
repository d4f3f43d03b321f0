/**
 * Content rules checked when a template is saved or previewed.
 *
 * A warning from the police must not look like the fraud it warns about: no
 * links except to official domains, no request for secrets, the sender named,
 * and an SMS short enough to arrive in the number of parts the operator chose.
 * Every message is a sentence an operator can act on without help.
 *
 * Decisions:
 * - Links are found in the body and the subject, with or without a scheme
 *   (`https://x.com`, `www.x.co.uk`, `bit.ly/abc`, `x.com`). A bare `a.b`
 *   counts as a link when it starts with `www.`, has a path, port or
 *   user-info, or ends in a real top-level domain (every two-letter one and a
 *   list of common generic ones), so that `Mr.Smith` is not a link.
 * - Email addresses are not links (contacting a mailbox is not visiting a
 *   site) and are not checked here.
 * - The host of `policy.reportUrl` is allowed exactly, even when it is not
 *   under an allowed domain, because it is the platform's own report form.
 * - A secret is "asked for" when a request word (send, reply, give, share,
 *   confirm, ask...) comes shortly before it, or "needed"/"required" shortly
 *   after it, in the same sentence. The request is not counted when a
 *   negation (never, not, won't, don't, no...) comes before the request word
 *   in the same clause (commas, "but" and "however" end a clause), or when a
 *   third party is its subject ("fraudsters may ask you to share your PIN").
 *   This is a safety net for accidental phrasing, not a guarantee; two-person
 *   approval remains the control.
 * - An empty body is reported alone (with a missing email subject): the other
 *   rules say nothing useful about no text.
 */
import type { Channel } from './channel.js';
import { domainToASCII } from 'node:url';

import { readHtml, type HtmlUrl } from './html-content.js';
import { analyseSms, SMS_LIMITS, type SmsAnalysis } from './sms-segments.js';
import { KNOWN_PLACEHOLDERS, longestRendering, REFERENCE_MAX_LENGTH, unknownPlaceholders } from './template.js';

export type ContentChannel = Channel;

export type ViolationRule =
  | 'empty_body'
  | 'missing_subject'
  | 'unknown_placeholder'
  | 'link_not_allowed'
  | 'asks_for_secret'
  | 'sender_not_named'
  | 'too_many_segments'
  | 'html_not_allowed';

export interface Violation {
  rule: ViolationRule;
  message: string;
}

export interface ContentInput {
  channel: ContentChannel;
  body: string;
  subject?: string;
  /** The HTML part of an email, sent alongside the text: checked like it (see checkHtml). */
  html?: string;
}

export interface ContentPolicy {
  orgName: string;
  allowedLinkDomains: readonly string[];
  smsMaxSegments: number;
  /** What ((report_url)) renders as (see reportUrlFor in template.ts). */
  reportUrl: string;
  longestInstitutionName: string;
}

export function checkContent(input: ContentInput, policy: ContentPolicy): Violation[] {
  const texts = [input.subject ?? '', input.body];
  const violations: Violation[] = [...emptyBody(input), ...missingSubject(input)];
  if (input.body.trim() === '') return violations;
  violations.push(
    ...texts.flatMap(unknownPlaceholderViolations),
    ...linkViolations(texts.join('\n'), policy),
    ...texts.flatMap(secretRequestViolations),
  );
  if (input.channel === 'sms') {
    violations.push(...senderNotNamed(input.body, policy.orgName), ...tooManySegments(input.body, policy));
  }
  if (input.channel === 'email' && input.html !== undefined && input.html.trim() !== '') violations.push(...checkHtml(input.html, policy));
  return violations;
}

// ---------------------------------------------------------------- basics

function emptyBody(input: ContentInput): Violation[] {
  if (input.body.trim() !== '') return [];
  const what = input.channel === 'sms' ? 'SMS' : 'email';
  return [{ rule: 'empty_body', message: `The ${what} has no text. Write the message before saving the template.` }];
}

function missingSubject(input: ContentInput): Violation[] {
  if (input.channel !== 'email' || (input.subject ?? '').trim() !== '') return [];
  return [
    {
      rule: 'missing_subject',
      message: 'The email has no subject. Add a subject line that says who the email is from and what it is about.',
    },
  ];
}

function unknownPlaceholderViolations(text: string): Violation[] {
  const allowed = KNOWN_PLACEHOLDERS.map((n) => `((${n}))`).join(', ');
  return unknownPlaceholders(text).map((name) => ({
    rule: 'unknown_placeholder' as const,
    message:
      name === ''
        ? `The template contains an empty placeholder "(())". Remove it or use one of ${allowed}.`
        : `The template uses ((${name})), which the system cannot fill. Check the spelling or use one of ${allowed}.`,
  }));
}

function senderNotNamed(body: string, orgName: string): Violation[] {
  const name = collapseSpaces(orgName).toLowerCase();
  if (name === '' || collapseSpaces(body).toLowerCase().includes(name)) return [];
  return [
    {
      rule: 'sender_not_named',
      message: `The SMS does not name the sender. Include "${orgName}" so recipients know who it is from.`,
    },
  ];
}

function collapseSpaces(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------- length

function tooManySegments(body: string, policy: ContentPolicy): Violation[] {
  const worst = longestRendering(body, {
    reportUrl: policy.reportUrl,
    institutionNames: [policy.longestInstitutionName],
  });
  const analysis = analyseSms(worst);
  if (analysis.segments <= policy.smsMaxSegments) return [];
  return [{ rule: 'too_many_segments', message: segmentsMessage(analysis, policy.smsMaxSegments) }];
}

function segmentsMessage(analysis: SmsAnalysis, maxSegments: number): string {
  const { encoding, characters, segments } = analysis;
  const limit = maxCharacters(encoding, maxSegments);
  const parts =
    `At its longest (a ${REFERENCE_MAX_LENGTH}-character reference, the report link and the longest ` +
    `institution name filled in) this SMS is ${characters} ${encoding} characters, ${segments} segments; ` +
    `the limit is ${maxSegments} (${limit} characters). Shorten it by at least ${plural(characters - limit, 'character')}.`;
  return encoding === 'UCS-2' ? `${parts} ${ucs2Hint(analysis)}` : parts;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function maxCharacters(encoding: SmsAnalysis['encoding'], maxSegments: number): number {
  const { single, perPart } = SMS_LIMITS[encoding];
  return maxSegments <= 1 ? Math.max(0, maxSegments) * single : maxSegments * perPart;
}

function ucs2Hint(analysis: SmsAnalysis): string {
  const chars = analysis.nonGsmCharacters.map((c) => `"${c.char}"`).join(' ');
  return (
    `It is sent as UCS-2 (70 characters per segment instead of 160) because of ${chars}; ` +
    'replacing them with plain characters allows more than twice as much text.'
  );
}

// ---------------------------------------------------------------- links

const COMMON_GENERIC_TLDS = new Set(
  (
    'com net org info biz io app dev xyz online site website top club shop store live link click ' +
    'gov edu mil int name pro mobi tel asia cloud tech web page blog news email help support bank ' +
    'finance financial money pay secure security login account services service center centre ' +
    'zip mov icu vip win work today life world global digital network systems solutions agency ' +
    'group company ltd plc limited london wales scot cymru police claims refund'
  ).split(' '),
);

const EMAIL_ADDRESS = /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+@(?:[\p{L}\p{N}-]+\.)+\p{L}{2,63}(?![\p{L}\p{N}\-/?#:@]|\.[\p{L}\p{N}])/gu;

const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?`;
const URL_TAIL = String.raw`[^\s<>"'\x60]*`;
const SCHEME_URL = String.raw`[a-z][a-z0-9+.\-]*:\/\/${URL_TAIL}`;
const BARE_URL = String.raw`(?:[^\s@\/<>"'\x60]+@)?(?:${LABEL}\.)+\p{L}{2,63}(?::\d{1,5})?(?:[\/?#]${URL_TAIL})?`;
const LINK_CANDIDATE = new RegExp(String.raw`(?<![\p{L}\p{N}_@.\-])(?:${SCHEME_URL}|${BARE_URL})`, 'giu');

export interface FoundLink {
  text: string;
  /** Lower-case ASCII host, or '' when the link cannot be parsed. */
  host: string;
}

/** Every link written in `text`, with or without a scheme. */
export function findLinks(text: string): FoundLink[] {
  const withoutEmails = text.replace(EMAIL_ADDRESS, (m) => ' '.repeat(m.length));
  const links: FoundLink[] = [];
  for (const match of withoutEmails.matchAll(LINK_CANDIDATE)) {
    const candidate = match[0].replace(/[.,;:!?)\]}'"]+$/u, '');
    if (looksLikeLink(candidate)) links.push({ text: candidate, host: hostOf(candidate) });
  }
  return links;
}

function hasScheme(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
}

function looksLikeLink(candidate: string): boolean {
  if (hasScheme(candidate) || /^www\./i.test(candidate) || /[@/?#:]/.test(candidate)) return true;
  const tld = candidate.slice(candidate.lastIndexOf('.') + 1).toLowerCase();
  return tld.length === 2 || COMMON_GENERIC_TLDS.has(tld);
}

// The WHATWG parser resolves the tricks a reader's eye does not: user-info
// (`police.uk@evil.com`), look-alike Unicode letters, upper case.
function hostOf(link: string): string {
  try {
    const url = new URL(hasScheme(link) ? link : `http://${link}`);
    return url.hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return '';
  }
}

/** True when `host` is one of `domains` or a subdomain of one. */
export function isAllowedHost(host: string, domains: readonly string[]): boolean {
  if (host === '') return false;
  return domains.map(normaliseDomain).some((d) => d !== '' && (host === d || host.endsWith(`.${d}`)));
}

function normaliseDomain(domain: string): string {
  const plain = domain.trim().toLowerCase().replace(/^\*?\./, '').replace(/\.$/, '');
  return domainToASCII(plain) || plain;
}

function linkViolations(text: string, policy: ContentPolicy): Violation[] {
  const ownHost = hostOf(policy.reportUrl);
  const seen = new Set<string>();
  const violations: Violation[] = [];
  for (const link of findLinks(text)) {
    if (link.host !== '' && (link.host === ownHost || isAllowedHost(link.host, policy.allowedLinkDomains))) continue;
    if (seen.has(link.text)) continue;
    seen.add(link.text);
    violations.push({ rule: 'link_not_allowed', message: linkMessage(link, policy.allowedLinkDomains) });
  }
  return violations;
}

function linkMessage(link: FoundLink, allowed: readonly string[]): string {
  const where = link.host === '' ? 'cannot be read as a web address' : `goes to ${link.host}`;
  const instead =
    allowed.length === 0
      ? 'No links are allowed: remove it.'
      : `Remove it, or link only to ${allowed.join(', ')} or their subdomains, so recipients can check the message is genuine.`;
  return `The link "${link.text}" ${where}, which is not an allowed domain. ${instead}`;
}

// ---------------------------------------------------------------- secrets

interface SecretTerm {
  label: string;
  words: readonly string[];
}

const SECRET_TERMS: readonly SecretTerm[] = [
  ...['code', 'passcode', 'password', 'pin'].map((w) => ({ label: `one-time ${w}`, words: ['one', 'time', w] })),
  ...['code', 'number', 'details'].map((w) => ({ label: `security ${w}`, words: ['security', w] })),
  ...['number', 'numbers', 'details'].map((w) => ({ label: `card ${w}`, words: ['card', w] })),
  ...['number', 'numbers', 'details'].map((w) => ({ label: `account ${w}`, words: ['account', w] })),
  ...['word', 'information', 'date'].map((w) => ({ label: `memorable ${w}`, words: ['memorable', w] })),
  { label: 'verification code', words: ['verification', 'code'] },
  { label: 'authentication code', words: ['authentication', 'code'] },
  { label: 'sort code', words: ['sort', 'code'] },
  { label: 'sort code', words: ['sort', 'codes'] },
  { label: 'bank details', words: ['bank', 'details'] },
  { label: 'banking details', words: ['banking', 'details'] },
  { label: 'login details', words: ['login', 'details'] },
  { label: 'login details', words: ['log', 'in', 'details'] },
  { label: 'card expiry date', words: ['expiry', 'date'] },
  { label: 'PIN', words: ['pin'] },
  { label: 'PIN', words: ['pins'] },
  { label: 'password', words: ['password'] },
  { label: 'password', words: ['passwords'] },
  { label: 'passcode', words: ['passcode'] },
  { label: 'passcode', words: ['passcodes'] },
  { label: 'one-time passcode (OTP)', words: ['otp'] },
  { label: 'one-time passcode (OTP)', words: ['otps'] },
  ...['cvv', 'cvv2', 'cvc', 'cv2'].map((w) => ({ label: 'CVV security code', words: [w] })),
].sort((a, b) => b.words.length - a.words.length);

const REQUEST_WORDS = new Set([
  'send', 'reply', 'respond', 'tell', 'give', 'provide', 'share', 'confirm', 'enter', 'verify',
  'submit', 'disclose', 'supply', 'quote', 'ask', 'request', 'need', 'require', "what's", 'whats',
]);
// Also nouns ("this text", "by email"): a request only at the start of a clause.
const IMPERATIVE_ONLY_WORDS = new Set(['text', 'email', 'type', 'input', 'update', 'key']);
const IMPERATIVE_LEAD_INS = new Set(['please', 'now', 'just', 'simply', 'then', 'and', 'kindly']);
const NEEDED_AFTER = new Set(['needed', 'required', 'requested']);
const NEGATIONS = new Set([
  'never', 'not', 'no', 'nobody', 'noone', 'neither', 'nor',
  'dont', 'wont', 'cant', 'cannot', 'shouldnt', 'mustnt', 'doesnt', 'didnt', 'isnt', 'arent', 'wouldnt',
]);
const THIRD_PARTIES = new Set([
  'fraudster', 'fraudsters', 'criminal', 'criminals', 'scammer', 'scammers', 'caller', 'callers',
  'crook', 'crooks', 'thief', 'thieves', 'impostor', 'impostors', 'imposter', 'imposters',
  'someone', 'somebody', 'they',
]);
const CLAUSE_BREAK_WORDS = new Set(['but', 'however', 'although', 'though']);
// A request word before one of these belongs to another clause: "call us if you shared your PIN".
const SUBORDINATORS = new Set(['if', 'when', 'whether', 'unless', 'because', 'since', 'after', 'before', 'once']);
const REQUEST_REACH = 8;
const NEEDED_REACH = 4;

interface Word {
  text: string;
  clause: number;
}

function secretRequestViolations(text: string): Violation[] {
  return splitSentences(text).flatMap((sentence) => {
    const asked = secretsAskedFor(sentence);
    if (asked.length === 0) return [];
    return [{ rule: 'asks_for_secret' as const, message: secretMessage(sentence, asked) }];
  });
}

function secretMessage(sentence: string, labels: readonly string[]): string {
  return (
    `"${sentence}" appears to ask the recipient for their ${joinWithOr(labels)}. ` +
    'A genuine police message never asks for this: remove the request, or say plainly that it will never be ' +
    'asked for (for example "We will never ask for your PIN or password").'
  );
}

function joinWithOr(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1) ?? ''}`;
}

function splitSentences(text: string): string[] {
  return text
    .split(/[.!?;:\n\r]+(?=\s|$)|\n|\s[-\u2013\u2014]+\s/u)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Labels of the secrets this sentence asks for, without repeats. */
export function secretsAskedFor(sentence: string): string[] {
  const words = toWords(sentence);
  const labels: string[] = [];
  for (let i = 0; i < words.length; ) {
    const term = secretTermAt(words, i);
    if (term === undefined) {
      i += 1;
      continue;
    }
    const end = i + term.words.length;
    if (isRequested(words, i, end) && !labels.includes(term.label)) labels.push(term.label);
    i = end;
  }
  return labels;
}

function toWords(sentence: string): Word[] {
  const normalised = sentence.toLowerCase().replace(/[\u2018\u2019\u02bc`\u00b4]/g, "'");
  const words: Word[] = [];
  let clause = 0;
  for (const [token] of normalised.matchAll(/[\p{L}\p{N}]+(?:'[\p{L}]+)?|,/gu)) {
    if (token === ',' || CLAUSE_BREAK_WORDS.has(token)) clause += 1;
    if (token !== ',') words.push({ text: token, clause });
  }
  return words;
}

function secretTermAt(words: readonly Word[], i: number): SecretTerm | undefined {
  return SECRET_TERMS.find((term) => term.words.every((w, k) => words[i + k]?.text === w));
}

function isRequested(words: readonly Word[], termStart: number, termEnd: number): boolean {
  const before = nearestRequestBefore(words, termStart);
  if (before !== undefined && isGenuineRequest(words, before)) return true;
  const after = neededAfter(words, termEnd);
  return after !== undefined && isGenuineRequest(words, after);
}

function nearestRequestBefore(words: readonly Word[], termStart: number): number | undefined {
  for (let k = termStart - 1; k >= Math.max(0, termStart - REQUEST_REACH); k -= 1) {
    if (isRequestWord(words, k)) return k;
    if (SUBORDINATORS.has(words[k]?.text ?? '')) return undefined;
  }
  return undefined;
}

function neededAfter(words: readonly Word[], termEnd: number): number | undefined {
  for (let k = termEnd; k < Math.min(words.length, termEnd + NEEDED_REACH); k += 1) {
    if (NEEDED_AFTER.has(words[k]?.text ?? '')) return k;
  }
  return undefined;
}

function isRequestWord(words: readonly Word[], k: number): boolean {
  const word = words[k]?.text ?? '';
  if (REQUEST_WORDS.has(word)) return true;
  if (word === 'what') return /^(is|are)$/.test(words[k + 1]?.text ?? '') && words[k + 2]?.text === 'your';
  return IMPERATIVE_ONLY_WORDS.has(word) && startsClause(words, k);
}

function startsClause(words: readonly Word[], k: number): boolean {
  const previous = words[k - 1];
  if (previous === undefined || previous.clause !== words[k]?.clause) return true;
  return IMPERATIVE_LEAD_INS.has(previous.text) && startsClause(words, k - 1);
}

/** A request word is a request unless negated or said of a third party earlier in its clause. */
function isGenuineRequest(words: readonly Word[], k: number): boolean {
  const clause = words[k]?.clause;
  const earlier = words.slice(0, k).filter((w) => w.clause === clause);
  return !earlier.some((w) => isNegation(w.text) || THIRD_PARTIES.has(w.text));
}

function isNegation(word: string): boolean {
  return NEGATIONS.has(word) || word.endsWith("n't");
}

// ---------------------------------------------------------------- HTML

/**
 * The HTML part under the rules of the text: its placeholders (anywhere in the
 * source, since all of it is rendered), what it shows (links, requests for secrets)
 * and every address it can send a reader to or load, plus what no warning email may
 * carry. Each message says it is about the HTML part and, for a URL, where it is.
 */
export function checkHtml(html: string, policy: ContentPolicy): Violation[] {
  const parts = readHtml(html);
  const inHtml = (v: Violation): Violation => ({ ...v, message: `In the HTML part: ${v.message}` });
  const shown = parts.texts.join('\n');
  const violations: Violation[] = [
    ...unknownPlaceholderViolations(html).map(inHtml),
    ...parts.banned.map((b) => ({ rule: 'html_not_allowed' as const, message: b.message })),
    ...parts.urls.flatMap((u) => htmlUrlViolation(u, policy)),
    ...linkViolations(shown, policy).map(inHtml),
    ...secretRequestViolations(shown).map(inHtml),
  ];
  const seen = new Set<string>();
  return violations.filter((v) => !seen.has(v.message) && seen.add(v.message));
}

const RELATIVE_BASE = 'https://relative.invalid/';
const SCRIPT_SCHEMES = new Set(['javascript:', 'vbscript:', 'data:']);
/** Not web links: a mailbox, a phone number, an image attached to the email itself. */
const NON_WEB_SCHEMES = new Set(['mailto:', 'tel:', 'cid:']);

function htmlUrlViolation(u: HtmlUrl, policy: ContentPolicy): Violation[] {
  // Placeholders are filled as at send time (the institution as a plain word), so
  // `((report_url))` passes and `https://((institution)).com` does not.
  const raw = longestRendering(u.url, { reportUrl: policy.reportUrl, institutionNames: ['institution'] }).trim();
  if (raw === '' || raw.startsWith('#')) return [];
  const url = parseUrl(raw);
  const shown = u.url.length > 200 ? `${u.url.slice(0, 200)}…` : u.url;
  if (url === null) {
    return [{ rule: 'link_not_allowed', message: `The HTML part has the address "${shown}" (in ${u.where}), which cannot be read as a web address. Remove it or write a full https:// address.` }];
  }
  if (SCRIPT_SCHEMES.has(url.protocol)) {
    return [{ rule: 'html_not_allowed', message: `The HTML part has a ${url.protocol} URL (in ${u.where}). A warning email must not carry scripts or embedded content: remove it.` }];
  }
  if (NON_WEB_SCHEMES.has(url.protocol)) return [];
  const allowed = policy.allowedLinkDomains;
  const instead = allowed.length === 0 ? 'No links are allowed: remove it.' : `Link only to ${allowed.join(', ')} or their subdomains.`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return [{ rule: 'link_not_allowed', message: `The HTML part has the address "${shown}" (in ${u.where}), which uses the ${url.protocol} scheme. ${instead}` }];
  }
  if (url.hostname === new URL(RELATIVE_BASE).hostname) {
    return [{ rule: 'link_not_allowed', message: `The HTML part has the relative address "${shown}" (in ${u.where}); an email has no site for it to be relative to. Write the full https:// address. ${instead}` }];
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host === hostOf(policy.reportUrl) || isAllowedHost(host, allowed)) return [];
  return [{ rule: 'link_not_allowed', message: `The HTML part links to "${shown}" (in ${u.where}), which goes to ${host}, not an allowed domain. ${instead}` }];
}

// Absolute first: with no base, `https:evil.example` is https://evil.example/ (as a
// mail client reads it); only what is not absolute is resolved against a stand-in base.
function parseUrl(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    try {
      return new URL(raw, RELATIVE_BASE);
    } catch {
      return null;
    }
  }
}
