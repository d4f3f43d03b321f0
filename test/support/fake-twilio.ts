import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

/**
 * A small fake of Twilio's REST API (the two Messages endpoints the provider uses), on
 * node:http at 127.0.0.1. The real twilio client talks to it through TwilioHttpClient's
 * URI rewrite (TWILIO_API_URL = fake.url).
 *
 *  - POST /2010-04-01/Accounts/{AccountSid}/Messages.json: form-encoded To, From or
 *    MessagingServiceSid, Body, StatusCallback; HTTP Basic auth checked; 201 with a
 *    Twilio-shaped message, or an error JSON {code, message, more_info, status}.
 *  - GET  /2010-04-01/Accounts/{AccountSid}/Messages.json?To=&DateSent>=&PageSize=:
 *    a Twilio-shaped page, newest first (one page only).
 *
 * Simplification: a created message is "sent" at once (date_sent = date_created), so
 * DateSent> filters see it immediately; real Twilio fills date_sent later.
 * `sent` records only what was answered 201: the "reached the provider" record.
 */

export interface FakeTwilioFailure {
  status: number;
  code?: number;
  message?: string;
  /** Sent as a Retry-After header (seconds, or any string). */
  retryAfter?: number | string;
}

export interface FakeTwilioMessage {
  sid: string;
  to: string;
  from: string | null;
  body: string;
  messagingServiceSid: string | null;
  statusCallback: string | null;
  at: Date;
}

export interface FakeTwilio {
  url: string;
  accountSid: string;
  authToken: string;
  sent: FakeTwilioMessage[];
  /** Message create requests received (whatever the answer). */
  creates(): number;
  /** The next n creates answer with this error. */
  failNext(n: number, failure: FakeTwilioFailure): void;
  /** Every create for which fn returns a failure answers with it (after failNext). Pass undefined to clear. */
  failWhen(fn: ((to: string, body: string) => FakeTwilioFailure | undefined) | undefined): void;
  /** Delay before every answer. */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

export interface FakeTwilioOptions {
  accountSid?: string;
  authToken?: string;
  /** Fixed port (default 0: any free port). */
  port?: number;
}

const API_PREFIX = '/2010-04-01';

export async function startFakeTwilio(opts: FakeTwilioOptions = {}): Promise<FakeTwilio> {
  const accountSid = opts.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = opts.authToken ?? randomBytes(16).toString('hex');
  const sent: FakeTwilioMessage[] = [];
  let createCount = 0;
  let latencyMs = 0;
  const queued: FakeTwilioFailure[] = [];
  let failFn: ((to: string, body: string) => FakeTwilioFailure | undefined) | undefined;
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { code: 20500, message: `fake-twilio: ${String(err)}`, more_info: moreInfo(20500), status: 500 });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake-twilio');
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
    if (m && req.method === 'POST') createCount++;
    // The latency comes before the message is handled: a client that gives up (timeout)
    // meanwhile gets no answer, and the message is not recorded in `sent`.
    if (latencyMs > 0) await sleep(latencyMs);
    if (res.destroyed || req.socket.destroyed) return;

    if (!m) return sendError(res, 404, 20404, 'The requested resource was not found');
    if (!authorised(req.headers.authorization) || m[1] !== accountSid) {
      return sendError(res, 401, 20003, 'Authenticate');
    }

    if (req.method === 'POST') {
      const form = new URLSearchParams(raw);
      const to = form.get('To') ?? '';
      const body = form.get('Body') ?? '';
      const from = form.get('From');
      const messagingServiceSid = form.get('MessagingServiceSid');
      const failure = queued.shift() ?? failFn?.(to, body);
      if (failure) return sendFailure(res, failure);
      if (!to) return sendError(res, 400, 21604, "A 'To' phone number is required.");
      if (!from && !messagingServiceSid) return sendError(res, 400, 21603, "A 'From' phone number is required.");
      if (!body) return sendError(res, 400, 21602, 'Message body is required.');
      const msg: FakeTwilioMessage = {
        sid: `SM${randomBytes(16).toString('hex')}`,
        to,
        from,
        body,
        messagingServiceSid,
        statusCallback: form.get('StatusCallback'),
        at: new Date(),
      };
      sent.push(msg);
      return sendJson(res, 201, toResource(msg, 'queued'));
    }

    if (req.method === 'GET') {
      const to = url.searchParams.get('To');
      const from = url.searchParams.get('From');
      const after = parseFilterDate(url.searchParams.get('DateSent>'));
      const before = parseFilterDate(url.searchParams.get('DateSent<'));
      const pageSize = Math.min(1000, Math.max(1, Number(url.searchParams.get('PageSize')) || 50));
      const matches = sent
        .filter((s) => (to ? s.to === to : true))
        .filter((s) => (from ? s.from === from : true))
        .filter((s) => (after ? s.at.getTime() >= after.getTime() : true))
        .filter((s) => (before ? s.at.getTime() < before.getTime() : true))
        .slice()
        .reverse()
        .slice(0, pageSize);
      const uri = `${API_PREFIX}/Accounts/${accountSid}/Messages.json${url.search}`;
      return sendJson(res, 200, {
        messages: matches.map((s) => toResource(s, 'sent')),
        end: matches.length - 1,
        first_page_uri: uri,
        next_page_uri: null,
        page: 0,
        page_size: pageSize,
        previous_page_uri: null,
        start: 0,
        uri,
      });
    }

    return sendError(res, 405, 20004, 'Method not allowed');
  }

  function authorised(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    return Buffer.from(header.slice(6), 'base64').toString('utf8') === `${accountSid}:${authToken}`;
  }

  function toResource(s: FakeTwilioMessage, status: string) {
    const date = rfc2822(s.at);
    return {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body: s.body,
      date_created: date,
      date_sent: date,
      date_updated: date,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: s.from,
      messaging_service_sid: s.messagingServiceSid,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid: s.sid,
      status,
      subresource_uris: { media: `${API_PREFIX}/Accounts/${accountSid}/Messages/${s.sid}/Media.json` },
      to: s.to,
      uri: `${API_PREFIX}/Accounts/${accountSid}/Messages/${s.sid}.json`,
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed = false;

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    sent,
    creates: () => createCount,
    failNext(n, failure) {
      for (let i = 0; i < n; i++) queued.push(failure);
    },
    failWhen(fn) {
      failFn = fn;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** X-Twilio-Signature for a webhook POST to `url` with form `params`, as Twilio computes it (HMAC-SHA1). */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

function sendFailure(res: ServerResponse, f: FakeTwilioFailure): void {
  const headers: Record<string, string> = {};
  if (f.retryAfter !== undefined) headers['Retry-After'] = String(f.retryAfter);
  const body: Record<string, unknown> = { message: f.message ?? `HTTP ${f.status}`, status: f.status };
  if (f.code !== undefined) Object.assign(body, { code: f.code, more_info: moreInfo(f.code) });
  sendJson(res, f.status, body, headers);
}

function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { code, message, more_info: moreInfo(code), status });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function moreInfo(code: number): string {
  return `https://www.twilio.com/docs/errors/${code}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseFilterDate(v: string | null): Date | undefined {
  if (!v) return undefined;
  // Twilio accepts YYYY-MM-DD (whole day) or an ISO 8601 date-time.
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Twilio's date format: "Thu, 30 Jul 2015 20:12:31 +0000". */
function rfc2822(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
