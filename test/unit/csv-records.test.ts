import { Readable } from 'node:stream';
import { parse as parseSync } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { copyText, CsvSplitter, mapHeader } from '../../src/common/csv-records.js';
import { isoTimestamp } from '../../src/common/timestamps.js';
import { CALL_COLUMNS, CallColumn, CallerLookup, callRowToCopy } from '../../src/modules/evidence/call-record-row.js';
import { CONTACT_COLUMNS, ContactColumn, contactRowToCopy } from '../../src/modules/victims/contact-import.spec.js';

// ---------------------------------------------------------------------------
// helpers

interface CsvRecord {
  line: number;
  fields: string[];
}

/** CsvSplitter over a stream, a batch of records per chunk read (as the importer feeds it). */
async function* readCsvBatches(input: Readable): AsyncGenerator<CsvRecord[]> {
  let batch: CsvRecord[] = [];
  const splitter = new CsvSplitter((fields, line) => batch.push({ line, fields }));
  for await (const bytes of input as AsyncIterable<Buffer | string>) {
    splitter.pushBytes(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
    if (batch.length) {
      yield batch;
      batch = [];
    }
  }
  splitter.end();
  if (batch.length) yield batch;
}

/** A byte stream of `text`, in chunks of `size` bytes (the whole text at once by default). */
function byteStream(text: string | Buffer, size = Infinity): Readable {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const chunks: Buffer[] = [];
  if (size === Infinity) chunks.push(buf);
  else for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  return Readable.from(chunks, { objectMode: false });
}

async function readAll(text: string | Buffer, size = Infinity): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const batch of readCsvBatches(byteStream(text, size))) {
    expect(batch.length).toBeGreaterThan(0); // no empty batches
    out.push(...batch);
  }
  return out;
}

const rec = (line: number, ...fields: string[]): CsvRecord => ({ line, fields });

// ---------------------------------------------------------------------------

describe('readCsvBatches', () => {
  it('reads the header and rows with 1-based physical line numbers (header = line 1)', async () => {
    expect(await readAll('a,b,c\n1,2,3\n4,5,6\n')).toEqual([rec(1, 'a', 'b', 'c'), rec(2, '1', '2', '3'), rec(3, '4', '5', '6')]);
  });

  it('yields nothing for an empty stream, and only the header for a header-only file', async () => {
    expect(await readAll('')).toEqual([]);
    expect(await readAll('a,b\n')).toEqual([rec(1, 'a', 'b')]);
  });

  it('strips CR of CRLF line ends', async () => {
    expect(await readAll('a,b\r\n1,2\r\n3,4\r\n')).toEqual([rec(1, 'a', 'b'), rec(2, '1', '2'), rec(3, '3', '4')]);
  });

  it('drops a UTF-8 byte-order mark before the header', async () => {
    const records = await readAll('\ufeffcall_id,phone\n1,07723456789\n');
    expect(records[0]).toEqual(rec(1, 'call_id', 'phone'));
    expect(records[0].fields[0].charCodeAt(0)).toBe(99); // 'c', not U+FEFF
  });

  it('keeps a U+FEFF that is not at the start of the file', async () => {
    expect(await readAll('a\n\ufeffb\n')).toEqual([rec(1, 'a'), rec(2, '\ufeffb')]);
  });

  it('skips blank lines (LF and CRLF) but counts them in line numbers', async () => {
    expect(await readAll('a,b\n\n1,2\r\n\r\n\n3,4\n\n')).toEqual([rec(1, 'a', 'b'), rec(3, '1', '2'), rec(6, '3', '4')]);
  });

  it('keeps empty fields', async () => {
    expect(await readAll('a,b,c\n,,\n1,,3\n')).toEqual([rec(1, 'a', 'b', 'c'), rec(2, '', '', ''), rec(3, '1', '', '3')]);
  });

  it('reads quoted fields holding commas, and escaped quotes', async () => {
    const text = 'name,note\n"Smith, Jane","she said ""hello"""\n"",x\n"a""b",""""\n';
    expect(await readAll(text)).toEqual([
      rec(1, 'name', 'note'),
      rec(2, 'Smith, Jane', 'she said "hello"'),
      rec(3, '', 'x'),
      rec(4, 'a"b', '"'),
    ]);
  });

  it('reads a quoted field spanning lines as one record numbered by its first line', async () => {
    const text = 'a,b\n1,"two\nlines"\n3,4\n5,"three\n\nlines, with a blank one"\n6,7\n';
    expect(await readAll(text)).toEqual([
      rec(1, 'a', 'b'),
      rec(2, '1', 'two\nlines'),
      rec(4, '3', '4'),
      rec(5, '5', 'three\n\nlines, with a blank one'),
      rec(8, '6', '7'),
    ]);
  });

  it('reads a multi-line quoted field in a CRLF file', async () => {
    expect(await readAll('a,b\r\n1,"x\r\ny"\r\n2,z\r\n')).toEqual([rec(1, 'a', 'b'), rec(2, '1', 'x\ny'), rec(4, '2', 'z')]);
  });

  it('hands an unterminated quote at end of file over as one malformed record at its start line', async () => {
    const records = await readAll('a,b\n1,2\n3,"never closed\n4,5\n6,7\n');
    expect(records.slice(0, 2)).toEqual([rec(1, 'a', 'b'), rec(2, '1', '2')]);
    expect(records).toHaveLength(3);
    expect(records[2].line).toBe(3);
    // one field, so any row rule rejects it for its width instead of importing half a row
    expect(records[2].fields).toHaveLength(1);
    expect(records[2].fields[0]).toContain('never closed');
  });

  it('reads the last record of a file without a trailing newline', async () => {
    expect(await readAll('a,b\n1,2\n3,4')).toEqual([rec(1, 'a', 'b'), rec(2, '1', '2'), rec(3, '3', '4')]);
    expect(await readAll('a,b\r\n1,"x, y"')).toEqual([rec(1, 'a', 'b'), rec(2, '1', 'x, y')]);
    expect(await readAll('a,b\r\n3,4\r')).toEqual([rec(1, 'a', 'b'), rec(2, '3', '4')]);
  });

  it('decodes multi-byte UTF-8 characters', async () => {
    expect(await readAll('name\nZoë Brontë\n😀 Ünïcødé\n')).toEqual([rec(1, 'name'), rec(2, 'Zoë Brontë'), rec(3, '😀 Ünïcødé')]);
  });

  it('replaces invalid UTF-8 with U+FFFD in place, whatever the chunking', async () => {
    // a truncated two-byte sequence (0xC3) followed by ASCII only
    const bytes = Buffer.concat([Buffer.from('a,b\n1,x'), Buffer.from([0xc3]), Buffer.from('y\n2,z\n')]);
    const expected = [rec(1, 'a', 'b'), rec(2, '1', 'x\ufffdy'), rec(3, '2', 'z')];
    expect(await readAll(bytes)).toEqual(expected);
    for (const size of [1, 2, 3, 8, 9, 10]) expect(await readAll(bytes, size)).toEqual(expected);
  });

  // Every kind of line in one file, to be cut at every possible byte boundary.
  const TRICKY =
    '\ufeffcall_id,note,phone\r\n' +
    '1,plain,07723 456789\r\n' +
    '\r\n' +
    '2,"quoted, with comma",+44 7723 456789\n' +
    '3,"multi\r\nline ""quoted"" note",0044 7723-456-789\n' +
    '\n' +
    '4,Zoë 😀 Brontë,447723456789\n' +
    '5,"",+44 (0)7723 456789\n' +
    '6,last,07723456789';
  const TRICKY_RECORDS = [
    rec(1, 'call_id', 'note', 'phone'),
    rec(2, '1', 'plain', '07723 456789'),
    rec(4, '2', 'quoted, with comma', '+44 7723 456789'),
    rec(5, '3', 'multi\nline "quoted" note', '0044 7723-456-789'),
    rec(8, '4', 'Zoë 😀 Brontë', '447723456789'),
    rec(9, '5', '', '+44 (0)7723 456789'),
    rec(10, '6', 'last', '07723456789'),
  ];

  it('gives the same records read whole', async () => {
    expect(await readAll(TRICKY)).toEqual(TRICKY_RECORDS);
  });

  it.each([1, 2, 3, 5, 7, 16])('gives the same records when fed %i-byte chunks (lines, CRLF, BOM and characters cut anywhere)', async (size) => {
    expect(await readAll(TRICKY, size)).toEqual(TRICKY_RECORDS);
  });

  it('agrees with csv-parse on a larger generated file, whatever the chunk size', async () => {
    // Deterministic pseudo-random rows: plain, quoted, with commas, quotes and line breaks.
    let s = 12345;
    const rnd = (n: number) => ((s = (s * 1103515245 + 12345) & 0x7fffffff) % n);
    const words = ['alpha', 'b,c', 'say "hi"', 'two\nlines', 'é😀', '', 'x'];
    const lines = ['a,b,c'];
    for (let i = 0; i < 600; i++) {
      const cells = [0, 1, 2].map(() => {
        const w = words[rnd(words.length)];
        return /[",\n]/.test(w) || rnd(5) === 0 ? '"' + w.replace(/"/g, '""') + '"' : w;
      });
      lines.push(cells.join(','));
      if (rnd(20) === 0) lines.push('');
    }
    const text = lines.join(rnd(2) ? '\r\n' : '\n') + '\n';
    const expected = (parseSync(text, { skip_empty_lines: true, relax_column_count: true }) as string[][]).map((f) =>
      f.map((v) => v.replace(/\r\n/g, '\n')),
    );
    for (const size of [Infinity, 1, 13, 64, 4096]) {
      const records = await readAll(text, size);
      expect(records.map((r) => r.fields)).toEqual(expected);
      // line numbers strictly increase and point at the first physical line of the record
      const physical = text.split(/\r?\n/);
      for (let i = 1; i < records.length; i++) expect(records[i].line).toBeGreaterThan(records[i - 1].line);
      for (const r of records) expect(physical[r.line - 1]).not.toBe('');
    }
  });

  it('yields records in batches, not one promise per row', async () => {
    const text = 'a\n' + Array.from({ length: 5000 }, (_, i) => String(i)).join('\n') + '\n';
    let batches = 0;
    let rows = 0;
    for await (const batch of readCsvBatches(byteStream(text, 8192))) {
      batches++;
      rows += batch.length;
    }
    expect(rows).toBe(5001);
    expect(batches).toBeLessThan(20);
  });
});

// ---------------------------------------------------------------------------

describe('mapHeader', () => {
  const cols = ['phone', 'email', 'full_name', 'source'] as const;

  it('maps columns in any order and reports the header width', () => {
    const r = mapHeader(['source', 'full_name', 'email', 'phone'], cols);
    expect(r).toEqual({ ok: true, index: { source: 0, full_name: 1, email: 2, phone: 3 }, width: 4 });
  });

  it('ignores extra columns (they still count in the width)', () => {
    const r = mapHeader(['id', 'phone', 'notes', 'email', 'full_name', 'source', 'more'], cols);
    expect(r).toEqual({ ok: true, index: { phone: 1, email: 3, full_name: 4, source: 5 }, width: 7 });
  });

  it('ignores case and surrounding spaces in names', () => {
    const r = mapHeader([' Phone', 'EMAIL ', 'Full_Name', 'source'], cols);
    expect(r.ok && r.index).toEqual({ phone: 0, email: 1, full_name: 2, source: 3 });
  });

  it('names the missing column(s) and the expected header', () => {
    const r = mapHeader(['phone', 'full_name', 'source'], cols);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toMatch(/missing column\(s\) email\b/);
    expect(r.message).toContain('phone,email,full_name,source');
    expect(r.message).toContain('got: phone,full_name,source');

    const two = mapHeader(['telephone', 'mail', 'full_name', 'source'], cols);
    expect(!two.ok && two.message).toMatch(/missing column\(s\) phone, email/);
  });

  it('refuses a required column given twice', () => {
    const r = mapHeader(['phone', 'email', 'full_name', 'source', 'Phone'], cols);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/duplicate column\(s\) phone\b/);
  });

  it('accepts a duplicated column that is not required', () => {
    expect(mapHeader(['x', 'phone', 'email', 'full_name', 'source', 'x'], cols).ok).toBe(true);
  });

  it('keeps a very long wrong header out of the message', () => {
    const r = mapHeader(Array.from({ length: 200 }, (_, i) => `column_${i}`), cols);
    expect(!r.ok && r.message.length).toBeLessThan(600);
  });
});

// ---------------------------------------------------------------------------

describe('copyText', () => {
  it('writes NULL as \\N', () => {
    expect(copyText(null)).toBe('\\N');
  });

  it('leaves ordinary text alone', () => {
    expect(copyText('Jane Smith, 07723 456789 "quoted" é😀')).toBe('Jane Smith, 07723 456789 "quoted" é😀');
    expect(copyText('')).toBe('');
  });

  it('escapes backslash, tab, newline and carriage return', () => {
    expect(copyText('a\\b')).toBe('a\\\\b');
    expect(copyText('a\tb')).toBe('a\\tb');
    expect(copyText('a\nb')).toBe('a\\nb');
    expect(copyText('a\rb')).toBe('a\\rb');
    expect(copyText('\\\t\n\r')).toBe('\\\\\\t\\n\\r');
  });

  it('turns NUL, which Postgres cannot store in text, into U+FFFD', () => {
    expect(copyText('a\u0000b')).toBe('a\ufffdb');
    expect(copyText('\u0000\t')).toBe('\ufffd\\t');
  });

  it('never lets text become a NULL or the end-of-data marker', () => {
    expect(copyText('\\N')).toBe('\\\\N');
    expect(copyText('\\.')).toBe('\\\\.');
  });
});

// ---------------------------------------------------------------------------

describe('isoTimestamp', () => {
  const utc = (v: string) => new Date(v).toISOString();

  it.each([
    ['2021-03-04T05:06:07Z', '2021-03-04T05:06:07.000Z'],
    ['2021-03-04T05:06:07z', '2021-03-04T05:06:07.000Z'],
    ['2021-03-04T05:06:07.123Z', '2021-03-04T05:06:07.123Z'],
    ['2021-03-04T05:06Z', '2021-03-04T05:06:00.000Z'],
    ['2021-03-04T05:06:07+01:00', '2021-03-04T04:06:07.000Z'],
    ['2021-03-04T05:06:07-05:30', '2021-03-04T10:36:07.000Z'],
    ['2021-03-04T05:06:07+14:00', '2021-03-03T15:06:07.000Z'],
  ])('%j is kept with its offset (%s in UTC)', (value, instant) => {
    const r = isoTimestamp(value);
    expect(r).toBe(value);
    expect(utc(r!)).toBe(instant);
  });

  it.each([
    ['2021-03-04T05:06:07+0100', '2021-03-04T05:06:07+0100'],
    ['2021-03-04T05:06:07+01', '2021-03-04T05:06:07+01'],
  ])('accepts the compact offset %j', (value, out) => {
    expect(isoTimestamp(value)).toBe(out);
  });

  it.each([
    ['2021-03-04T05:06:07', '2021-03-04T05:06:07Z'],
    ['2021-03-04 05:06:07', '2021-03-04 05:06:07Z'],
    ['2021-03-04T05:06', '2021-03-04T05:06Z'],
    ['2021-03-04T05:06:07.5', '2021-03-04T05:06:07.5Z'],
  ])('reads %j (no offset) as UTC', (value, out) => {
    expect(isoTimestamp(value)).toBe(out);
    expect(utc(out.replace(' ', 'T'))).toBe(utc(value.replace(' ', 'T') + 'Z'));
  });

  it('knows leap years', () => {
    expect(isoTimestamp('2021-02-29T12:00:00Z')).toBeNull();
    expect(isoTimestamp('2024-02-29T12:00:00Z')).toBe('2024-02-29T12:00:00Z');
    expect(isoTimestamp('2000-02-29T12:00:00Z')).toBe('2000-02-29T12:00:00Z'); // divisible by 400
    expect(isoTimestamp('2100-02-29T12:00:00Z')).toBeNull(); // divisible by 100
    expect(isoTimestamp('2021-02-28T23:59:59Z')).toBe('2021-02-28T23:59:59Z');
  });

  it.each([
    '2021-04-31T00:00:00Z', // April has 30 days
    '2021-06-31T00:00:00Z',
    '2021-13-01T00:00:00Z',
    '2021-00-10T00:00:00Z',
    '2021-01-00T00:00:00Z',
    '2021-01-32T00:00:00Z',
    '2021-01-01T24:00:00Z', // 24:00 is not accepted
    '2021-01-01T24:00',
    '2021-01-01T23:60:00Z',
    '2021-01-01T23:59:60Z',
    '2021-01-01T10:00:00+15:00', // no such offset
    '2021-01-01T10:00:00+01:99', // Postgres refuses minutes > 59 in an offset
    '2021-01-01T10:00:00+0199',
    '2021-02-30T10:00:00Z', // the common shape (…T…Z, 20 characters) has a fast path: same rules
    '2021-1-01T10:00:00Z',
    '2021/01/01T10:00:00Z',
    '2021-01-01T10:0a:00Z',
    '2021-01-01T10:00:0-Z',
    '1969-12-31T23:59:59Z', // outside the plausible range
    '2101-01-01T00:00:00Z',
  ])('rejects %j', (value) => {
    expect(isoTimestamp(value)).toBeNull();
  });

  it.each([
    '',
    'yesterday',
    'null',
    '2021-03-04', // a date without a time
    '05:06:07',
    '04/03/2021 05:06',
    '2021-3-4T5:06:07Z',
    '2021-03-04T05:06:07ZZ',
    ' 2021-03-04T05:06:07Z',
    '2021-03-04T05:06:07Z ',
    '2021-03-04T05:06:07 +01:00',
    '2021-03-04T05:06:07.Z',
    '2021-03-04T05:06:07.1234567890Z',
    '2021-03-04T05:06:07 Europe/London',
    "2021-03-04T05:06:07Z'; DROP TABLE call_records; --",
    '２０２１-03-04T05:06:07Z', // full-width digits
  ])('rejects junk %j', (value) => {
    expect(isoTimestamp(value)).toBeNull();
  });
});

// ---------------------------------------------------------------------------

describe('callRowToCopy', () => {
  const header = ['call_id', 'started_at', 'duration_seconds', 'account_id', 'caller_id', 'target_number'];
  const mapped = mapHeader(header, CALL_COLUMNS);
  if (!mapped.ok) throw new Error(mapped.message);
  const { index, width } = mapped;
  // Barclays' number as the spoofing service stored it → institution 7
  const callers = () => new CallerLookup(new Map([['+443069990101', 7]]));
  type Row = Partial<Record<CallColumn, string>>;
  const fields = (r: Row = {}) => {
    const row = { call_id: 'c-1', started_at: '2022-05-06T07:08:09Z', duration_seconds: '75', account_id: 'acct-9', caller_id: '+443069990101', target_number: '07723 456789', ...r };
    return header.map((h) => row[h as CallColumn]);
  };
  const convert = (r: Row = {}, line = 2) => callRowToCopy(fields(r), index, width, '42', line, callers());

  it('writes one COPY line: import, line, call, time, duration, account, caller, institution, target, type', () => {
    expect(convert()).toBe('42\t2\tc-1\t2022-05-06T07:08:09Z\t75\tacct-9\t+443069990101\t7\t+447723456789\tmobile\n');
  });

  it.each(['07723 456789', '+44 7723 456789', '0044 7723-456-789', '447723456789', '+44 (0)7723 456789', ' 07723456789 '])(
    'normalises the target %j to +447723456789',
    (target) => {
      const out = convert({ target_number: target });
      expect(typeof out === 'string' && out.split('\t').slice(-2)).toEqual(['+447723456789', 'mobile\n']);
    },
  );

  it.each([
    ['020 7946 0123', '+442079460123', 'fixed_line'],
    ['+1 212 555 0123', '+12125550123', 'other'],
    ['+33 6 12 34 56 78', '+33612345678', 'mobile'],
    ['0800 123 4567', '+448001234567', 'other'],
  ])('accepts the landline / foreign number %j as %s (%s)', (target, e164, type) => {
    const out = convert({ target_number: target });
    expect(typeof out === 'string' && out.split('\t').slice(-2)).toEqual([e164, `${type}\n`]);
  });

  it('attributes the call to an institution from its caller id in any written form, and keeps other callers', () => {
    const col = (r: Row) => {
      const out = convert(r);
      return typeof out === 'string' ? out.split('\t').slice(6, 8) : out;
    };
    expect(col({ caller_id: '0306 999 0101' })).toEqual(['+443069990101', '7']);
    expect(col({ caller_id: '+44 (0)306 999 0101' })).toEqual(['+443069990101', '7']);
    expect(col({ caller_id: '07911 123456' })).toEqual(['+447911123456', '\\N']); // a mobile, no institution
    expect(col({ caller_id: 'withheld' })).toEqual(['withheld', '\\N']); // kept as written
    expect(col({ caller_id: '' })).toEqual(['\\N', '\\N']);
    expect(col({ caller_id: 'a\tb\\c' })).toEqual(['a\\tb\\\\c', '\\N']); // escaped for COPY
  });

  it('writes empty call and account ids as NULL and escapes the others', () => {
    const out = convert({ call_id: '', account_id: '' });
    expect(typeof out === 'string' && out.split('\t')[2]).toBe('\\N');
    expect(typeof out === 'string' && out.split('\t')[5]).toBe('\\N');
    const escaped = convert({ call_id: 'x\\y', account_id: 'line\nbreak' });
    expect(typeof escaped === 'string' && escaped.split('\t').slice(2, 6)).toEqual(['x\\\\y', '2022-05-06T07:08:09Z', '75', 'line\\nbreak']);
    // the COPY line stays one line with ten fields
    expect(typeof escaped === 'string' && escaped.slice(0, -1)).not.toMatch(/\n/);
  });

  it('trims the time and duration, and reads a time without offset as UTC', () => {
    const out = convert({ started_at: ' 2022-05-06 07:08:09 ', duration_seconds: ' 0 ' });
    expect(typeof out === 'string' && out.split('\t').slice(3, 5)).toEqual(['2022-05-06 07:08:09Z', '0']);
  });

  it('rejects a row whose field count is not the header\'s', () => {
    expect(callRowToCopy(fields().slice(0, 5), index, width, '42', 3, callers())).toEqual({ reason: 'the row has 5 fields but the header has 6' });
    expect(callRowToCopy([...fields(), 'extra'], index, width, '42', 3, callers())).toEqual({ reason: 'the row has 7 fields but the header has 6' });
    expect(callRowToCopy(['one malformed field'], index, width, '42', 3, callers())).toMatchObject({ reason: expect.stringMatching(/1 fields/) });
  });

  it.each([
    ['', 'empty'],
    ['unknown', 'not a phone number'],
    ['N/A', 'not a phone number'],
    ['07723 45678O', 'not a phone number'], // letter O
    ['0772345678a', 'not a phone number'],
    ["07723456789'; DROP TABLE victims; --", 'not a phone number'],
    ["' OR 1=1 --", 'not a phone number'],
    ['0772', 'too short'],
    ['123', 'too short'],
    ['0772345678901234', 'too long'],
    ['+447723456789123', 'too long'],
    ['07700 900999', 'invalid number'],
  ])('rejects the target %j: %s, naming the column and the value', (target, reason) => {
    expect(convert({ target_number: target })).toEqual({ reason: `target_number: ${reason}`, column: 'target_number', value: target });
  });

  it.each(['2021-02-29T10:00:00Z', '2021-01-01T24:00:00Z', 'yesterday', '', '01/02/2021 10:00'])('rejects started_at %j', (v) => {
    expect(convert({ started_at: v })).toEqual({ reason: 'started_at is not an ISO 8601 date and time', column: 'started_at', value: v.trim() });
  });

  it.each(['-1', '1.5', '', 'abc', '60s', '604801', '9999999999', '1e3'])('rejects duration_seconds %j', (v) => {
    expect(convert({ duration_seconds: v })).toMatchObject({ reason: expect.stringMatching(/^duration_seconds must be a whole number from 0 to 604800/), column: 'duration_seconds' });
  });

  it('accepts the largest duration (a week)', () => {
    expect(typeof convert({ duration_seconds: '604800' })).toBe('string');
  });

  it.each(['call_id', 'account_id', 'caller_id'] as const)('rejects a %s longer than 200 characters', (col) => {
    expect(convert({ [col]: 'x'.repeat(201) })).toMatchObject({ reason: expect.stringMatching(/at most 200 characters/) });
    expect(typeof convert({ [col]: 'x'.repeat(200) })).toBe('string');
  });

  it('checks the target first: a row bad in several fields is reported for its number', () => {
    expect(convert({ target_number: 'junk', started_at: 'junk', duration_seconds: 'junk' })).toMatchObject({ column: 'target_number' });
  });
});

// ---------------------------------------------------------------------------

describe('contactRowToCopy', () => {
  const header = ['phone', 'email', 'full_name', 'source'];
  const mapped = mapHeader(header, CONTACT_COLUMNS);
  if (!mapped.ok) throw new Error(mapped.message);
  const { index, width } = mapped;
  const IMPORT = '3f1c0d8e-0000-4000-8000-000000000001';
  type Row = Partial<Record<ContactColumn, string>>;
  const fields = (r: Row = {}) => {
    const row = { phone: '07723 456789', email: 'Jane.Smith@Example.COM', full_name: 'Jane Smith', source: 'victim_report', ...r };
    return header.map((h) => row[h as ContactColumn]);
  };
  const convert = (r: Row = {}) => contactRowToCopy(fields(r), index, width, IMPORT, 5);

  it('writes import, line, E.164 phone, lower-cased email, name and source', () => {
    expect(convert()).toBe(`${IMPORT}\t5\t+447723456789\tjane.smith@example.com\tJane Smith\tvictim_report\n`);
  });

  it('normalises every written form of the phone', () => {
    for (const phone of ['+44 7723 456789', '0044 7723-456-789', '447723456789', '+44 (0)7723 456789']) {
      const out = convert({ phone });
      expect(typeof out === 'string' && out.split('\t')[2]).toBe('+447723456789');
    }
  });

  it('accepts a contact without email, name or source (NULLs)', () => {
    expect(convert({ email: '  ', full_name: '', source: '' })).toBe(`${IMPORT}\t5\t+447723456789\t\\N\t\\N\t\\N\n`);
  });

  it('trims and lower-cases the email; accepts plus addressing and subdomains', () => {
    const email = (v: string) => {
      const out = convert({ email: v });
      return typeof out === 'string' ? out.split('\t')[3] : out;
    };
    expect(email('  JOE@EXAMPLE.ORG ')).toBe('joe@example.org');
    expect(email('joe+fraud@mail.example.co.uk')).toBe('joe+fraud@mail.example.co.uk');
  });

  it.each([
    'not-an-email',
    'joe@',
    '@example.com',
    'joe@example',
    'joe@example.c',
    'joe smith@example.com',
    'joe@@example.com',
    '"joe"@example.com',
    'joe@example.com, ann@example.com',
    'joe@example.com;ann@example.com',
    '<joe@example.com>',
    `${'a'.repeat(250)}@example.com`,
  ])('rejects the email %j', (email) => {
    expect(convert({ email })).toEqual({ reason: 'email is not a valid address', column: 'email', value: email.trim() });
  });

  it.each([
    ['', 'empty'],
    ['unknown', 'not a phone number'],
    ["07723456789' OR '1'='1", 'not a phone number'],
    ['12', 'too short'],
    ['0'.repeat(30), 'too long'],
  ])('rejects the phone %j (%s) before looking at the email', (phone, reason) => {
    expect(convert({ phone, email: 'bad' })).toEqual({ reason: `phone: ${reason}`, column: 'phone', value: phone });
  });

  it('rejects a row whose field count is not the header\'s', () => {
    expect(contactRowToCopy(['07723456789', 'a@example.com'], index, width, IMPORT, 9)).toEqual({ reason: 'the row has 2 fields but the header has 4' });
  });

  it('escapes names for COPY and caps their length', () => {
    const out = convert({ full_name: 'Jane\tSmith\\' });
    expect(typeof out === 'string' && out.split('\t')[4]).toBe('Jane\\tSmith\\\\');
    const long = convert({ full_name: 'x'.repeat(500) });
    expect(typeof long === 'string' && long.split('\t')[4]).toBe('x'.repeat(200));
  });
});
