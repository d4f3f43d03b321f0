import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUkMobile, normalisePhone, PHONE_REJECT_REASONS, type PhoneRejectReason } from '../../src/common/phone.js';
import {
  DatasetArgsError,
  generateDataset,
  loadInstitutions,
  type Manifest,
  parseGenerateArgs,
  validateGenerateOptions,
  writtenForms,
} from '../../seeds/dataset-generator.js';

const TARGETS = 2_000;
const CALLS = 20_000;
const SEED = 42;

type CallRow = { call_id: string; started_at: string; duration_seconds: string; account_id: string; caller_id: string; target_number: string };
type ContactRow = { phone: string; email: string; full_name: string; source: string };

const root = mkdtempSync(path.join(tmpdir(), 'dataset-generator-'));
const dirA = path.join(root, 'a');
const dirB = path.join(root, 'b');
const dirOther = path.join(root, 'other');
let manifestA: Manifest;
let manifestB: Manifest;
let manifestOther: Manifest;
let calls: CallRow[];
let contacts: ContactRow[];
const progress: { phase: string; done: number; total: number }[] = [];

const read = (dir: string, file: string) => readFileSync(path.join(dir, file));
const withoutTime = (m: Manifest) => ({ ...m, generatedAt: undefined });
/** What an importer should accept as an email: anything else (but empty) is invalid. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

beforeAll(async () => {
  manifestA = await generateDataset({ outDir: dirA, targets: TARGETS, calls: CALLS, seed: SEED, onProgress: (p) => progress.push(p) });
  manifestB = await generateDataset({ outDir: dirB, targets: TARGETS, calls: CALLS, seed: SEED });
  manifestOther = await generateDataset({ outDir: dirOther, targets: TARGETS, calls: CALLS, seed: SEED + 1 });
  calls = parse(read(dirA, 'calls.csv'), { columns: true }) as CallRow[];
  contacts = parse(read(dirA, 'contacts.csv'), { columns: true }) as ContactRow[];
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('determinism', () => {
  it('gives byte-identical files for the same seed', () => {
    expect(read(dirA, 'calls.csv').equals(read(dirB, 'calls.csv'))).toBe(true);
    expect(read(dirA, 'contacts.csv').equals(read(dirB, 'contacts.csv'))).toBe(true);
    expect(withoutTime(manifestA)).toEqual(withoutTime(manifestB));
  });

  it('gives different data for another seed', () => {
    expect(read(dirA, 'calls.csv').equals(read(dirOther, 'calls.csv'))).toBe(false);
    expect(manifestOther.seed).toBe(SEED + 1);
  });

  it('writes manifest.json, equal to the returned manifest', () => {
    const onDisk = JSON.parse(read(dirA, 'manifest.json').toString('utf8')) as Manifest;
    expect(onDisk).toEqual(manifestA);
    expect(onDisk.seed).toBe(SEED);
    expect(onDisk.targets).toBe(TARGETS);
    expect(onDisk.request).toEqual({ targets: TARGETS, calls: CALLS, seed: SEED });
    expect(Number.isNaN(Date.parse(onDisk.generatedAt))).toBe(false);
    expect(onDisk.generator.longCallRule).toBe('duration_seconds >= 60');
  });

  it('reports progress up to the totals', () => {
    expect(progress).toContainEqual({ phase: 'calls', done: CALLS, total: CALLS });
    expect(progress).toContainEqual({ phase: 'contacts', done: TARGETS, total: TARGETS });
  });
});

describe('files', () => {
  it('have the specified headers', () => {
    expect(read(dirA, 'calls.csv').toString('utf8').split('\n', 1)[0]).toBe('call_id,started_at,duration_seconds,account_id,caller_id,target_number');
    expect(read(dirA, 'contacts.csv').toString('utf8').split('\n', 1)[0]).toBe('phone,email,full_name,source');
  });

  it('have one row per call with well-formed fields, in time order', () => {
    expect(calls).toHaveLength(CALLS);
    let previous = '';
    const bad: string[] = [];
    calls.forEach((c, i) => {
      if (c.call_id !== String(i + 1)) bad.push(`call_id ${c.call_id} at ${i}`);
      if (!/^202[12]-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(c.started_at) || Number.isNaN(Date.parse(c.started_at))) bad.push(`started_at ${c.started_at}`);
      if (c.started_at < previous) bad.push(`out of order ${c.started_at} < ${previous}`);
      previous = c.started_at;
      if (!/^\d+$/.test(c.duration_seconds)) bad.push(`duration ${c.duration_seconds}`);
      if (!/^acct_\d+$/.test(c.account_id)) bad.push(`account ${c.account_id}`);
      if (!normalisePhone(c.caller_id).ok) bad.push(`caller ${c.caller_id}`);
    });
    expect(bad).toEqual([]);
    expect(calls[0].started_at >= '2021-01-01T00:00:00Z').toBe(true);
    expect(calls[CALLS - 1].started_at < '2023-01-01T00:00:00Z').toBe(true);
  });
});

describe('manifest matches the files (re-derived with csv-parse + normalisePhone)', () => {
  it('calls and victims', () => {
    const reasons: Partial<Record<PhoneRejectReason, number>> = {};
    const victims = new Map<string, { long: boolean; type: string }>();
    let accepted = 0;
    let longCalls = 0;
    for (const c of calls) {
      const n = normalisePhone(c.target_number);
      if (!n.ok) {
        reasons[n.reason] = (reasons[n.reason] ?? 0) + 1;
        continue;
      }
      accepted++;
      const long = Number(c.duration_seconds) >= 60;
      if (long) longCalls++;
      const v = victims.get(n.e164) ?? { long: false, type: n.type };
      v.long ||= long;
      victims.set(n.e164, v);
    }
    const m = manifestA;
    expect(m.calls.rowsTotal).toBe(CALLS);
    expect(m.calls.rowsAccepted).toBe(accepted);
    expect(m.calls.rowsRejected).toBe(CALLS - accepted);
    expect(m.calls.rejectedByReason).toEqual(reasons);
    expect(m.calls.longCalls).toBe(longCalls);
    expect(m.victims.distinct).toBe(victims.size);
    const all = [...victims.entries()];
    expect(m.victims.withLongCall).toBe(all.filter(([, v]) => v.long).length);
    expect(m.victims.mobiles).toBe(all.filter(([, v]) => v.type === 'mobile').length);
    expect(m.victims.ukMobiles).toBe(all.filter(([e164]) => isUkMobile(e164)).length);
    expect(m.victims.fixedLines).toBe(all.filter(([, v]) => v.type === 'fixed_line').length);
    expect(m.victims.other).toBe(all.filter(([, v]) => v.type === 'other').length);
    for (const reason of Object.keys(reasons)) expect(PHONE_REJECT_REASONS).toContain(reason);
  });

  it('institutions and accounts', () => {
    const byId = new Map<string, string>();
    for (const inst of loadInstitutions()) for (const id of inst.callerIds) byId.set(id, inst.code);
    const callsByCode: Record<string, number> = {};
    const victimsByCode: Record<string, Set<string>> = {};
    let unattributed = 0;
    for (const c of calls) {
      const n = normalisePhone(c.target_number);
      if (!n.ok) continue;
      const caller = normalisePhone(c.caller_id);
      const code = caller.ok ? byId.get(caller.e164) : undefined;
      if (code === undefined) {
        unattributed++;
        continue;
      }
      callsByCode[code] = (callsByCode[code] ?? 0) + 1;
      (victimsByCode[code] ??= new Set()).add(n.e164);
    }
    for (const [code, n] of Object.entries(manifestA.institutions.callsByCode)) {
      expect([code, n]).toEqual([code, callsByCode[code] ?? 0]);
      expect([code, manifestA.institutions.victimsByCode[code]]).toEqual([code, victimsByCode[code]?.size ?? 0]);
    }
    expect(manifestA.institutions.callsUnattributed).toBe(unattributed);
    expect(manifestA.accounts.distinct).toBe(new Set(calls.map((c) => c.account_id)).size);
  });

  it('contacts', () => {
    const victims = new Set(calls.map((c) => normalisePhone(c.target_number)).flatMap((n) => (n.ok ? [n.e164] : [])));
    let accepted = 0;
    let badPhone = 0;
    let badEmail = 0;
    let withoutEmail = 0;
    let matched = 0;
    const victimsMatched = new Set<string>();
    for (const c of contacts) {
      const n = normalisePhone(c.phone);
      if (!n.ok) {
        badPhone++;
        continue;
      }
      if (c.email !== '' && !EMAIL.test(c.email)) {
        badEmail++;
        continue;
      }
      accepted++;
      if (c.email === '') withoutEmail++;
      if (victims.has(n.e164)) {
        matched++;
        victimsMatched.add(n.e164);
      }
    }
    const m = manifestA.contacts;
    expect(m.rowsTotal).toBe(contacts.length);
    expect(m.rowsAccepted).toBe(accepted);
    expect(m.rowsRejected).toBe(contacts.length - accepted);
    expect(m.rejectedBadPhone).toBe(badPhone);
    expect(m.rejectedBadEmail).toBe(badEmail);
    expect(m.acceptedWithoutEmail).toBe(withoutEmail);
    expect(m.matched).toBe(matched);
    expect(m.victimsMatched).toBe(victimsMatched.size);
  });
});

describe('shape', () => {
  it('has ≈10 % of calls lasting a minute or more', () => {
    const share = calls.filter((c) => Number(c.duration_seconds) >= 60).length / calls.length;
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.12);
  });

  it('has mostly UK mobiles, some landlines, foreign numbers and junk', () => {
    const v = manifestA.victims;
    expect(v.ukMobiles / TARGETS).toBeGreaterThan(0.8);
    expect(v.ukMobiles / TARGETS).toBeLessThan(0.9);
    expect(v.fixedLines / TARGETS).toBeGreaterThan(0.05);
    const foreign = v.distinct - v.ukMobiles - v.fixedLines;
    expect(foreign / TARGETS).toBeGreaterThan(0.03);
    expect(foreign / TARGETS).toBeLessThan(0.08);
    expect((TARGETS - v.distinct) / TARGETS).toBeGreaterThan(0.005);
    expect((TARGETS - v.distinct) / TARGETS).toBeLessThan(0.04);
  });

  it('calls every target at least once, heavy-tailed', () => {
    const perTarget = new Map<string, number>();
    for (const c of calls) {
      const n = normalisePhone(c.target_number);
      if (n.ok) perTarget.set(n.e164, (perTarget.get(n.e164) ?? 0) + 1);
    }
    const counts = [...perTarget.values()].sort((a, b) => a - b);
    expect(counts.length).toBe(manifestA.victims.distinct);
    expect(counts[0]).toBeGreaterThanOrEqual(1);
    const median = counts[Math.floor(counts.length / 2)];
    const max = counts[counts.length - 1];
    expect(max).toBeGreaterThan(20 * median);
  });

  it('writes numbers in all the forms of the evidence, one person under several', () => {
    const targets = calls.map((c) => c.target_number);
    const patterns = {
      national: /^07\d{9}$/,
      nationalSpaced: /^07\d{3} \d{6}$/,
      intlSpaced: /^\+44 7\d{3} \d{6}$/,
      doubleZeroDashed: /^0044 7\d{3}-\d{3}-\d{3}$/,
      bareCountryCode: /^447\d{9}$/,
      intlTrunk: /^\+44 \(0\)7\d{3} \d{6}$/,
      e164: /^\+447\d{9}$/,
      dotted: /^07\d{3}\.\d{3}\.\d{3}$/,
      paren: /^\(07\d{3}\) \d{6}$/,
      landline: /^(\+44 |0|0044 |\+44 \(0\))?(20|1\d1|11\d)[ \-.]?\d/,
      foreign: /^(\+|00)(1|33|353|91|34|49|61|48|234)[ -]?\d/,
    };
    for (const [name, re] of Object.entries(patterns)) expect([name, targets.some((t) => re.test(t))]).toEqual([name, true]);
    const spellings = new Map<string, Set<string>>();
    for (const t of targets) {
      const n = normalisePhone(t);
      if (n.ok) (spellings.get(n.e164) ?? spellings.set(n.e164, new Set()).get(n.e164)!).add(t);
    }
    const several = [...spellings.values()].filter((s) => s.size >= 2).length;
    expect(several / spellings.size).toBeGreaterThan(0.5);
  });

  it('scales the fraudster accounts down for small sets and caps them at 3,000', () => {
    expect(manifestA.accounts.distinct).toBeLessThanOrEqual(Math.ceil(CALLS / 50));
    expect(manifestA.accounts.distinct).toBeGreaterThan(100);
  });

  it('attributes most calls to an institution', () => {
    const attributed = Object.values(manifestA.institutions.callsByCode).reduce((a, b) => a + b, 0);
    expect(attributed / manifestA.calls.rowsAccepted).toBeGreaterThan(0.8);
    expect(manifestA.institutions.callsUnattributed).toBeGreaterThan(0);
  });

  it('gives ≈30 % of victims a contact, with example.* emails only, mixed case, a few invalid', () => {
    const share = manifestA.contacts.victimsMatched / manifestA.victims.distinct;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.35);
    const emails = contacts.map((c) => c.email).filter((e) => EMAIL.test(e));
    for (const e of emails) expect(e.toLowerCase()).toMatch(/@([a-z]+\.)?example\.(com|org|net)$/);
    expect(emails.some((e) => e !== e.toLowerCase())).toBe(true);
    expect(manifestA.contacts.rejectedBadEmail).toBeGreaterThan(0);
    expect(manifestA.contacts.rejectedBadPhone).toBeGreaterThan(0);
    expect(manifestA.contacts.rowsAccepted).toBeGreaterThan(manifestA.contacts.matched); // some contacts are not in the evidence
    expect(new Set(contacts.map((c) => c.source))).toEqual(new Set(['action_fraud', 'bank']));
    expect(contacts.every((c) => c.full_name.trim().length > 0)).toBe(true);
  });
});

describe('written forms agree with normalisePhone', () => {
  it('every form of every generated valid target normalises to the E.164 the generator meant', () => {
    const victims = new Set<string>();
    for (const c of calls) {
      const n = normalisePhone(c.target_number);
      if (n.ok) victims.add(n.e164);
    }
    const wrong: string[] = [];
    for (const e164 of victims) {
      for (const raw of writtenForms(e164)) {
        const n = normalisePhone(raw);
        if (!n.ok || n.e164 !== e164) wrong.push(`${raw} → ${JSON.stringify(n)} (meant ${e164})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('covers the forms named in the spec', () => {
    expect(writtenForms('+447723456789')).toEqual(
      expect.arrayContaining(['07723 456789', '+44 7723 456789', '0044 7723-456-789', '447723456789', '+44 (0)7723 456789']),
    );
    expect(writtenForms('+442079460123')).toContain('020 7946 0123');
    expect(writtenForms('+441614960000')).toContain('0161 496 0000');
  });
});

describe('institutions.csv', () => {
  it('lists ~20 banks and bodies, each with 1-3 distinct valid E.164 caller ids', () => {
    const list = loadInstitutions();
    expect(list.length).toBeGreaterThanOrEqual(18);
    const names = list.map((i) => i.name).join('|');
    for (const n of ['Barclays', 'HSBC', 'Lloyds', 'NatWest', 'Santander', 'Halifax', 'Nationwide', 'TSB', 'Monzo', 'Starling', 'Metro Bank', 'Co-operative', 'Virgin Money', 'First Direct', 'Royal Bank of Scotland', 'Bank of Scotland', 'HM Revenue', 'Amazon']) {
      expect(names).toContain(n);
    }
    const ids = list.flatMap((i) => i.callerIds);
    expect(new Set(ids).size).toBe(ids.length);
    for (const inst of list) {
      expect(inst.callerIds.length).toBeGreaterThanOrEqual(1);
      expect(inst.callerIds.length).toBeLessThanOrEqual(3);
      for (const id of inst.callerIds) expect(normalisePhone(id)).toMatchObject({ ok: true, e164: id });
    }
  });
});

describe('arguments', () => {
  it('parses --out, --targets, --calls, --seed in both spellings and with suffixes', () => {
    expect(parseGenerateArgs(['--out', '/tmp/x', '--targets', '200k', '--calls=10_000_000', '--seed', '7'])).toEqual({
      outDir: '/tmp/x',
      targets: 200_000,
      calls: 10_000_000,
      seed: 7,
    });
    expect(parseGenerateArgs(['--out=/tmp/x', '--calls', '2M'])).toEqual({ outDir: '/tmp/x', targets: 200_000, calls: 2_000_000, seed: 1 });
    expect(parseGenerateArgs(['--out', 'd'])).toEqual({ outDir: 'd', targets: 200_000, calls: 2_000_000, seed: 1 });
    expect(parseGenerateArgs(['--out', 'd', '--targets', '10'])).toEqual({ outDir: 'd', targets: 10, calls: 100, seed: 1 });
    expect(parseGenerateArgs(['--out', 'd', '--seed', '0']).seed).toBe(0);
  });

  it.each([
    [[], /--out DIR is required/],
    [['--out'], /needs a value/],
    [['--out', 'd', '--targets', 'abc'], /--targets must be a whole number/],
    [['--out', 'd', '--targets', '0'], /--targets must be a whole number ≥ 1/],
    [['--out', 'd', '--calls', '-5'], /--calls must be a whole number/],
    [['--out', 'd', '--calls', '1.5'], /--calls must be a whole number/],
    [['--out', 'd', '--targets', '100', '--calls', '99'], /calls \(99\) must be at least targets \(100\)/],
    [['--out', 'd', '--foo', '1'], /unknown option '--foo'/],
    [['--out', 'd', '--seed', '1', '--seed', '2'], /given twice/],
    [['d'], /unexpected argument 'd'/],
  ] as [string[], RegExp][])('%j is refused with a clear message', (argv, message) => {
    expect(() => parseGenerateArgs(argv)).toThrow(DatasetArgsError);
    expect(() => parseGenerateArgs(argv)).toThrow(message);
  });

  it('generateDataset refuses bad options before touching the disk', async () => {
    const out = path.join(root, 'never');
    await expect(generateDataset({ outDir: out, targets: 10, calls: 9, seed: 1 })).rejects.toThrow(/every target is called at least once/);
    await expect(generateDataset({ outDir: out, targets: 0, calls: 9, seed: 1 })).rejects.toThrow(DatasetArgsError);
    await expect(generateDataset({ outDir: out, targets: 1, calls: 1, seed: -1 })).rejects.toThrow(/seed/);
    expect(existsSync(out)).toBe(false);
    expect(() => validateGenerateOptions({ outDir: 'x', targets: 1.5, calls: 2, seed: 1 })).toThrow(/targets/);
  });

  it('generates the smallest possible set: one target, one call', async () => {
    const out = path.join(root, 'tiny');
    const m = await generateDataset({ outDir: out, targets: 1, calls: 1, seed: 3 });
    expect(m.calls.rowsTotal).toBe(1);
    expect(m.calls.rowsAccepted + m.calls.rowsRejected).toBe(1);
    expect(m.accounts.distinct).toBe(1);
    expect(readFileSync(path.join(out, 'calls.csv'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
