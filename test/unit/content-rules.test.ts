import { TEST_CONTENT_POLICY } from '../support/content-policy.js';
import { describe, expect, it } from 'vitest';

import {
  checkContent,
  findLinks,
  isAllowedHost,
  secretsAskedFor,
  type ContentInput,
  type ContentPolicy,
  type Violation,
} from '../../src/common/content-rules.js';

const POLICY: ContentPolicy = TEST_CONTENT_POLICY;

const GOOD_SMS =
  'Metropolitan Police: your number was called by a fraudster posing as ((institution)). ' +
  'Your reference is ((reference)). If you lost money, tell us at ((report_url)) or reply to this text. ' +
  'We will never ask for your PIN or password.';

function sms(body: string, policy: Partial<ContentPolicy> = {}): Violation[] {
  return checkContent({ channel: 'sms', body }, { ...POLICY, ...policy });
}

/** `subject: null` leaves the subject out altogether. */
function email(body: string, subject: string | null = 'Fraud warning', policy: Partial<ContentPolicy> = {}): Violation[] {
  const input: ContentInput = subject === null ? { channel: 'email', body } : { channel: 'email', body, subject };
  return checkContent(input, { ...POLICY, ...policy });
}

function rules(violations: readonly Violation[]): string[] {
  return violations.map((v) => v.rule);
}

/** A message a police operator can act on: a full sentence, no code-speak. */
function expectActionable(violations: readonly Violation[]): void {
  for (const v of violations) {
    expect(v.message).toMatch(/^["A-Z]/);
    expect(v.message).toMatch(/[.)]$/);
    expect(v.message.length).toBeGreaterThan(30);
  }
}

describe('a compliant template', () => {
  it('passes every rule as SMS', () => {
    expect(sms(GOOD_SMS)).toEqual([]);
  });

  it('passes every rule as email', () => {
    expect(email(GOOD_SMS, 'A warning from the Metropolitan Police')).toEqual([]);
  });
});

describe('empty_body', () => {
  it.each(['', '   ', '\n\t '])('reports %j as empty', (body) => {
    const violations = sms(body);
    expect(rules(violations)).toEqual(['empty_body']);
    expect(violations[0]?.message).toBe('The SMS has no text. Write the message before saving the template.');
  });

  it('reports an empty email together with a missing subject, and nothing else', () => {
    expect(rules(email('', null))).toEqual(['empty_body', 'missing_subject']);
  });

  it('checks other rules when the email body is not empty', () => {
    expect(rules(email('Metropolitan Police: send us your PIN.'))).toEqual(['asks_for_secret']);
  });
});

describe('missing_subject', () => {
  it.each([null, '', '   '])('reports an email with subject %j', (subject) => {
    const violations = email(GOOD_SMS, subject);
    expect(rules(violations)).toEqual(['missing_subject']);
    expectActionable(violations);
  });

  it('does not apply to SMS', () => {
    expect(rules(checkContent({ channel: 'sms', body: GOOD_SMS }, POLICY))).toEqual([]);
  });
});

describe('unknown_placeholder', () => {
  it('reports each unknown placeholder once, naming it and the allowed ones', () => {
    const violations = sms(`${GOOD_SMS} ((Name)) ((amount)) ((name))`);
    expect(rules(violations)).toEqual(['unknown_placeholder', 'unknown_placeholder']);
    expect(violations[0]?.message).toBe(
      'The template uses ((name)), which the system cannot fill. ' +
        'Check the spelling or use one of ((reference)), ((report_url)), ((institution)).',
    );
    expect(violations[1]?.message).toContain('((amount))');
  });

  it('reports an empty placeholder', () => {
    const violations = sms(`${GOOD_SMS} (())`);
    expect(rules(violations)).toEqual(['unknown_placeholder']);
    expect(violations[0]?.message).toContain('empty placeholder');
    expectActionable(violations);
  });

  it('checks the email subject too', () => {
    expect(rules(email(GOOD_SMS, 'Warning for ((first_name))'))).toEqual(['unknown_placeholder']);
  });

  it('accepts known placeholders in any case and inner spacing', () => {
    expect(sms(`${GOOD_SMS} (( Reference )) ((REPORT_URL))`)).toEqual([]);
  });
});

describe('link_not_allowed', () => {
  it.each([
    ['https://example.com', 'example.com'],
    ['http://bit.ly/abc', 'bit.ly'],
    ['bit.ly/abc', 'bit.ly'],
    ['example.com/x', 'example.com'],
    ['www.x.co.uk', 'www.x.co.uk'],
    ['example.com', 'example.com'],
    ['EXAMPLE.COM', 'example.com'],
    ['secure-refund.help', 'secure-refund.help'],
    ['police.uk.evil.com', 'police.uk.evil.com'],
    ['https://police.uk.evil.com/report', 'police.uk.evil.com'],
    ['fakepolice.uk', 'fakepolice.uk'],
    ['https://fakepolice.uk', 'fakepolice.uk'],
    ['https://police.uk@evil.com/login', 'evil.com'],
    ['police.uk@evil.com/login', 'evil.com'],
    ['https://p\u043elice.uk', 'xn--plice-jye.uk'],
    ['p\u043elice.uk', 'xn--plice-jye.uk'],
    ['http://192.168.0.1/x', '192.168.0.1'],
    ['ftp://files.example.net', 'files.example.net'],
    ['gov.uk.example.org:8080', 'gov.uk.example.org'],
    ['sub.outreach.example.org', 'sub.outreach.example.org'],
  ])('blocks %s (host %s)', (link, host) => {
    // A generous segment limit: a look-alike letter makes the message UCS-2.
    const violations = sms(`${GOOD_SMS} Visit ${link} now.`, { smsMaxSegments: 10 });
    expect(rules(violations)).toEqual(['link_not_allowed']);
    expect(violations[0]?.message).toContain(`goes to ${host}`);
    expect(violations[0]?.message).toContain('police.uk, gov.uk');
    expectActionable(violations);
  });

  it.each([
    'police.uk',
    'www.met.police.uk',
    'https://www.actionfraud.police.uk/report?x=1#top',
    'gov.uk/report-fraud',
    'HTTPS://WWW.GOV.UK',
    'https://www.met.police.uk./contact',
    'https://outreach.example.org/report',
    'outreach.example.org/report',
  ])('allows %s', (link) => {
    expect(sms(`${GOOD_SMS} Visit ${link} now.`)).toEqual([]);
  });

  it.each([
    'Mr.Smith called',
    'e.g. a bank',
    'i.e. your bank',
    'you lost £1.50 or £1,250.00',
    'version 2.0 at 10.30am',
    'write to fraud@met.police.uk or fraud@gmail.com.',
    'use ((report_url)) today',
    'ok.Thanks',
  ])('does not treat %j as a link', (text) => {
    expect(rules(sms(`${GOOD_SMS} ${text}`))).toEqual([]);
  });

  it('quotes the link without trailing punctuation', () => {
    const violations = sms(`${GOOD_SMS} (see bit.ly/abc).`);
    expect(violations[0]?.message).toBe(
      'The link "bit.ly/abc" goes to bit.ly, which is not an allowed domain. Remove it, or link only to ' +
        'police.uk, gov.uk or their subdomains, so recipients can check the message is genuine.',
    );
  });

  it('reports each distinct link once, and each of several links', () => {
    const violations = sms(`${GOOD_SMS} bit.ly/a bit.ly/a tinyurl.com/b www.met.police.uk`);
    expect(violations.map((v) => v.message.match(/"([^"]+)"/)?.[1])).toEqual(['bit.ly/a', 'tinyurl.com/b']);
  });

  it('finds links in the email subject', () => {
    expect(rules(email(GOOD_SMS, 'Claim at refund-hmrc.com'))).toEqual(['link_not_allowed']);
  });

  it('forbids every link when no domain is allowed', () => {
    const violations = sms(`${GOOD_SMS} www.met.police.uk`, { allowedLinkDomains: [] });
    expect(violations).toHaveLength(1);
    expect(violations[0]?.message).toContain('No links are allowed: remove it.');
  });

  it('accepts allowed domains written loosely', () => {
    expect(sms(`${GOOD_SMS} www.met.police.uk`, { allowedLinkDomains: [' *.Police.UK. '] })).toEqual([]);
  });

  it('finds links with and without a scheme', () => {
    expect(findLinks('a https://x.org/p?q=1, b www.y.com. c z.io/x d@e.com f.g')).toEqual([
      { text: 'https://x.org/p?q=1', host: 'x.org' },
      { text: 'www.y.com', host: 'www.y.com' },
      { text: 'z.io/x', host: 'z.io' },
    ]);
  });

  it('matches subdomains on label boundaries only', () => {
    expect(isAllowedHost('www.met.police.uk', ['police.uk'])).toBe(true);
    expect(isAllowedHost('police.uk', ['police.uk'])).toBe(true);
    expect(isAllowedHost('fakepolice.uk', ['police.uk'])).toBe(false);
    expect(isAllowedHost('police.uk.evil.com', ['police.uk'])).toBe(false);
    expect(isAllowedHost('', ['police.uk'])).toBe(false);
    expect(isAllowedHost('anything.com', [''])).toBe(false);
  });
});

describe('asks_for_secret', () => {
  it.each([
    ['Please reply with your PIN.', ['PIN']],
    ['Text your card number to 61016.', ['card number']],
    ['Confirm your account number and sort code at www.met.police.uk', ['account number', 'sort code']],
    ['Send us your one-time code now', ['one-time code']],
    ['Share your OTP with the officer who calls you', ['one-time passcode (OTP)']],
    ['What is your sort code?', ['sort code']],
    ['Your security code is required to release the refund.', ['security code']],
    ['Tell us your CVV', ['CVV security code']],
    ['Provide your bank details', ['bank details']],
    ['Enter your online banking password', ['password']],
    ['Please type your passcode', ['passcode']],
    ['Give the officer your card details and memorable word', ['card details', 'memorable word']],
    ['Do not delay, reply with your card number.', ['card number']],
    ['We will never call you but please send your password.', ['password']],
    ['Verify your login details', ['login details']],
    ['We need your verification code', ['verification code']],
  ])('flags %j', (sentence, labels) => {
    expect(secretsAskedFor(sentence)).toEqual(labels);
    const violations = sms(`${GOOD_SMS} ${sentence}`);
    expect(rules(violations)).toContain('asks_for_secret');
    expectActionable(violations);
  });

  it.each([
    'We will never ask for your PIN or password.',
    'Police will never ask you to share a one-time code.',
    'Never share your PIN, password or one-time passcode with anyone.',
    "We won't ask for your bank details.",
    'We won\u2019t ever ask for your security code.',
    'We will not ask for your card number.',
    'We wont ask for your sort code',
    'Do not share your security code.',
    "Don't give your sort code to anyone.",
    'Police will NEVER ask for your account number',
    'Nobody from the police will ask for your CVV.',
    'Your PIN is not required.',
    'Fraudsters may ask you to share your PIN.',
    'If the caller asked for your card details, call your bank.',
    'If you shared your card details with the caller, call your bank.',
    'Please give us a call if you shared your PIN.',
    'This text is from the police and is not about your PIN.',
    'Your bank will never ask you to move money or give your PIN.',
    'The fraudster may have had your card number.',
  ])('does not flag %j', (sentence) => {
    expect(secretsAskedFor(sentence)).toEqual([]);
    expect(rules(email(`${GOOD_SMS} ${sentence}`))).toEqual([]);
  });

  it('quotes the offending sentence and says how to fix it', () => {
    const violations = sms(`${GOOD_SMS} Reply with your PIN and sort code!`);
    expect(violations).toEqual([
      {
        rule: 'asks_for_secret',
        message:
          '"Reply with your PIN and sort code" appears to ask the recipient for their PIN or sort code. ' +
          'A genuine police message never asks for this: remove the request, or say plainly that it will never be ' +
          'asked for (for example "We will never ask for your PIN or password").',
      },
    ]);
  });

  it('reports each offending sentence separately and ignores the harmless ones', () => {
    const body = `${GOOD_SMS}\nSend your PIN. We never ask for passwords. Reply with your card number`;
    const violations = sms(body);
    expect(rules(violations)).toEqual(['asks_for_secret', 'asks_for_secret']);
    expect(violations[0]?.message).toMatch(/^"Send your PIN"/);
    expect(violations[1]?.message).toMatch(/^"Reply with your card number"/);
  });

  it('checks the email subject too', () => {
    expect(rules(email(GOOD_SMS, 'Action needed: confirm your sort code'))).toEqual(['asks_for_secret']);
  });
});

describe('sender_not_named', () => {
  it('reports an SMS that does not name the organisation', () => {
    const violations = sms(GOOD_SMS.replace('Metropolitan Police: ', ''));
    expect(violations).toEqual([
      {
        rule: 'sender_not_named',
        message: 'The SMS does not name the sender. Include "Metropolitan Police" so recipients know who it is from.',
      },
    ]);
  });

  it.each(['METROPOLITAN POLICE: hello', 'From the metropolitan  police\n', 'Metropolitan\nPolice here'])(
    'accepts %j (case and spacing do not matter)',
    (body) => expect(rules(sms(body))).toEqual([]),
  );

  it('does not apply to email, whose sender is its From address', () => {
    expect(email('A warning about a fraud. We will never ask for your PIN.')).toEqual([]);
  });
});

describe('too_many_segments', () => {
  const fill = (n: number): string => 'Metropolitan Police '.padEnd(n, 'x');

  it('allows exactly the maximum number of GSM-7 segments', () => {
    expect(sms(fill(459))).toEqual([]);
    expect(sms(fill(160), { smsMaxSegments: 1 })).toEqual([]);
  });

  it('reports one character over the maximum', () => {
    const violations = sms(fill(460));
    expect(violations).toEqual([
      {
        rule: 'too_many_segments',
        message:
          'At its longest (a 12-character reference, the report link and the longest institution name filled in) ' +
          'this SMS is 460 GSM-7 characters, 4 segments; the limit is 3 (459 characters). ' +
          'Shorten it by at least 1 character.',
      },
    ]);
  });

  it('measures the worst-case rendering, not the template text', () => {
    const body = `${fill(130)} ((reference)) ((institution))`;
    expect(body.length).toBeLessThanOrEqual(160);
    const violations = sms(body, { smsMaxSegments: 1 });
    expect(rules(violations)).toEqual(['too_many_segments']);
    // 130 + 1 + 12 + 1 + 27 = 171
    expect(violations[0]?.message).toContain('171 GSM-7 characters, 2 segments; the limit is 1 (160 characters)');
  });

  it('counts the report URL at its full length', () => {
    const body = `${fill(124)} ((report_url))`;
    expect(sms(body, { smsMaxSegments: 1 })).toEqual([]);
    expect(rules(sms(body, { smsMaxSegments: 1, reportUrl: 'https://outreach.example.org/x/report' }))).toEqual([
      'too_many_segments',
    ]);
  });

  it('explains a UCS-2 message and which characters caused it', () => {
    const body = `${fill(70)}\u2019`;
    const violations = sms(body, { smsMaxSegments: 1 });
    expect(rules(violations)).toEqual(['too_many_segments']);
    expect(violations[0]?.message).toContain('71 UCS-2 characters, 2 segments; the limit is 1 (70 characters)');
    expect(violations[0]?.message).toContain('because of "\u2019"');
  });

  it('does not apply to email', () => {
    expect(email(fill(2000))).toEqual([]);
  });
});

describe('several rules at once', () => {
  it('reports every problem, in a stable order', () => {
    const body = `Hi ((name)), confirm your PIN at bit.ly/x ${'x'.repeat(500)}`;
    const violations = sms(body);
    expect(rules(violations)).toEqual([
      'unknown_placeholder',
      'link_not_allowed',
      'asks_for_secret',
      'sender_not_named',
      'too_many_segments',
    ]);
    expectActionable(violations);
  });
});
