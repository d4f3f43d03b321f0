import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/configuration.js';
import { ProviderError } from '../../src/modules/delivery/providers/provider.js';
import { TwilioHttpClient, TwilioSmsProvider } from '../../src/modules/delivery/providers/twilio-sms.provider.js';
import { FakeTwilio, startFakeTwilio, twilioSignature } from '../support/fake-twilio.js';
import twilio from 'twilio';

// The real twilio client, over loopback, against test/support/fake-twilio.ts: no mocks.

const TO = '+447700900123';
const FROM = '+447700900999';
const BODY = 'City Police: we are contacting people who may have been targeted by a fraud. Ref ABC123.';
const PUBLIC = 'https://outreach.example.test';

function provider(fake: FakeTwilio, env: Record<string, string> = {}, timeoutMs?: number): TwilioSmsProvider {
  const config = loadConfig({
    SMS_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM: FROM,
    TWILIO_API_URL: fake.url,
    PUBLIC_BASE_URL: PUBLIC,
    ...env,
  });
  return new TwilioSmsProvider(config, timeoutMs === undefined ? {} : { timeoutMs });
}

async function sendError(p: TwilioSmsProvider, to = TO, body = BODY): Promise<ProviderError> {
  const err = await p.send({ messageId: 'm-1', to, body }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  const pe = err as ProviderError;
  // PII never reaches an error message (and so never a log line).
  expect(pe.message).not.toContain(to);
  expect(pe.message).not.toContain(to.slice(1));
  expect(pe.message).not.toContain('7700');
  expect(pe.message).not.toContain(body);
  return pe;
}

describe('TwilioSmsProvider against the fake Twilio API', () => {
  let fake: FakeTwilio;
  beforeEach(async () => {
    fake = await startFakeTwilio();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('sends with From and a status callback, and returns the Twilio sid', async () => {
    const res = await provider(fake).send({ messageId: 'm-1', to: TO, body: BODY });
    expect(res.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toMatchObject({
      sid: res.providerMessageId,
      to: TO,
      from: FROM,
      body: BODY,
      messagingServiceSid: null,
      statusCallback: `${PUBLIC}/webhooks/twilio/status?messageId=m-1`,
    });
    expect(fake.creates()).toBe(1);
  });

  it('sends through a Messaging Service when one is configured', async () => {
    const p = provider(fake, { TWILIO_FROM: '', TWILIO_MESSAGING_SERVICE_SID: 'MG0123456789abcdef0123456789abcdef' });
    const res = await p.send({ messageId: 'm-1', to: TO, body: BODY });
    expect(fake.sent[0]).toMatchObject({
      sid: res.providerMessageId,
      from: null,
      messagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
      statusCallback: `${PUBLIC}/webhooks/twilio/status?messageId=m-1`,
    });
  });

  it('maps HTTP 429 to rate_limited, with Retry-After when given and 1 s otherwise', async () => {
    fake.failNext(1, { status: 429, code: 20429, message: 'Too Many Requests', retryAfter: 7 });
    const withHeader = await sendError(provider(fake));
    expect(withHeader).toMatchObject({ kind: 'rate_limited', code: '20429', retryAfterMs: 7000 });

    fake.failNext(1, { status: 429, message: 'Too Many Requests' });
    const withoutHeader = await sendError(provider(fake));
    expect(withoutHeader).toMatchObject({ kind: 'rate_limited', code: 'HTTP 429', retryAfterMs: 1000 });
    expect(fake.sent).toHaveLength(0);
    expect(fake.creates()).toBe(2);
  });

  it('maps Twilio code 20429 to rate_limited whatever the HTTP status', async () => {
    fake.failNext(1, { status: 400, code: 20429, message: 'Too Many Requests' });
    expect(await sendError(provider(fake))).toMatchObject({ kind: 'rate_limited', code: '20429', retryAfterMs: 1000 });
  });

  // A 5xx may come after Twilio accepted the message: resolved against Twilio, never resent blindly.
  it('maps 500 and 503 to maybe_sent', async () => {
    fake.failNext(1, { status: 500, code: 20500, message: 'Internal Server Error' });
    fake.failNext(1, { status: 503, message: 'Service Unavailable' });
    const p = provider(fake);
    expect(await sendError(p)).toMatchObject({ kind: 'maybe_sent', code: 'HTTP 500' });
    expect(await sendError(p)).toMatchObject({ kind: 'maybe_sent', code: 'HTTP 503' });
    expect(fake.sent).toHaveLength(0);
    // and the next one goes through
    await p.send({ messageId: 'm-1', to: TO, body: BODY });
    expect(fake.sent).toHaveLength(1);
  });

  it('maps a refused connection to retry', async () => {
    const p = provider(fake);
    await fake.close();
    expect(await sendError(p)).toMatchObject({ kind: 'retry', code: 'ECONNREFUSED' });
  });

  it('maps a reset keep-alive connection to maybe_sent (a reset cannot say whether the request got there), a refused one to retry', async () => {
    const p = provider(fake);
    await p.send({ messageId: 'm-0', to: TO, body: BODY });
    await fake.close(); // the client's pooled keep-alive socket is now dead
    const err = await sendError(p);
    expect(['ECONNRESET', 'ECONNREFUSED', 'EPIPE']).toContain(err.code);
    expect(err.kind).toBe(err.code === 'ECONNREFUSED' ? 'retry' : 'maybe_sent');
  });

  it('maps a timeout to maybe_sent', async () => {
    fake.setLatency(1500);
    const started = Date.now();
    const err = await sendError(provider(fake, {}, 200));
    expect(Date.now() - started).toBeLessThan(1200);
    expect(err.kind).toBe('maybe_sent');
    expect(['ECONNABORTED', 'ETIMEDOUT']).toContain(err.code);
    expect(err.message).toMatch(/timed out/);
    expect(fake.creates()).toBe(1);
    await new Promise((r) => setTimeout(r, 1600));
    expect(fake.sent).toHaveLength(0);
  });

  it('maps 21211 (invalid To) to permanent, without echoing the number Twilio quotes', async () => {
    fake.failNext(1, { status: 400, code: 21211, message: `The 'To' number ${TO} is not a valid phone number.` });
    const err = await sendError(provider(fake));
    expect(err).toMatchObject({ kind: 'permanent', code: '21211' });
    expect(err.message).toContain('21211');
    expect(err.message).toContain('not a valid phone number');
  });

  it('maps 21614 (not a mobile), 21617 (too long) and an unknown 4xx to permanent', async () => {
    const p = provider(fake);
    fake.failNext(1, { status: 400, code: 21614, message: `'To' number ${TO.replace('+44', '0')} is not a mobile number` });
    expect(await sendError(p, TO)).toMatchObject({ kind: 'permanent', code: '21614' });
    fake.failNext(1, { status: 400, code: 21617, message: 'The concatenated message body exceeds the 1600 character limit.' });
    expect(await sendError(p)).toMatchObject({ kind: 'permanent', code: '21617' });
    fake.failNext(1, { status: 404, message: 'Not found' });
    expect(await sendError(p)).toMatchObject({ kind: 'permanent', code: 'HTTP 404' });
  });

  it('maps 21610 (recipient opted out) to opted_out', async () => {
    fake.failWhen((to) => (to === TO ? { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' } : undefined));
    const p = provider(fake);
    expect(await sendError(p)).toMatchObject({ kind: 'opted_out', code: '21610' });
    await p.send({ messageId: 'm-2', to: '+447700900456', body: BODY });
    expect(fake.sent.map((s) => s.to)).toEqual(['+447700900456']);
  });

  // Wrong credentials are our configuration, not the recipient: 'retry' (bounded attempts)
  // keeps the message so that it goes out once the credentials are fixed, where
  // 'permanent' would fail a whole campaign. See toProviderError.
  it('maps wrong credentials (401) to retry', async () => {
    const p = provider(fake, { TWILIO_AUTH_TOKEN: 'wrong-token' });
    expect(await sendError(p)).toMatchObject({ kind: 'retry', code: 'HTTP 401' });
    expect(fake.sent).toHaveLength(0);
  });

  it('findSent finds our message by number and time, not by its body byte for byte; skips provider ids that are already ours; null when there is none', async () => {
    const p = provider(fake);
    const since = new Date(Date.now() - 1000);
    const other = await p.send({ messageId: 'm-0', to: TO, body: 'another message' });
    // Twilio may re-encode a body (smart quotes, spacing): still found.
    const { providerMessageId } = await p.send({ messageId: 'm-1', to: TO, body: 'Your bank\u2019s  call was  not us' });
    await p.send({ messageId: 'm-2', to: '+447700900456', body: BODY });
    const q = (o: Partial<Parameters<typeof p.findSent>[0]> = {}) => ({ messageId: 'm-1', to: TO, body: "Your bank's call was not us", since, knownProviderIds: [other.providerMessageId], ...o });

    expect(await p.findSent(q())).toEqual({ providerMessageId });
    // Another body, but the only message to this number since the claim that is not already ours: ours.
    expect(await p.findSent(q({ body: 'a different text' }))).toEqual({ providerMessageId });
    // Both already attributed to other messages: none is this one.
    expect(await p.findSent(q({ knownProviderIds: [other.providerMessageId, providerMessageId] }))).toBeNull();
    expect(await p.findSent(q({ to: '+447700900777' }))).toBeNull();
    // sent before `since`: not this attempt
    expect(await p.findSent(q({ since: new Date(Date.now() + 60 * 60_000) }))).toBeNull();
  });

  it('findSent answers undefined when it cannot tell', async () => {
    const p = provider(fake);
    await fake.close();
    expect(await p.findSent({ messageId: 'm-1', to: TO, body: BODY, since: new Date(), knownProviderIds: [] })).toBeUndefined();
    const wrong = provider(fake, { TWILIO_AUTH_TOKEN: 'wrong-token' });
    expect(await wrong.findSent({ messageId: 'm-1', to: TO, body: BODY, since: new Date(), knownProviderIds: [] })).toBeUndefined();
  });
});

describe('TwilioHttpClient', () => {
  it('rewrites api.twilio.com and other twilio.com hosts onto the configured base URL only', () => {
    const c = new TwilioHttpClient({ timeoutMs: 1000, apiUrl: 'http://127.0.0.1:9999/twilio/' });
    expect(c.rewrite('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B44')).toBe(
      'http://127.0.0.1:9999/twilio/2010-04-01/Accounts/AC1/Messages.json?To=%2B44',
    );
    expect(c.rewrite('https://messaging.dublin.ie1.twilio.com/v1/Services')).toBe('http://127.0.0.1:9999/twilio/v1/Services');
    expect(c.rewrite('https://example.com/x')).toBe('https://example.com/x');
    expect(c.rewrite('https://nottwilio.com/x')).toBe('https://nottwilio.com/x');
    const plain = new TwilioHttpClient({ timeoutMs: 1000 });
    expect(plain.rewrite('https://api.twilio.com/2010-04-01')).toBe('https://api.twilio.com/2010-04-01');
    expect(plain.defaultTimeout).toBe(1000);
  });
});

describe('twilioSignature', () => {
  it('computes a signature that twilio.validateRequest accepts', () => {
    const url = `${PUBLIC}/webhooks/twilio/status`;
    const params = { MessageSid: 'SM0123', MessageStatus: 'delivered' };
    const sig = twilioSignature('secret-token', url, params);
    expect(twilio.validateRequest('secret-token', sig, url, params)).toBe(true);
    expect(twilio.validateRequest('other-token', sig, url, params)).toBe(false);
  });
});
