import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TwilioHttpClient } from '../../src/modules/delivery/providers/twilio-sms.provider.js';
import { waitFor } from '../support/campaigns.js';
import { FakeTwilio, messageIdOf, signTwilioRequest, startFakeTwilio } from '../support/fake-twilio.js';
import { ourMessageId, startSmtpServer, TestSmtpServer } from '../support/smtp-server.js';

// The fakes betray the caller as they say, seen through the real twilio client and the
// real nodemailer: fault tests built on them are only as good as these.

const FROM = '+447700900999';
const PUBLIC = 'https://outreach.police.uk';
const BODY = 'City Police: a warning about calls from your bank. Ref ABC123.';

type Client = ReturnType<typeof twilio>;
type Caught = Error & { code?: string; status?: number; responseCode?: number };

function clientFor(fake: FakeTwilio, timeoutMs = 500): Client {
  return twilio(fake.accountSid, fake.authToken, { httpClient: new TwilioHttpClient({ timeoutMs, apiUrl: fake.url }) });
}

const callbackUrl = (messageId: string | number) => `${PUBLIC}/webhooks/twilio/status?messageId=${messageId}`;
const create = (c: Client, to: string, messageId: string | number, body = BODY) => c.messages.create({ to, from: FROM, body, statusCallback: callbackUrl(messageId) });
const caught = (p: Promise<unknown>): Promise<Caught> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as Caught,
  );
const isNetworkError = (e: Caught) => ['ECONNRESET', 'EPIPE', 'ERR_NETWORK'].includes(e.code ?? '') || /socket hang up|reset/i.test(e.message);
const isTimeout = (e: Caught) => ['ECONNABORTED', 'ETIMEDOUT'].includes(e.code ?? '') || /timeout/i.test(e.message);

describe('fake Twilio: betrayals, seen by the real twilio client', () => {
  let fake: FakeTwilio;
  let c: Client;
  beforeEach(async () => {
    fake = await startFakeTwilio();
    c = clientFor(fake);
  });
  afterEach(() => fake.close());

  it('drop_answer: the message is stored, the client gets no answer (socket hang up)', async () => {
    fake.betrayNext(1, 'drop_answer');
    const err = await caught(create(c, '+447781000001', 11));
    expect(err.status).toBeUndefined();
    expect(isNetworkError(err), `${err.code} ${err.message}`).toBe(true);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toMatchObject({ to: '+447781000001', messageId: '11', betrayal: 'drop_answer', body: BODY });
    expect(fake.sentFor(11)).toHaveLength(1);
    // Only the next create was betrayed.
    const ok = await create(c, '+447781000002', 12);
    expect(ok.sid).toBe(fake.sent[1]!.sid);
  });

  it.each([500, 503])('error_after_accept: stored, then answered %i', async (status) => {
    fake.betrayNext(1, { mode: 'error_after_accept', status });
    const err = await caught(create(c, '+447781000003', 13));
    expect(err.status).toBe(status);
    expect(fake.sentFor(13)).toHaveLength(1);
  });

  it('stall: stored, never answered: the client times out', async () => {
    fake.betrayNext(1, 'stall');
    const started = Date.now();
    const err = await caught(create(c, '+447781000004', 14));
    expect(isTimeout(err), `${err.code} ${err.message}`).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(fake.sentFor(14)).toHaveLength(1);
    await waitFor('the stalled socket to close', async () => fake.pendingAnswers() === 0, 5000);
  });

  it('stall_reject: nothing stored, never answered: the client times out', async () => {
    fake.betrayNext(1, 'stall_reject');
    const err = await caught(create(c, '+447781000005', 15));
    expect(isTimeout(err), `${err.code} ${err.message}`).toBe(true);
    expect(fake.creates()).toBe(1);
    expect(fake.sent).toHaveLength(0);
  });

  it('reset_before_accept: the connection is reset before anything is stored', async () => {
    fake.betrayNext(1, 'reset_before_accept');
    const err = await caught(create(c, '+447781000006', 16));
    expect(err.status).toBeUndefined();
    expect(isNetworkError(err), `${err.code} ${err.message}`).toBe(true);
    expect(fake.creates()).toBe(1);
    expect(fake.sent).toHaveLength(0);
  });

  it('slow_answer: stored at once, answered 201 after longer than the client timeout, which never fires', async () => {
    fake.betrayNext(1, { mode: 'slow_answer', answerAfterMs: 1500, tickMs: 100 });
    const started = Date.now();
    const pending = create(c, '+447781000007', 17);
    let answered = false;
    void pending.then(() => (answered = true));
    await waitFor('the message to be stored', async () => fake.sent.length === 1, 1400);
    expect(answered).toBe(false);
    const msg = await pending;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(msg.sid).toBe(fake.sent[0]!.sid);
    await fake.answersIdle();
  });

  it('slow_reject: nothing stored, and a 500 trickled past the client timeout', async () => {
    fake.betrayNext(1, { mode: 'slow_reject', answerAfterMs: 1200, tickMs: 100 });
    const started = Date.now();
    const err = await caught(create(c, '+447781000011', 21));
    expect(err.status).toBe(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1100);
    expect(fake.creates()).toBe(1);
    expect(fake.sent).toHaveLength(0);
  });

  it('betrayWhen: by predicate, with the attempt number per To', async () => {
    fake.betrayWhen((cr) => (cr.to === '+447781000008' && cr.attempt === 1 ? 'stall_reject' : undefined));
    expect(isTimeout(await caught(create(c, '+447781000008', 18)))).toBe(true);
    await create(c, '+447781000009', 19);
    await create(c, '+447781000008', 18);
    expect(fake.sent.map((s) => s.messageId)).toEqual(['19', '18']);
    expect(fake.createsTo('+447781000008')).toBe(2);
    fake.betrayWhen(undefined);
  });

  it('the existing failures still work, and betrayals take precedence over them', async () => {
    fake.failNext(1, { status: 429, code: 20429, message: 'Too Many Requests' });
    fake.betrayNext(1, 'drop_answer');
    expect(isNetworkError(await caught(create(c, '+447781000010', 20)))).toBe(true);
    expect((await caught(create(c, '+447781000010', 20))).status).toBe(429);
    expect(fake.sent).toHaveLength(1);
  });
});

describe('fake Twilio: the Messages list', () => {
  let fake: FakeTwilio;
  let c: Client;
  beforeEach(async () => {
    fake = await startFakeTwilio();
    c = clientFor(fake, 2000);
  });
  afterEach(() => fake.close());

  it('filters by To and pages, newest first, through next_page_uri', async () => {
    for (let i = 0; i < 7; i++) await create(c, '+447781000020', 100 + i, `${BODY} #${i}`);
    await create(c, '+447781000021', 200);
    const all = await c.messages.list({ to: '+447781000020', pageSize: 3 });
    expect(all.map((m) => m.body)).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => `${BODY} #${i}`));
    const first = await c.messages.page({ to: '+447781000020', pageSize: 3 });
    expect(first.instances).toHaveLength(3);
    expect(first.nextPageUrl).toContain('PageToken=PA3');
    const second = await first.nextPage();
    expect(second!.instances.map((m) => m.body)).toEqual([3, 2, 1].map((i) => `${BODY} #${i}`));
    expect(await c.messages.list({ to: '+447781000022' })).toEqual([]);
    expect(fake.lists()).toBeGreaterThanOrEqual(5);
  });

  it('fails on demand (500), once or until cleared: "cannot tell"', async () => {
    await create(c, '+447781000023', 300);
    fake.failListNext(1);
    expect((await caught(c.messages.list({ to: '+447781000023' }))).status).toBe(500);
    expect(await c.messages.list({ to: '+447781000023' })).toHaveLength(1);
    fake.failLists({ status: 503, message: 'Service Unavailable' });
    expect((await caught(c.messages.list({ to: '+447781000023' }))).status).toBe(503);
    expect((await caught(c.messages.list({ to: '+447781000023' }))).status).toBe(503);
    fake.failLists(undefined);
    expect(await c.messages.list({ to: '+447781000023' })).toHaveLength(1);
  });

  it('stores a rewritten body when told, and, like Twilio, never shows the StatusCallback', async () => {
    fake.rewriteBody((b) => `${b}\nReply STOP to unsubscribe`);
    const m = await create(c, '+447781000024', 400);
    expect(m.body).toBe(`${BODY}\nReply STOP to unsubscribe`);
    expect(fake.sent[0]).toMatchObject({ requestBody: BODY, statusCallback: callbackUrl(400), messageId: '400' });
    const res = await fetch(`${fake.url}/2010-04-01/Accounts/${fake.accountSid}/Messages.json?To=${encodeURIComponent('+447781000024')}`, {
      headers: { Authorization: `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64')}` },
    });
    const page = (await res.json()) as { messages: Array<Record<string, unknown>> };
    expect(page.messages).toHaveLength(1);
    expect(Object.keys(page.messages[0]!).some((k) => /callback/i.test(k))).toBe(false);
  });
});

interface Posted {
  url: string;
  signature: string;
  params: Record<string, string>;
  at: number;
}

describe('fake Twilio: status callbacks', () => {
  let fake: FakeTwilio;
  let c: Client;
  let receiver: Server;
  let posted: Posted[];
  let answer = 204;

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        posted.push({ url: req.url ?? '', signature: String(req.headers['x-twilio-signature'] ?? ''), params: Object.fromEntries(new URLSearchParams(raw)), at: Date.now() });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  beforeEach(async () => {
    posted = [];
    answer = 204;
    fake = await startFakeTwilio();
    c = clientFor(fake, 2000);
    const local = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    fake.routeCallbacks((u) => u.replace(PUBLIC, local));
  });
  afterEach(() => fake.close());

  it('are off unless turned on', async () => {
    await create(c, '+447781000030', 500);
    await new Promise((r) => setTimeout(r, 150));
    await fake.callbacksIdle();
    expect(posted).toEqual([]);
    expect(fake.sent[0]!.status).toBe('sent');
  });

  it('post queued, sent, delivered to the StatusCallback, signed as Twilio signs (twilio.validateRequest agrees)', async () => {
    fake.callbacks({});
    const m = await create(c, '+447781000031', 501);
    await waitFor('three callbacks', async () => posted.length === 3, 5000);
    await fake.callbacksIdle();
    expect(posted.map((p) => p.params.MessageStatus)).toEqual(['queued', 'sent', 'delivered']);
    for (const p of posted) {
      expect(p.url).toBe('/webhooks/twilio/status?messageId=501');
      expect(p.params).toMatchObject({ MessageSid: m.sid, SmsSid: m.sid, AccountSid: fake.accountSid, To: '+447781000031', From: FROM, ApiVersion: '2010-04-01' });
      expect(p.params.ErrorCode).toBeUndefined();
      // The signature covers the public URL, query string included, and every POST parameter.
      expect(twilio.validateRequest(fake.authToken, p.signature, callbackUrl(501), p.params)).toBe(true);
      expect(twilio.validateRequest(fake.authToken, p.signature, callbackUrl(502), p.params)).toBe(false);
      expect(twilio.validateRequest(fake.authToken, p.signature, callbackUrl(501), { ...p.params, MessageStatus: 'failed' })).toBe(false);
      expect(twilio.validateRequest('another-token', p.signature, callbackUrl(501), p.params)).toBe(false);
    }
    expect(fake.callbackLog.map((l) => l.answer)).toEqual([204, 204, 204]);
    expect(fake.sent[0]!.status).toBe('delivered');
  });

  it('signTwilioRequest is the documented algorithm (the twilio package computes the same)', () => {
    const params = { To: '+447781000000', MessageStatus: 'sent', MessageSid: 'SMabc', AccountSid: 'AC1' };
    const url = `${PUBLIC}/webhooks/twilio/status?messageId=9&x=a%20b`;
    expect(signTwilioRequest('tok', url, params)).toBe(twilio.getExpectedTwilioSignature('tok', url, params));
    expect(messageIdOf(url)).toBe('9');
    expect(messageIdOf(`${PUBLIC}/webhooks/twilio/status`)).toBeNull();
  });

  it('post failures with their ErrorCode', async () => {
    fake.callbacks({ steps: ['queued', { status: 'undelivered', errorCode: '30003' }] });
    await create(c, '+447781000032', 503);
    await waitFor('two callbacks', async () => posted.length === 2, 5000);
    expect(posted.map((p) => [p.params.MessageStatus, p.params.ErrorCode])).toEqual([
      ['queued', undefined],
      ['undelivered', '30003'],
    ]);
    expect(fake.sent[0]).toMatchObject({ status: 'undelivered', errorCode: '30003' });
  });

  it('can be lost (all, or some), while Twilio\'s own status still moves on', async () => {
    fake.callbacks((m) => (m.to === '+447781000033' ? { lose: true } : { lose: (s) => s.status === 'sent' }));
    await create(c, '+447781000033', 504);
    await create(c, '+447781000034', 505);
    await waitFor('the second message\'s callbacks', async () => posted.length === 2, 5000);
    await fake.callbacksIdle();
    await new Promise((r) => setTimeout(r, 100));
    expect(posted.map((p) => [p.url, p.params.MessageStatus])).toEqual([
      ['/webhooks/twilio/status?messageId=505', 'queued'],
      ['/webhooks/twilio/status?messageId=505', 'delivered'],
    ]);
    const listed = await c.messages.list({ to: '+447781000033' });
    expect(listed[0]!.status).toBe('delivered');
  });

  it('can be delayed, reordered and duplicated', async () => {
    fake.callbacks({ delayMs: 400, gapMs: 30, reorder: true, duplicate: true });
    const started = Date.now();
    await create(c, '+447781000035', 506);
    await waitFor('six callbacks', async () => posted.length === 6, 5000);
    expect(posted[0]!.at - started).toBeGreaterThanOrEqual(350);
    expect(posted.map((p) => p.params.MessageStatus)).toEqual(['delivered', 'delivered', 'sent', 'sent', 'queued', 'queued']);
    expect(new Set(posted.map((p) => p.params.MessageSid)).size).toBe(1);
  });

  it('postCallback sends one on demand and reports the answer', async () => {
    const m = await create(c, '+447781000036', 507);
    answer = 403;
    const r = await fake.postCallback(m.sid, { status: 'failed', errorCode: '30008' });
    expect(r).toMatchObject({ status: 'failed', answer: 403, url: callbackUrl(507) });
    expect(posted[0]!.params).toMatchObject({ MessageStatus: 'failed', ErrorCode: '30008', MessageSid: m.sid });
  });

  it('are sent for a message whose API answer was lost: that is how it gets found', async () => {
    fake.callbacks({});
    fake.betrayNext(1, 'drop_answer');
    await caught(create(c, '+447781000037', 508));
    await waitFor('three callbacks', async () => posted.length === 3, 5000);
    expect(posted.every((p) => p.url.endsWith('messageId=508') && p.params.MessageSid === fake.sent[0]!.sid)).toBe(true);
  });
});

describe('test SMTP server: betrayals after DATA, seen by real nodemailer', () => {
  let smtp: TestSmtpServer;
  let transport: Transporter;
  const run = randomUUID().slice(0, 8);

  beforeAll(async () => {
    smtp = await startSmtpServer();
    transport = nodemailer.createTransport({ url: smtp.url, socketTimeout: 600, connectionTimeout: 2000, greetingTimeout: 2000 } as never);
  });
  afterEach(() => smtp.reset());
  afterAll(async () => {
    transport.close();
    await smtp.stop();
  });

  const send = (id: number, to = `v${id}-${run}@example.org`) =>
    transport.sendMail({ from: 'Police <no-reply@outreach.police.uk>', to, subject: 'A warning', text: 'Hello.', messageId: `<msg-${id}@outreach.police.uk>` });

  it('records what it kept, counted per message id from the Message-ID', async () => {
    await send(1);
    await send(1);
    await send(2);
    expect(smtp.deliveries(1)).toBe(2);
    expect(smtp.deliveries(2)).toBe(1);
    expect(smtp.deliveries(3)).toBe(0);
    expect(smtp.dataAttempts(1)).toBe(2);
    expect(ourMessageId('<msg-42@outreach.police.uk>')).toBe('42');
    expect(ourMessageId('<abc@example.org>')).toBeUndefined();
  });

  it('drop_after_data: keeps the whole message, then closes without the 250', async () => {
    smtp.betrayNext(1, 'drop_after_data');
    const err = await caught(send(10));
    expect(err.responseCode).toBeUndefined();
    expect(['ECONNECTION', 'ESOCKET', 'ECONNRESET', 'EPIPE']).toContain(err.code);
    expect(smtp.deliveries(10)).toBe(1);
    await send(11);
    expect(smtp.deliveries(11)).toBe(1);
  });

  it('stall_after_data: keeps it and never answers: the client times out', async () => {
    smtp.betrayWhen((a) => (a.messageId === '12' && a.attempt === 1 ? 'stall_after_data' : undefined));
    const started = Date.now();
    const err = await caught(send(12));
    expect(err.code).toBe('ETIMEDOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(smtp.deliveries(12)).toBe(1);
    await send(12);
    expect(smtp.deliveries(12)).toBe(2);
    expect(smtp.dataAttempts(12)).toBe(2);
  });

  it.each([
    ['defer_after_data', 451],
    ['reject_after_data', 554],
  ] as const)('%s: answers %i after DATA and keeps nothing', async (betrayal, code) => {
    smtp.betrayNext(1, betrayal);
    const err = await caught(send(13));
    expect(err.responseCode).toBe(code);
    expect(err.code).toBe('EMESSAGE');
    expect(smtp.deliveries(13)).toBe(0);
    expect(smtp.refused.map((m) => ourMessageId(m.messageId))).toEqual(['13']);
    expect(smtp.dataAttempts(13)).toBe(1);
  });

  it('rejects at RCPT by address and attempt', async () => {
    const to = `rcpt-${run}@example.org`;
    smtp.rejectRecipient((a, attempt) => (a === to && attempt === 1 ? { code: 450, message: '4.2.0 mailbox busy' } : undefined));
    const err = await caught(send(14, to));
    expect(err.responseCode).toBe(450);
    expect(smtp.dataAttempts(14)).toBe(0);
    await send(14, to);
    expect(smtp.deliveries(14)).toBe(1);
  });
});
