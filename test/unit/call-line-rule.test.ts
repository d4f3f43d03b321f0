import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../seeds/dataset-generator.js';
import { mapHeader } from '../../src/common/csv-records.js';
import { normalisePhone, normalisePhoneBytes } from '../../src/common/phone.js';
import { isoTimestamp, isoTimestampMicros } from '../../src/common/timestamps.js';
import { BlockResult, HeaderMap, parseBlock, RowRule } from '../../src/modules/evidence/block-parser.js';
import { makeCallRow } from '../../src/modules/evidence/call-import.spec.js';
import { CALL_COLUMNS } from '../../src/modules/evidence/call-record-row.js';

/**
 * Call-record lines are read two ways: plain lines straight from their bytes, every other
 * line as CSV fields through callRowToCopy. The byte path is only an optimisation, so a
 * block must give exactly the same COPY bytes, counts and rejected rows either way.
 */

const INSTITUTIONS: Array<[string, number]> = [
  ['+443069990101', 1],
  ['+442079460101', 2],
  ['+448081570101', 3],
];

/** The row rule with its byte path, and the same rule with the byte path taken away. */
function rules(): { both: RowRule; fieldsOnly: RowRule } {
  const both = makeCallRow(INSTITUTIONS);
  const plain = makeCallRow(INSTITUTIONS);
  const fieldsOnly: RowRule = (fields, index, width, key, line) => plain(fields, index, width, key, line);
  return { both, fieldsOnly };
}

function header(text: string): HeaderMap {
  const h = mapHeader(text.split(','), CALL_COLUMNS);
  if (!h.ok) throw new Error(h.message);
  return h;
}

function parseBoth(headerLine: string, body: string | Buffer, firstLine = 2): { fast: BlockResult; slow: BlockResult } {
  const { both, fieldsOnly } = rules();
  const h = header(headerLine);
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return { fast: parseBlock(both, h, '7', bytes, firstLine), slow: parseBlock(fieldsOnly, h, '7', bytes, firstLine) };
}

/**
 * Both paths' rows as text COPY lines in line order, as Postgres would read them:
 * binary rows decoded, and whole numbers in text rows without leading zeros.
 */
function rowsOf(r: BlockResult): string[] {
  const ints = new Set([0, 1, 4, 7]);
  const text = Buffer.from(r.copy ?? [])
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t').map((v, i) => (ints.has(i) && v !== '\\N' ? String(Number(v)) : v)).join('\t'));
  const lines = [...text, ...decodeBinaryRows(Buffer.from(r.binary ?? []))];
  return lines.sort((a, b) => Number(a.split('\t')[1]) - Number(b.split('\t')[1]));
}

function expectSame(fast: BlockResult, slow: BlockResult): void {
  expect(slow.binary).toBeNull();
  expect(rowsOf(fast)).toEqual(rowsOf(slow));
  expect({ ...fast, copy: null, binary: null }).toEqual({ ...slow, copy: null, binary: null });
}

/**
 * Binary COPY rows of call_records (CALL_COPY_COLUMNS) back to the text line
 * callRowToCopy writes: the byte path only takes lines whose values need no escaping.
 */
function decodeBinaryRows(b: Buffer): string[] {
  const types = ['int4', 'int4', 'text', 'timestamptz', 'int4', 'text', 'text', 'int2', 'text', 'text'];
  const out: string[] = [];
  let p = 0;
  while (p < b.length) {
    expect(b.readInt16BE(p)).toBe(types.length);
    p += 2;
    const fields: string[] = [];
    for (const type of types) {
      const len = b.readInt32BE(p);
      p += 4;
      if (len === -1) {
        fields.push('\\N');
        continue;
      }
      const v = b.subarray(p, p + len);
      p += len;
      if (type === 'int4') fields.push(String((expect(len).toBe(4), v.readInt32BE(0))));
      else if (type === 'int2') fields.push(String((expect(len).toBe(2), v.readInt16BE(0))));
      else if (type === 'timestamptz') fields.push(new Date(Number(v.readBigInt64BE(0) / 1000n) + Date.UTC(2000, 0, 1)).toISOString().replace('.000Z', 'Z'));
      else fields.push(v.toString('utf8'));
    }
    out.push(fields.join('\t'));
  }
  return out;
}

const HEADER = CALL_COLUMNS.join(',');

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return s / 2 ** 32;
  };
}

describe('reading plain call-record lines from bytes', () => {
  let dir: string;
  let calls: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'line-rule-'));
    await generateDataset({ outDir: dir, targets: 3_000, calls: 30_000, seed: 5 });
    calls = readFileSync(path.join(dir, 'calls.csv'));
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the same COPY bytes, counts and rejected rows as the field path on a generated file', () => {
    const nl = calls.indexOf(10);
    const { fast, slow } = parseBoth(calls.toString('utf8', 0, nl), calls.subarray(nl + 1));
    expectSame(fast, slow);
    expect(fast.total).toBe(30_000);
    expect(fast.rejected).toBeGreaterThan(0);
  });

  it('takes nearly every accepted line of a generated file on the byte path', () => {
    const nl = calls.indexOf(10);
    const { both } = rules();
    let viaFields = 0;
    const counting: RowRule = Object.assign(
      (f: string[], i: Record<string, number>, w: number, k: string, l: number) => {
        const r = both(f, i, w, k, l);
        if (typeof r === 'string') viaFields++;
        return r;
      },
      { lines: both.lines },
    );
    const r = parseBlock(counting, header(calls.toString('utf8', 0, nl)), '7', calls.subarray(nl + 1), 2);
    expect(viaFields / r.accepted).toBeLessThan(0.01);
  });

  it('gives the same result for blocks cut at any line', () => {
    const nl = calls.indexOf(10);
    const body = calls.subarray(nl + 1);
    const cuts = [0];
    for (let i = body.indexOf(10, 50_000); i !== -1 && cuts.length < 20; i = body.indexOf(10, i + 70_000)) cuts.push(i + 1);
    cuts.push(body.length);
    let line = 2;
    for (let c = 1; c < cuts.length; c++) {
      const block = body.subarray(cuts[c - 1], cuts[c]);
      const { fast, slow } = parseBoth(HEADER, block, line);
      expectSame(fast, slow);
      line += block.toString('latin1').split('\n').length - 1;
    }
  });
});

describe('lines the byte path must hand to the field path', () => {
  const ok = '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,07723 456789';
  const cases: Record<string, string> = {
    'a quoted field': '"1",2021-01-01T00:00:04Z,61,acct_1,+443069990101,07723 456789',
    'a quoted field with a comma': '1,2021-01-01T00:00:04Z,61,"acct,1",+443069990101,07723 456789',
    'a quoted field over two lines': '1,2021-01-01T00:00:04Z,61,"acct\n1",+443069990101,07723 456789',
    'an unterminated quote': '1,2021-01-01T00:00:04Z,61,"acct_1,+443069990101,07723 456789',
    'a backslash': '1\\2,2021-01-01T00:00:04Z,61,acct_1,+443069990101,07723 456789',
    'a tab': '1\t2,2021-01-01T00:00:04Z,61,acct_1,+443069990101,07723 456789',
    'non-ASCII text': '1,2021-01-01T00:00:04Z,61,compte_é,+443069990101,07723 456789',
    'a non-breaking space in the number': '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,07723\u00a0456789',
    'an en dash in the number': '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,07723\u2013456789',
    'invalid UTF-8': '1,2021-01-01T00:00:04Z,61,acct_\xff,+443069990101,07723 456789',
    'too few fields': '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101',
    'too many fields': ok + ',extra',
    'a date with an offset': '1,2021-01-01T00:00:04+01:00,61,acct_1,+443069990101,07723 456789',
    'a date without a zone': '1,2021-01-01 00:00:04,61,acct_1,+443069990101,07723 456789',
    'a date with fractions': '1,2021-01-01T00:00:04.123Z,61,acct_1,+443069990101,07723 456789',
    '30 February': '1,2021-02-30T00:00:04Z,61,acct_1,+443069990101,07723 456789',
    '29 February in a leap year': '1,2024-02-29T23:59:59Z,61,acct_1,+443069990101,07723 456789',
    'hour 24': '1,2021-01-01T24:00:04Z,61,acct_1,+443069990101,07723 456789',
    'second 60': '1,2021-01-01T00:00:60Z,61,acct_1,+443069990101,07723 456789',
    'a letter in the time': '1,2021-01-01T0a:00:04Z,61,acct_1,+443069990101,07723 456789',
    'a negative duration': '1,2021-01-01T00:00:04Z,-1,acct_1,+443069990101,07723 456789',
    'a fractional duration': '1,2021-01-01T00:00:04Z,1.5,acct_1,+443069990101,07723 456789',
    'a duration over a week': '1,2021-01-01T00:00:04Z,604801,acct_1,+443069990101,07723 456789',
    'a duration of exactly a week': '1,2021-01-01T00:00:04Z,604800,acct_1,+443069990101,07723 456789',
    'ten digits of duration': '1,2021-01-01T00:00:04Z,0000000061,acct_1,+443069990101,07723 456789',
    'an empty duration': '1,2021-01-01T00:00:04Z,,acct_1,+443069990101,07723 456789',
    'a 201-character account': `1,2021-01-01T00:00:04Z,61,${'a'.repeat(201)},+443069990101,07723 456789`,
    'a 200-character account': `1,2021-01-01T00:00:04Z,61,${'a'.repeat(200)},+443069990101,07723 456789`,
    'a junk target': '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,sip:907669@10.0.0.142',
    'SQL in the target': "1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,07723'; DROP TABLE victims;--",
    'an empty target': '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,',
    'a foreign target': '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,+1 212 555 0123',
    'a free-phone target': '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,0800 123 4567',
    'a target with two pluses': '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,++447723456789',
    'a plus after digits': '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,44+7723456789',
    'a 65-character target': `1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,07723456789${' '.repeat(54)}`,
    'a reserved test number': '1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,07700 900003',
  };
  const padded: Record<string, string> = {
    'spaces around every field': ' 1 , 2021-01-01T00:00:04Z , 61 , acct_1 , +443069990101 , 07723 456789 ',
    'empty call and account ids': ',2021-01-01T00:00:04Z,61,,+443069990101,07723 456789',
    'an empty caller': '1,2021-01-01T00:00:04Z,61,acct_1,,07723 456789',
    'a caller that is not a number': '1,2021-01-01T00:00:04Z,61,acct_1,BARCLAYS,07723 456789',
    'an unknown caller': '1,2021-01-01T00:00:04Z,61,acct_1,+44 20 7946 0999,07723 456789',
    'the same caller written another way': '1,2021-01-01T00:00:04Z,61,acct_1,0306 999 0101,07723 456789',
    'a CRLF line end': ok + '\r',
    'every written form of a number': [
      '07723 456789', '+44 7723 456789', '0044 7723-456-789', '447723456789', '+44 (0)7723 456789', '020 7946 0018', '+44 (0) 20-7946-0018', '0113 496 0000',
    ].map((n, i) => `${i},2021-01-01T00:00:04Z,61,acct_1,+443069990101,${n}`).join('\n'),
  };

  for (const [name, line] of Object.entries({ ...cases, ...padded })) {
    it(`${name}: same result either way`, () => {
      const body = Buffer.from(`${ok}\n${line}\n${ok}\n`, name === 'invalid UTF-8' ? 'latin1' : 'utf8');
      const { fast, slow } = parseBoth(HEADER, body);
      expectSame(fast, slow);
    });
  }

  it('blank lines, a last line without a line end, and a quoted record across the end of a block', () => {
    for (const body of [`${ok}\n\n\r\n${ok}`, `${ok}\n"1,2021-01-01T00:00:04Z,61,acct_1,+443069990101,07723 456789\n${ok}\n`, `\n${ok}\r`]) {
      const { fast, slow } = parseBoth(HEADER, body);
      expectSame(fast, slow);
    }
  });

  it('columns in another order, and extra columns', () => {
    const h = 'target_number,extra,caller_id,account_id,duration_seconds,started_at,call_id';
    const body = ['07723 456789,x,+443069990101,acct_1,61,2021-01-01T00:00:04Z,1', '07723 456789,"a,b",+443069990101,acct_1,61,2021-01-01T00:00:04Z,2', '07723 456789,é,+443069990101,acct_1,61,2021-01-01T00:00:04Z,3'].join('\n');
    const { fast, slow } = parseBoth(h, body);
    expectSame(fast, slow);
    expect(fast.accepted).toBe(3);
  });

  it('random damage to generated-looking lines', () => {
    const next = random(11);
    const alphabet = ['"', ',', ' ', '\\', '\t', '\r', '\n', 'é', '+', '0', '7', '(', ')', '-', 'Z', 'T', ':', 'x', '\u00a0'];
    const lines: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const chars = [...ok];
      for (let k = Math.floor(next() * 3); k > 0; k--) {
        const at = Math.floor(next() * (chars.length + 1));
        const c = alphabet[Math.floor(next() * alphabet.length)];
        if (next() < 0.5) chars.splice(at, 1, c);
        else chars.splice(at, 0, c);
      }
      lines.push(chars.join(''));
    }
    const { fast, slow } = parseBoth(HEADER, lines.join('\n') + '\n');
    expectSame(fast, slow);
    expect(fast.accepted).toBeGreaterThan(500);
  });
});

describe('the byte readers agree with the string ones', () => {
  it('normalisePhoneBytes = normalisePhone on random ASCII numbers', () => {
    const next = random(3);
    const parts = ['0', '7', '4', '1', '2', '8', '9', '3', ' ', '-', '.', '(', ')', '/', '+', '00', '44', '+44', '0044', 'x', '#'];
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      for (let k = 1 + Math.floor(next() * 16); k > 0; k--) s += parts[Math.floor(next() * parts.length)];
      if (next() < 0.3) s = (next() < 0.5 ? '07' : '+447') + s.replace(/[^0-9]/g, '').slice(0, 9).padEnd(9, '1');
      const b = Buffer.from(`,${s},`, 'latin1');
      expect(normalisePhoneBytes(b, 1, b.length - 1), s).toEqual(normalisePhone(s));
    }
  });

  it('isoTimestampMicros reads only what isoTimestamp returns unchanged, as the instant it names', () => {
    const next = random(9);
    const pick = (a: string[]) => a[Math.floor(next() * a.length)];
    for (let i = 0; i < 20_000; i++) {
      const s = `${pick(['1969', '1970', '2000', '2021', '2024', '2100', '2101', '20x1'])}-${pick(['00', '01', '02', '12', '13', '1a'])}-${pick(['00', '01', '28', '29', '30', '31', '32'])}${pick(['T', 'T', ' '])}${pick(['00', '23', '24', '9'])}:${pick(['00', '59', '60'])}:${pick(['00', '59', '60', '5'])}${pick(['Z', 'Z', 'z', '+01:00', ''])}`;
      const b = Buffer.from(s, 'latin1');
      const fastShape = isoTimestamp(s) === s && s.length === 20 && s.endsWith('Z') && s[10] === 'T';
      const micros = isoTimestampMicros(b, 0, b.length);
      if (fastShape) expect(micros, s).toBe((Date.parse(s) - Date.UTC(2000, 0, 1)) * 1000);
      else expect(micros, s).toBeNaN();
    }
  });
});
