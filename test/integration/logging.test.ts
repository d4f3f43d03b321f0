import { Writable } from 'node:stream';
import pino from 'pino';
import pinoHttp, { type Options as PinoHttpOptions } from 'pino-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinoParams } from '../../src/common/logging.js';
import { startProcess } from '../support/processes.js';
import { startTestApp, TestApp, TEST_PASSWORD } from '../support/test-app.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-db.js';

// Everything here must never reach a log line.
const TOKEN = 'secret-token-value';
const PASSWORD = 'hunter2-Correct-Horse-Battery';
const COOKIE = 'sess-cookie-secret-value';
const SIGNATURE = 'twilio-signature-secret-value';
const PHONE_DIGITS = '447723456789';
const EMAIL = 'jane.doe@example.com';
const FORBIDDEN_TEXT = [
  TOKEN,
  PASSWORD,
  COOKIE,
  SIGNATURE,
  PHONE_DIGITS,
  '7723456789',
  '7723 456789',
  '7723%20456789',
  '7723+456789',
  EMAIL,
  'jane.doe',
  'jane.doe%40example.com',
];

describe('logs carry no secrets or personal data', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof startProcess>>;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp();
    server = await startProcess({
      APP_ROLE: 'api',
      PORT: '0',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: t.config.queuePrefix,
      LOG_LEVEL: 'info',
      JWT_SECRET: 'logging-test-secret-logging-test-secret-0123',
    });
    base = `http://127.0.0.1:${/listening on http:\/\/\S*:(\d+)/.exec(server.output())![1]}`;
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await t?.close();
  });

  it('a real server process redacts auth headers, passwords, tokens, phone numbers and emails', async () => {
    const admin = await t.staff('admin');
    const json = { 'content-type': 'application/json' };
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const get = (path: string, headers: Record<string, string> = {}) => fetch(base + path, { headers });

    // A failed login with a password (and an email), a good one that returns a real token.
    const failed = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email: EMAIL, password: PASSWORD }) });
    expect(failed.status).toBe(401);
    const good = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email: admin.email, password: TEST_PASSWORD }) });
    expect(good.status).toBe(200);
    const { accessToken } = (await good.json()) as { accessToken: string };
    // Malformed JSON carrying a password (the parser's error can quote the body).
    const malformed = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: json, body: `{"email":"${EMAIL}","password":"${PASSWORD}"` });
    expect(malformed.status).toBe(400);

    // A bad token, and PII in the query string: raw, percent-encoded and form-encoded.
    expect((await get(`/api/audit-events?subjectId=%2B${PHONE_DIGITS}&x=${EMAIL}`, bearer)).status).toBe(401);
    expect((await get(`/api/audit-events?subjectId=%2B${PHONE_DIGITS}`, { authorization: `Bearer ${accessToken}` })).status).toBe(200);
    expect((await get(`/api/audit-events?subjectId=${encodeURIComponent(EMAIL)}`, { authorization: `Bearer ${accessToken}` })).status).toBe(200);
    expect((await get(`/api/audit-events?q=%2B44%207723%20456789&r=%2B44+7723+456789&s=07723-456789`, bearer)).status).toBe(401);
    // PII in the path, in a Referer, and secrets in cookies and signatures.
    await get(`/api/victims/${EMAIL}`, bearer);
    await get(`/api/nope/${PHONE_DIGITS}`, {
      referer: `http://localhost/report?email=${EMAIL}&phone=0${PHONE_DIGITS.slice(2)}`,
      cookie: `session=${COOKIE}`,
      'x-twilio-signature': SIGNATURE,
    });

    await new Promise((r) => setTimeout(r, 200)); // let the last log lines flush
    const ended = await server.stop();
    expect(ended.code === 0 || ended.signal === 'SIGTERM').toBe(true);
    const out = server.output();

    // The requests were logged (so the absence of secrets below means something)...
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    const requests = lines.filter((l) => l.req?.url);
    expect(requests.map((l) => l.req.url)).toEqual(
      expect.arrayContaining(['/api/auth/login', '/api/audit-events?subjectId=[phone]&x=[email]', '/api/victims/[email]']),
    );
    expect(requests.filter((l) => l.req.headers?.authorization !== undefined).every((l) => l.req.headers.authorization === '[redacted]')).toBe(true);
    expect(out).toContain('"authorization":"[redacted]"');
    expect(out).toContain('"cookie":"[redacted]"');

    // ...and none of them carries a secret or a piece of personal data.
    for (const text of [...FORBIDDEN_TEXT, accessToken, admin.email]) {
      expect(out, `log output contains ${text}`).not.toContain(text);
    }
  });

  it('Errors logged with personal data in their message or properties are scrubbed too', async () => {
    let captured = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        captured += chunk.toString();
        done();
      },
    });
    const [options, destination] = pinoParams('info', sink).pinoHttp as [PinoHttpOptions, pino.DestinationStream];
    const logger = pinoHttp(options, destination).logger;

    const dbError = Object.assign(new Error(`duplicate key value violates unique constraint "victims_phone_key"`), {
      detail: `Key (phone_e164)=(+${PHONE_DIGITS}) already exists.`,
      parameters: [`+${PHONE_DIGITS}`, EMAIL],
    });
    logger.error(dbError);
    logger.error({ err: new Error(`could not send to ${EMAIL}`) }, 'send failed');
    logger.error(new Error('import failed', { cause: new Error(`bad row for 07723 456789`) }));
    logger.warn({ err: dbError, context: 'Import' }, `row rejected for +${PHONE_DIGITS}`);
    logger.info({ details: { to: [`+44 7723 456789`, EMAIL], password: PASSWORD, nested: { token: TOKEN } } }, 'sent');
    logger.info({ headers: { authorization: `Bearer ${TOKEN}`, cookie: COOKIE, 'x-twilio-signature': SIGNATURE } }, 'raw headers');
    await new Promise((r) => setImmediate(r));

    expect(captured.split('\n').filter(Boolean)).toHaveLength(6);
    for (const text of FORBIDDEN_TEXT) expect(captured, `log output contains ${text}`).not.toContain(text);
    expect(captured).toContain('victims_phone_key'); // the useful part of an error survives
    expect(captured).toContain('"type":"Error"');
    expect(captured).toContain('import failed: bad row for [phone]'); // causes are kept, scrubbed
    expect(captured).toContain('[phone]');
    expect(captured).toContain('[email]');
  });
});
