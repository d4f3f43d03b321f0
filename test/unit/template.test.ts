import { describe, expect, it } from 'vitest';

import { analyseSms } from '../../src/common/sms-segments.js';
import {
  findPlaceholders,
  isKnownPlaceholder,
  KNOWN_PLACEHOLDERS,
  longestRendering,
  REFERENCE_MAX_LENGTH,
  renderTemplate,
  reportUrlFor,
  TemplateError,
  unknownPlaceholders,
} from '../../src/common/template.js';

const VALUES = { reference: 'AB12CD34', report_url: 'https://outreach.police.uk/report', institution: 'HSBC' };

describe('findPlaceholders', () => {
  it('finds every occurrence with its raw text, normalised name and position', () => {
    expect(findPlaceholders('Ref ((reference)). Ref again (( Reference )) at ((REPORT_URL))')).toEqual([
      { raw: '((reference))', name: 'reference', index: 4 },
      { raw: '(( Reference ))', name: 'reference', index: 29 },
      { raw: '((REPORT_URL))', name: 'report_url', index: 48 },
    ]);
  });

  it('finds nothing in plain text or single brackets', () => {
    expect(findPlaceholders('Call (0800) 555 111 (free) or ( (x) )')).toEqual([]);
  });

  it('treats the innermost double brackets as the placeholder', () => {
    expect(findPlaceholders('(((reference)))')).toEqual([{ raw: '((reference))', name: 'reference', index: 1 }]);
  });

  it('finds an empty placeholder', () => {
    expect(findPlaceholders('a (()) b')).toEqual([{ raw: '(())', name: '', index: 2 }]);
  });
});

describe('unknownPlaceholders', () => {
  it('is empty when only known placeholders are used, in any case and spacing', () => {
    expect(unknownPlaceholders('((reference)) ((Report_Url)) ((  INSTITUTION\t))')).toEqual([]);
  });

  it('lists each unknown name once, normalised, in order of first use', () => {
    expect(unknownPlaceholders('((Name)) ((ref)) ((name)) ((reference)) (( NAME ))')).toEqual(['name', 'ref']);
  });

  it('does not tolerate whitespace inside a name', () => {
    expect(unknownPlaceholders('((report url)) ((report _url))')).toEqual(['report url', 'report _url']);
  });

  it('reports an empty placeholder by its empty name', () => {
    expect(unknownPlaceholders('(())')).toEqual(['']);
  });

  it('knows exactly reference, report_url and institution', () => {
    expect(KNOWN_PLACEHOLDERS).toEqual(['reference', 'report_url', 'institution']);
    expect(isKnownPlaceholder(' Reference ')).toBe(true);
    expect(isKnownPlaceholder('name')).toBe(false);
  });
});

describe('renderTemplate', () => {
  it('fills every occurrence of every placeholder', () => {
    const body = 'Ref ((reference)) (again: (( REFERENCE ))). ((institution)) victims: ((report_url))';
    expect(renderTemplate(body, VALUES)).toBe(
      'Ref AB12CD34 (again: AB12CD34). HSBC victims: https://outreach.police.uk/report',
    );
  });

  it('matches value keys case-insensitively and ignores extra values', () => {
    expect(renderTemplate('((reference))', { Reference: 'X1', unused: 'y' })).toBe('X1');
  });

  it('returns text without placeholders unchanged', () => {
    expect(renderTemplate('No placeholders (really).', {})).toBe('No placeholders (really).');
  });

  it('does not expand placeholders that appear inside values', () => {
    expect(renderTemplate('((institution))', { institution: '((reference))', reference: 'NO' })).toBe('((reference))');
  });

  it('inserts values containing replacement patterns literally', () => {
    expect(renderTemplate('((institution))', { institution: "$& $1 $' Bank" })).toBe("$& $1 $' Bank");
  });

  it('keeps surrounding brackets of triple-bracketed placeholders', () => {
    expect(renderTemplate('(((reference)))', VALUES)).toBe('(AB12CD34)');
  });

  it('throws a TemplateError naming the unknown placeholders', () => {
    const render = (): string => renderTemplate('Dear ((Name)), ((reference)) ((amount)) ((name))', VALUES);
    expect(render).toThrow(TemplateError);
    try {
      render();
    } catch (error) {
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({
        name: 'TemplateError',
        kind: 'unknown_placeholder',
        placeholders: ['name', 'amount'],
      });
      expect((error as Error).message).toBe(
        'The template uses ((name)), ((amount)), which the system cannot fill; use only ((reference)), ((report_url)), ((institution)).',
      );
    }
  });

  it('throws a TemplateError naming known placeholders that have no value', () => {
    expect(() => renderTemplate('((reference)) ((institution)) ((reference))', {})).toThrow(
      expect.objectContaining({ kind: 'missing_value', placeholders: ['reference', 'institution'] }),
    );
  });

  it('accepts an empty string as a value', () => {
    expect(renderTemplate('[((institution))]', { institution: '' })).toBe('[]');
  });
});

describe('reportUrlFor', () => {
  it.each([
    ['https://outreach.police.uk', 'https://outreach.police.uk/report'],
    ['https://outreach.police.uk/', 'https://outreach.police.uk/report'],
    ['http://127.0.0.1:3000//', 'http://127.0.0.1:3000/report'],
  ])('%s -> %s', (base, url) => expect(reportUrlFor(base)).toBe(url));
});

describe('longestRendering', () => {
  const worst = { reportUrl: 'https://outreach.police.uk/report', institutionNames: ['HSBC'] };

  it(`fills the reference with ${REFERENCE_MAX_LENGTH} characters, the report URL and the institution`, () => {
    expect(longestRendering('((reference)) ((report_url)) ((institution))', worst)).toBe(
      'XXXXXXXXXXXX https://outreach.police.uk/report HSBC',
    );
  });

  it('uses a different reference length when given one', () => {
    expect(longestRendering('((reference))', { ...worst, referenceMaxLength: 4 })).toBe('XXXX');
  });

  it('uses the longest institution name', () => {
    const names = ['HSBC', 'Nationwide Building Society', 'Lloyds Bank'];
    expect(longestRendering('((institution))', { ...worst, institutionNames: names })).toBe(
      'Nationwide Building Society',
    );
  });

  it('prefers a shorter name that forces UCS-2 and more segments over a longer GSM-7 one', () => {
    const body = `${'a'.repeat(65)} ((institution))`;
    const names = ['A very long but plain GSM building society name', 'Bank Łódź'];
    const result = longestRendering(body, { ...worst, institutionNames: names });
    expect(result).toBe(`${'a'.repeat(65)} Bank Łódź`);
    expect(analyseSms(result)).toMatchObject({ encoding: 'UCS-2', segments: 2 });
  });

  it('among equal segment counts, takes the one with more characters', () => {
    const result = longestRendering('((institution))', { ...worst, institutionNames: ['ab', 'a€'] });
    expect(result).toBe('a€');
  });

  it('renders ((institution)) empty when no names are given', () => {
    expect(longestRendering('[((institution))]', { ...worst, institutionNames: [] })).toBe('[]');
  });

  it('leaves unknown placeholders as written, so a length can still be shown', () => {
    expect(longestRendering('Dear ((name)), ref ((Reference))', worst)).toBe('Dear ((name)), ref XXXXXXXXXXXX');
  });
});
