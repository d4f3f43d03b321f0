import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppConfig, loadConfig } from '../../src/config/configuration.js';
import { OutgoingEmail, ProviderError } from '../../src/modules/delivery/providers/provider.js';
import { SmtpEmailProvider } from '../../src/modules/delivery/providers/smtp-email.provider.js';
import { startSmtpServer, TestSmtpServer } from '../support/smtp-server.js';

const FROM = 'Fraud Victim Support <no-reply@outreach.police.uk>';
const run = randomUUID().slice(0, 8);
const ADDRESS_RE = /[^\s<>]+@[^\s<>]+/;

let smtp: TestSmtpServer;
let provider: SmtpEmailProvider;

function configFor(url: string): AppConfig {
  return loadConfig({ EMAIL_PROVIDER: 'smtp', SMTP_URL: url, EMAIL_FROM: FROM });
}

function email(overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  const messageId = randomUUID();
  return {
    messageId,
    to: `victim-${run}-${messageId.slice(0, 8)}@example.com`,
    subject: 'Important: your bank details may be at risk',
    text: 'Plain text body.',
    html: '<p>HTML <strong>body</strong>.</p>',
    unsubscribeUrl: `https://outreach.police.uk/u/${messageId}`,
    ...overrides,
  };
}

async function sendError(p: SmtpEmailProvider, e: OutgoingEmail): Promise<ProviderError> {
  const err = await p.send(e).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

/** Nothing a log might print from the error names the recipient. */
function expectNoAddress(err: ProviderError, address: string) {
  for (const s of [err.message, err.code, JSON.stringify(err), JSON.stringify(err.cause ?? null)]) {
    expect(s).not.toContain(address);
    expect(s).not.toMatch(ADDRESS_RE);
  }
  expect(String(err.stack)).not.toContain(address);
}

beforeAll(async () => {
  smtp = await startSmtpServer();
  provider = new SmtpEmailProvider(configFor(smtp.url), { connectionTimeoutMs: 2000, socketTimeoutMs: 5000 });
});

afterEach(() => smtp.reset());

afterAll(async () => {
  await provider?.close();
  await smtp?.stop();
});

describe('SmtpEmailProvider against a real SMTP server', () => {
  it('delivers subject, text and html with From, List-Unsubscribe and our Message-ID', async () => {
    const e = email();
    const result = await provider.send(e);

    expect(result.providerMessageId).toBe(`<msg-${e.messageId}@outreach.police.uk>`);
    expect(smtp.received).toHaveLength(1);
    const got = smtp.received[0];
    expect(got.to).toEqual([e.to]);
    expect(got.envelopeFrom).toBe('no-reply@outreach.police.uk');
    expect(got.from).toBe('Fraud Victim Support <no-reply@outreach.police.uk>');
    expect(got.subject).toBe(e.subject);
    expect(got.text.trim()).toBe(e.text);
    expect(got.html).toContain('<strong>body</strong>');
    expect(got.headers['list-unsubscribe']).toBe(`<${e.unsubscribeUrl}>`);
    expect(got.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(got.messageId).toBe(result.providerMessageId);
    expect(got.messageId).toContain(e.messageId);
    expect(got.headers['content-type']).toMatch(/^multipart\/alternative/);
  });

  it('sends text only when there is no html', async () => {
    const e = email({ html: null });
    await provider.send(e);
    expect(smtp.received).toHaveLength(1);
    const got = smtp.received[0];
    expect(got.html).toBeUndefined();
    expect(got.text.trim()).toBe(e.text);
    expect(got.headers['content-type']).toMatch(/^text\/plain/);
    expect(got.raw).not.toMatch(/text\/html/i);
  });

  it('maps a 550 recipient rejection to permanent "SMTP 550", without the address', async () => {
    const e = email();
    smtp.rejectRecipient((a) => (a === e.to ? { code: 550, message: `5.1.1 <${a}>: Recipient address rejected: User unknown` } : undefined));
    const err = await sendError(provider, e);
    expect(err.kind).toBe('permanent');
    expect(err.code).toBe('SMTP 550');
    expect(err.message).toMatch(/recipient/);
    expect(err.message).toContain('5.1.1');
    expectNoAddress(err, e.to);
    expect(smtp.received).toHaveLength(0);
  });

  it.each([553, 554])('maps %i to permanent', async (code) => {
    const e = email();
    smtp.rejectRecipient(() => ({ code, message: `5.7.1 ${e.to} refused` }));
    const err = await sendError(provider, e);
    expect(err.kind).toBe('permanent');
    expect(err.code).toBe(`SMTP ${code}`);
    expectNoAddress(err, e.to);
  });

  it.each([450, 451, 452])('maps a %i recipient deferral to retry', async (code) => {
    const e = email();
    smtp.rejectRecipient(() => ({ code, message: `4.2.0 <${e.to}> mailbox busy, try later` }));
    const err = await sendError(provider, e);
    expect(err.kind).toBe('retry');
    expect(err.code).toBe(`SMTP ${code}`);
    expectNoAddress(err, e.to);
    expect(smtp.received).toHaveLength(0);

    // The pool connection is still usable once the server accepts again.
    smtp.rejectRecipient(undefined);
    await provider.send(e);
    expect(smtp.received.map((r) => r.to[0])).toEqual([e.to]);
  });

  it('says retry (ECONNREFUSED) while the server is down, and recovers once it is back on the same port', async () => {
    // Warm the pool so it holds open connections that the stop then drops.
    await Promise.all([email(), email(), email()].map((e) => provider.send(e)));
    const port = smtp.port;
    await smtp.stop();

    const down = email();
    const err = await sendError(provider, down);
    expect(err.kind).toBe('retry');
    expect(err.code).toBe('ECONNREFUSED');
    expectNoAddress(err, down.to);

    await smtp.restart();
    expect(smtp.port).toBe(port);
    smtp.reset();

    const up = email();
    await provider.send(up);
    expect(smtp.received.map((r) => r.to[0])).toEqual([up.to]);
  });

  it('times out to retry (ETIMEDOUT) when the server never greets', async () => {
    const sockets = new Set<net.Socket>();
    // Accepts and says nothing.
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const p = new SmtpEmailProvider(configFor(`smtp://127.0.0.1:${port}?ignoreTLS=true`), { connectionTimeoutMs: 500 });
    try {
      const e = email();
      const started = Date.now();
      const err = await sendError(p, e);
      expect(err.kind).toBe('retry');
      expect(err.code).toBe('ETIMEDOUT');
      expect(Date.now() - started).toBeLessThan(5000);
      expectNoAddress(err, e.to);
    } finally {
      await p.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('delivers 200 concurrent sends exactly once each', async () => {
    const emails = Array.from({ length: 200 }, () => email());
    const results = await Promise.all(emails.map((e) => provider.send(e)));

    expect(new Set(results.map((r) => r.providerMessageId)).size).toBe(200);
    expect(smtp.received).toHaveLength(200);
    const byId = new Map<string, number>();
    for (const r of smtp.received) byId.set(r.messageId!, (byId.get(r.messageId!) ?? 0) + 1);
    for (const e of emails) {
      expect(byId.get(`<msg-${e.messageId}@outreach.police.uk>`)).toBe(1);
    }
    for (const r of smtp.received) {
      const sent = emails.find((e) => r.messageId === `<msg-${e.messageId}@outreach.police.uk>`)!;
      expect(r.to).toEqual([sent.to]);
    }
  });

  it('a stop in the middle of a burst: every failure said not sent really was not, so resending those loses nothing and doubles nothing', async () => {
    const emails = Array.from({ length: 100 }, () => email());
    const inFlight = emails.map((e) => provider.send(e).then(() => 'sent' as const, (err: unknown) => err as ProviderError));
    // Let part of the burst through, then take the server down under it.
    while (smtp.received.length < 10) await new Promise((r) => setTimeout(r, 2));
    await smtp.stop();
    const outcomes = await Promise.all(inFlight);

    for (const o of outcomes) if (o !== 'sent') expect(['retry', 'maybe_sent']).toContain(o.kind);
    const receivedIds = () => smtp.received.map((r) => r.messageId);
    const idOf = (e: { messageId: string }) => `<msg-${e.messageId}@outreach.police.uk>`;
    // Every send that resolved did arrive; every one said not sent did not.
    for (const [i, e] of emails.entries()) {
      const o = outcomes[i]!;
      if (o === 'sent') expect(receivedIds()).toContain(idOf(e));
      else if (o.kind === 'retry') expect(receivedIds()).not.toContain(idOf(e));
    }

    // Only what provably never arrived is sent again (a maybe_sent is for a person).
    const notSent = emails.filter((_, i) => outcomes[i] !== 'sent' && (outcomes[i] as ProviderError).kind === 'retry');
    await smtp.restart();
    await Promise.all(notSent.map((e) => provider.send(e)));
    const counts = new Map<string, number>();
    for (const id of receivedIds()) counts.set(id!, (counts.get(id!) ?? 0) + 1);
    for (const [i, e] of emails.entries()) {
      const o = outcomes[i]!;
      if (o === 'sent' || o.kind === 'retry') expect(counts.get(idOf(e))).toBe(1);
      else expect(counts.get(idOf(e)) ?? 0).toBeLessThanOrEqual(1);
    }
  });

  it('fails on the expired certificate when ignoreTLS is left off (so the URL option matters)', async () => {
    const p = new SmtpEmailProvider(configFor(`smtp://127.0.0.1:${smtp.port}`), { connectionTimeoutMs: 2000 });
    try {
      const e = email();
      const err = await sendError(p, e);
      expect(err.kind).toBe('retry');
      expect(err.code).toBe('CERT_HAS_EXPIRED');
      expectNoAddress(err, e.to);
      expect(smtp.received).toHaveLength(0);
    } finally {
      await p.close();
    }
  });
});
