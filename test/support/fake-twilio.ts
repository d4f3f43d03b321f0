import { createHmac, randomBytes } from 'node:crypto';
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
 *  - GET  /2010-04-01/Accounts/{AccountSid}/Messages.json?To=&From=&DateSent>=&PageSize=&Page=&PageToken=:
 *    a Twilio-shaped page, newest first, with next_page_uri while more match.
 *
 * It can betray the caller the way a real provider over a real network does (see
 * FakeTwilioBetrayal): accept a message and lose, stall or fail the answer. `sent` is
 * the "reached the provider" record: every message Twilio would now deliver, whether the
 * caller heard about it or not. A test counts double sends there.
 *
 * Like real Twilio, a listed message does not show its StatusCallback (the Message
 * resource has no such property), and `rewriteBody` can make the stored body differ from
 * the one sent (a Messaging Service's opt-out text, Smart Encoding): a lookup that matches
 * on either is relying on something Twilio does not promise.
 *
 * Status callbacks are off unless `callbacks()` turns them on; when on, each stored
 * message's StatusCallback URL gets Twilio-style form posts (queued → sent → delivered by
 * default), signed with X-Twilio-Signature, which can be lost, delayed, reordered or
 * duplicated. `routeCallbacks` sends them to where the app really listens, while the
 * signature still covers the public URL, as behind a reverse proxy.
 *
 * Simplification: a created message is "sent" at once (date_sent = date_created), so
 * DateSent> filters see it immediately; real Twilio fills date_sent later.
 */

export interface FakeTwilioFailure {
  status: number;
  code?: number;
  message?: string;
  /** Sent as a Retry-After header (seconds, or any string). */
  retryAfter?: number | string;
}

/**
 * How a create can go wrong after the request reached Twilio:
 *  - drop_answer: the message is stored (Twilio will deliver it), then the socket is
 *    destroyed without an answer (the client sees a reset / socket hang up);
 *  - error_after_accept: stored, then answered 500 (or `status`, e.g. 503);
 *  - stall: stored, never answered: the client times out;
 *  - stall_reject: not stored, never answered: the client times out;
 *  - reset_before_accept: the socket is reset before anything is stored;
 *  - slow_answer: stored at once, and the 201 arrives after `answerAfterMs`, its body
 *    trickled a byte at a time so that an idle-socket timeout never fires: a send that
 *    outlasts SENDING_TIMEOUT_MS although the provider timeout is shorter;
 *  - slow_reject: not stored, and a 500 (or `status`) trickled the same way: a failed
 *    attempt whose answer arrives after the reconciler gave the message another one.
 */
export type FakeTwilioBetrayalMode = 'drop_answer' | 'error_after_accept' | 'stall' | 'stall_reject' | 'reset_before_accept' | 'slow_answer' | 'slow_reject';

export interface FakeTwilioBetrayal {
  mode: FakeTwilioBetrayalMode;
  /** error_after_accept, slow_reject: the HTTP status (default 500). */
  status?: number;
  /** slow_answer, slow_reject: when the answer is complete (default 3000 ms). */
  answerAfterMs?: number;
  /** slow_answer, slow_reject: the gap between trickled bytes (default 200 ms). */
  tickMs?: number;
}

/** What a betrayal or failure predicate gets to decide on. */
export interface FakeTwilioCreate {
  to: string;
  body: string;
  statusCallback: string | null;
  /** Our message id, when the StatusCallback URL carries one (`?messageId=`). */
  messageId: string | null;
  /** 1 for the first create to this `To`, 2 for the next, … */
  attempt: number;
}

export type FakeTwilioStatus = 'accepted' | 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read';

export interface FakeTwilioMessage {
  sid: string;
  to: string;
  from: string | null;
  /** What Twilio stored (after `rewriteBody`); `requestBody` is what the caller sent. */
  body: string;
  requestBody: string;
  messagingServiceSid: string | null;
  statusCallback: string | null;
  /** From the StatusCallback URL's `messageId` query parameter. */
  messageId: string | null;
  /** Twilio's current status for it (moved on by the callback plan, delivered or lost). */
  status: FakeTwilioStatus;
  errorCode: string | null;
  /** How the create that stored it betrayed the caller, if it did. */
  betrayal: FakeTwilioBetrayalMode | null;
  at: Date;
}

export interface CallbackStep {
  status: FakeTwilioStatus;
  errorCode?: string;
}

/** The status callbacks Twilio posts for one message. */
export interface CallbackPlan {
  /** Default: queued, sent, delivered. E.g. [{status:'queued'}, {status:'undelivered', errorCode:'30003'}]. */
  steps?: Array<FakeTwilioStatus | CallbackStep>;
  /** Lose every callback (true), or those for which this returns true. Twilio's status moves on regardless. */
  lose?: boolean | ((step: CallbackStep, index: number) => boolean);
  /** Before the first callback (default 20 ms). */
  delayMs?: number;
  /** Between callbacks (default 20 ms). */
  gapMs?: number;
  /** Post the callbacks in reverse order (the statuses, not the timing). */
  reorder?: boolean;
  /** Post every callback twice. */
  duplicate?: boolean;
}

export interface CallbackPost {
  sid: string;
  messageId: string | null;
  status: FakeTwilioStatus;
  /** The URL signed (the StatusCallback as given) and the one posted to (after routeCallbacks). */
  url: string;
  postedTo: string;
  params: Record<string, string>;
  signature: string;
  /** The HTTP status answered, or the network error. */
  answer: number | string;
}

export interface FakeTwilio {
  url: string;
  accountSid: string;
  authToken: string;
  /** Every message Twilio stored (and will deliver), in order: the "reached the provider" record. */
  sent: FakeTwilioMessage[];
  /** Stored messages whose StatusCallback names this message id. */
  sentFor(messageId: string | number): FakeTwilioMessage[];
  /** Message create requests received (whatever the answer). */
  creates(): number;
  /** Create requests received for this `To`. */
  createsTo(to: string): number;
  /** Messages list requests received. */
  lists(): number;
  /** The next n creates answer with this error. */
  failNext(n: number, failure: FakeTwilioFailure): void;
  /** Every create for which fn returns a failure answers with it (after failNext). Pass undefined to clear. */
  failWhen(fn: ((to: string, body: string, create: FakeTwilioCreate) => FakeTwilioFailure | undefined) | undefined): void;
  /** The next n creates betray the caller this way (checked before failures). */
  betrayNext(n: number, betrayal: FakeTwilioBetrayalMode | FakeTwilioBetrayal): void;
  /** Every create for which fn returns a betrayal suffers it (after betrayNext). Pass undefined to clear. */
  betrayWhen(fn: ((create: FakeTwilioCreate) => FakeTwilioBetrayalMode | FakeTwilioBetrayal | undefined) | undefined): void;
  /** The next n list requests answer with this error (default 500). */
  failListNext(n: number, failure?: FakeTwilioFailure): void;
  /** Every list request answers with this error until cleared with undefined ("cannot tell"). */
  failLists(failure: FakeTwilioFailure | undefined): void;
  /** What Twilio stores as the body (default: as sent). Pass undefined to clear. */
  rewriteBody(fn: ((body: string) => string) | undefined): void;
  /** Turns status callbacks on (a plan for all, or per message; undefined from fn = none) or off (undefined). */
  callbacks(plan: CallbackPlan | ((m: FakeTwilioMessage) => CallbackPlan | undefined) | undefined): void;
  /** Where callbacks are really posted: maps the StatusCallback URL (which stays the signed one). */
  routeCallbacks(fn: ((url: string) => string) | undefined): void;
  /** Posts one callback for a stored message now, as Twilio would (signed, routed); resolves with the answer. */
  postCallback(sid: string, step: FakeTwilioStatus | CallbackStep): Promise<CallbackPost>;
  /** Every callback posted (or attempted), in order. */
  callbackLog: CallbackPost[];
  /** Resolves once no callback is scheduled or in flight. */
  callbacksIdle(): Promise<void>;
  /** Creates still being answered (stalled ones excepted once their socket closes). */
  pendingAnswers(): number;
  /** Resolves once no slow answer is still being written. */
  answersIdle(): Promise<void>;
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
const DEFAULT_STEPS: FakeTwilioStatus[] = ['queued', 'sent', 'delivered'];

export async function startFakeTwilio(opts: FakeTwilioOptions = {}): Promise<FakeTwilio> {
  const accountSid = opts.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = opts.authToken ?? randomBytes(16).toString('hex');
  const sent: FakeTwilioMessage[] = [];
  const createsByTo = new Map<string, number>();
  let createCount = 0;
  let listCount = 0;
  let latencyMs = 0;
  const queued: FakeTwilioFailure[] = [];
  let failFn: ((to: string, body: string, create: FakeTwilioCreate) => FakeTwilioFailure | undefined) | undefined;
  const betrayals: FakeTwilioBetrayal[] = [];
  let betrayFn: ((create: FakeTwilioCreate) => FakeTwilioBetrayalMode | FakeTwilioBetrayal | undefined) | undefined;
  const listFailures: FakeTwilioFailure[] = [];
  let listFailure: FakeTwilioFailure | undefined;
  let bodyRewrite: ((body: string) => string) | undefined;
  let plan: CallbackPlan | ((m: FakeTwilioMessage) => CallbackPlan | undefined) | undefined;
  let route: ((url: string) => string) | undefined;
  const callbackLog: CallbackPost[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<unknown>>();
  const aborts = new Set<AbortController>();
  let scheduledCallbacks = 0;
  let answering = 0;
  let slowAnswers = 0;
  let closed = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const server = createServer((req, res) => {
    answering++;
    const done = () => {
      answering--;
    };
    res.once('close', done);
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { code: 20500, message: `fake-twilio: ${String(err)}`, more_info: moreInfo(20500), status: 500 });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake-twilio');
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
    const form = new URLSearchParams(raw);
    let create: FakeTwilioCreate | undefined;
    if (m && req.method === 'POST') {
      createCount++;
      const to = form.get('To') ?? '';
      const attempt = (createsByTo.get(to) ?? 0) + 1;
      createsByTo.set(to, attempt);
      const statusCallback = form.get('StatusCallback');
      create = { to, body: form.get('Body') ?? '', statusCallback, messageId: messageIdOf(statusCallback), attempt };
    }
    if (m && req.method === 'GET') listCount++;
    // The latency comes before the message is handled: a client that gives up (timeout)
    // meanwhile gets no answer, and the message is not recorded in `sent`.
    if (latencyMs > 0) await sleep(latencyMs);
    if (res.destroyed || req.socket.destroyed) return;

    if (!m) return sendError(res, 404, 20404, 'The requested resource was not found');
    if (!authorised(req.headers.authorization) || m[1] !== accountSid) {
      return sendError(res, 401, 20003, 'Authenticate');
    }

    if (req.method === 'POST' && create) {
      const betrayal = normalise(betrayals.shift() ?? betrayFn?.(create));
      if (betrayal?.mode === 'reset_before_accept') return reset(req);
      if (betrayal?.mode === 'stall_reject') return; // the client's timeout ends it; close() ends the rest
      if (betrayal?.mode === 'slow_reject') {
        const status = betrayal.status ?? 500;
        return slowJson(res, status, { code: 20500, message: 'Internal Server Error', more_info: moreInfo(20500), status }, betrayal.answerAfterMs ?? 3000, betrayal.tickMs ?? 200);
      }
      const failure = betrayal ? undefined : (queued.shift() ?? failFn?.(create.to, create.body, create));
      if (failure) return sendFailure(res, failure);
      const { to, body } = create;
      const from = form.get('From');
      const messagingServiceSid = form.get('MessagingServiceSid');
      if (!to) return sendError(res, 400, 21604, "A 'To' phone number is required.");
      if (!from && !messagingServiceSid) return sendError(res, 400, 21603, "A 'From' phone number is required.");
      if (!body) return sendError(res, 400, 21602, 'Message body is required.');
      const msg: FakeTwilioMessage = {
        sid: `SM${randomBytes(16).toString('hex')}`,
        to,
        from,
        body: bodyRewrite ? bodyRewrite(body) : body,
        requestBody: body,
        messagingServiceSid,
        statusCallback: create.statusCallback,
        messageId: create.messageId,
        status: 'queued',
        errorCode: null,
        betrayal: betrayal?.mode ?? null,
        at: new Date(),
      };
      sent.push(msg);
      scheduleCallbacks(msg);
      const resource = toResource(msg, 'queued');
      switch (betrayal?.mode) {
        case undefined:
          return sendJson(res, 201, resource);
        case 'drop_answer':
          return void req.socket.destroy();
        case 'error_after_accept': {
          const status = betrayal.status ?? 500;
          return sendError(res, status, status === 503 ? 20503 : 20500, status === 503 ? 'Service Unavailable' : 'Internal Server Error');
        }
        case 'stall':
          return;
        case 'slow_answer':
          return slowJson(res, 201, resource, betrayal.answerAfterMs ?? 3000, betrayal.tickMs ?? 200);
      }
    }

    if (req.method === 'GET') {
      const failure = listFailures.shift() ?? listFailure;
      if (failure) return sendFailure(res, failure);
      const to = url.searchParams.get('To');
      const from = url.searchParams.get('From');
      const after = parseFilterDate(url.searchParams.get('DateSent>'));
      const before = parseFilterDate(url.searchParams.get('DateSent<'));
      const pageSize = Math.min(1000, Math.max(1, Number(url.searchParams.get('PageSize')) || 50));
      const page = Math.max(0, Number(url.searchParams.get('Page')) || 0);
      const token = /^PA(\d+)$/.exec(url.searchParams.get('PageToken') ?? '');
      const offset = token ? Number(token[1]) : page * pageSize;
      const matches = sent
        .filter((s) => (to ? s.to === to : true))
        .filter((s) => (from ? s.from === from : true))
        .filter((s) => (after ? s.at.getTime() >= after.getTime() : true))
        .filter((s) => (before ? s.at.getTime() < before.getTime() : true))
        .slice()
        .reverse();
      const items = matches.slice(offset, offset + pageSize);
      const base = `${API_PREFIX}/Accounts/${accountSid}/Messages.json`;
      const pageUri = (p: number, off?: number) => {
        const q = new URLSearchParams(url.searchParams);
        q.delete('Page');
        q.delete('PageToken');
        q.set('PageSize', String(pageSize));
        q.set('Page', String(p));
        if (off !== undefined) q.set('PageToken', `PA${off}`);
        return `${base}?${q.toString()}`;
      };
      const pageNo = Math.floor(offset / pageSize);
      const more = offset + pageSize < matches.length;
      return sendJson(res, 200, {
        messages: items.map((s) => toResource(s, s.status)),
        end: offset + items.length - 1,
        first_page_uri: pageUri(0),
        next_page_uri: more ? pageUri(pageNo + 1, offset + pageSize) : null,
        page: pageNo,
        page_size: pageSize,
        previous_page_uri: pageNo > 0 ? pageUri(pageNo - 1, Math.max(0, offset - pageSize)) : null,
        start: offset,
        uri: `${base}${url.search}`,
      });
    }

    return sendError(res, 405, 20004, 'Method not allowed');
  }

  function normalise(b: FakeTwilioBetrayalMode | FakeTwilioBetrayal | undefined): FakeTwilioBetrayal | undefined {
    return typeof b === 'string' ? { mode: b } : b;
  }

  function reset(req: IncomingMessage): void {
    // An RST where the platform can send one; a plain destroy otherwise.
    const s = req.socket as IncomingMessage['socket'] & { resetAndDestroy?: () => void };
    if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
    else s.destroy();
  }

  /** The status, then whitespace a byte at a time (JSON allows it), then the body: never idle long enough for a socket timeout. */
  function slowJson(res: ServerResponse, status: number, body: unknown, totalMs: number, tickMs: number): void {
    slowAnswers++;
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.flushHeaders();
    const until = Date.now() + totalMs;
    const finish = () => {
      slowAnswers--;
    };
    const tick = () => {
      if (closed || res.destroyed) return finish();
      if (Date.now() >= until) {
        finish();
        res.end(JSON.stringify(body));
        return;
      }
      res.write(' ');
      const t = setTimeout(() => {
        timers.delete(t);
        tick();
      }, tickMs);
      timers.add(t);
    };
    tick();
  }

  function scheduleCallbacks(msg: FakeTwilioMessage): void {
    const p = typeof plan === 'function' ? plan(msg) : plan;
    if (!p) {
      // No callbacks: the old simplification, a created message is simply "sent".
      msg.status = 'sent';
      return;
    }
    const steps = (p.steps ?? DEFAULT_STEPS).map((s) => (typeof s === 'string' ? { status: s } : s));
    const order = p.reorder ? steps.slice().reverse() : steps;
    const delay = p.delayMs ?? 20;
    const gap = p.gapMs ?? 20;
    // Twilio's own state moves in the true order, whatever happens to the posts.
    steps.forEach((step, i) => {
      const t = setTimeout(() => {
        timers.delete(t);
        msg.status = step.status;
        msg.errorCode = step.errorCode ?? null;
      }, delay + i * gap);
      timers.add(t);
    });
    // One message's callbacks go one after another (each waits for the answer to the one
    // before), so their order is the plan's, never the network's: `reorder` is the way to
    // ask for another.
    let chain: Promise<unknown> = Promise.resolve();
    order.forEach((step, i) => {
      const lost = p.lose === true || (typeof p.lose === 'function' && p.lose(step, steps.indexOf(step)));
      if (lost || !msg.statusCallback) return;
      for (let copy = 0; copy < (p.duplicate ? 2 : 1); copy++) {
        scheduledCallbacks++;
        const t = setTimeout(() => {
          timers.delete(t);
          const posting = chain.then(() => post(msg, step)).catch(() => undefined).finally(() => {
            scheduledCallbacks--;
            inFlight.delete(posting);
          });
          chain = posting;
          inFlight.add(posting);
        }, delay + i * gap + copy);
        timers.add(t);
      }
    });
  }

  /** One status callback, as Twilio sends it: form-encoded, signed over the StatusCallback URL as given. */
  async function post(msg: FakeTwilioMessage, step: CallbackStep): Promise<CallbackPost> {
    const url = msg.statusCallback;
    if (!url) throw new Error(`message ${msg.sid} has no StatusCallback`);
    const params: Record<string, string> = {
      AccountSid: accountSid,
      ApiVersion: '2010-04-01',
      From: msg.from ?? '',
      MessageSid: msg.sid,
      MessageStatus: step.status,
      SmsSid: msg.sid,
      SmsStatus: step.status,
      To: msg.to,
    };
    if (msg.messagingServiceSid) params.MessagingServiceSid = msg.messagingServiceSid;
    if (!msg.from) delete params.From;
    if (step.errorCode) params.ErrorCode = step.errorCode;
    const signature = signTwilioRequest(authToken, url, params);
    const postedTo = route ? route(url) : url;
    const entry: CallbackPost = { sid: msg.sid, messageId: msg.messageId, status: step.status, url, postedTo, params, signature, answer: 'pending' };
    callbackLog.push(entry);
    if (closed) {
      entry.answer = 'closed';
      return entry;
    }
    const abort = new AbortController();
    aborts.add(abort);
    const timeout = setTimeout(() => abort.abort(), 5000);
    try {
      const res = await fetch(postedTo, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature, 'User-Agent': 'TwilioProxy/1.1' },
        body: new URLSearchParams(params).toString(),
        signal: abort.signal,
      });
      await res.arrayBuffer();
      entry.answer = res.status;
    } catch (err) {
      entry.answer = (err as Error).name === 'AbortError' ? 'aborted' : String((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
    } finally {
      clearTimeout(timeout);
      aborts.delete(abort);
    }
    return entry;
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
      error_code: s.errorCode === null ? null : Number(s.errorCode),
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

  const idle = async (busy: () => boolean, what: string, ms = 30_000) => {
    const until = Date.now() + ms;
    while (busy()) {
      if (Date.now() > until) throw new Error(`fake-twilio: ${what} still busy after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    sent,
    sentFor: (messageId) => sent.filter((s) => s.messageId === String(messageId)),
    creates: () => createCount,
    createsTo: (to) => createsByTo.get(to) ?? 0,
    lists: () => listCount,
    failNext(n, failure) {
      for (let i = 0; i < n; i++) queued.push(failure);
    },
    failWhen(fn) {
      failFn = fn;
    },
    betrayNext(n, betrayal) {
      for (let i = 0; i < n; i++) betrayals.push(normalise(betrayal)!);
    },
    betrayWhen(fn) {
      betrayFn = fn;
    },
    failListNext(n, failure = { status: 500, code: 20500, message: 'Internal Server Error' }) {
      for (let i = 0; i < n; i++) listFailures.push(failure);
    },
    failLists(failure) {
      listFailure = failure;
    },
    rewriteBody(fn) {
      bodyRewrite = fn;
    },
    callbacks(p) {
      plan = p;
    },
    routeCallbacks(fn) {
      route = fn;
    },
    async postCallback(sid, step) {
      const msg = sent.find((s) => s.sid === sid);
      if (!msg) throw new Error(`fake-twilio: no stored message ${sid}`);
      const s = typeof step === 'string' ? { status: step } : step;
      msg.status = s.status;
      msg.errorCode = s.errorCode ?? null;
      return post(msg, s);
    },
    callbackLog,
    callbacksIdle: () => idle(() => scheduledCallbacks > 0 || inFlight.size > 0, 'callbacks'),
    pendingAnswers: () => answering,
    answersIdle: () => idle(() => slowAnswers > 0, 'slow answers'),
    setLatency(ms) {
      latencyMs = ms;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const a of aborts) a.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Our message id from a StatusCallback URL's `messageId` query parameter. */
export function messageIdOf(statusCallback: string | null | undefined): string | null {
  if (!statusCallback) return null;
  try {
    return new URL(statusCallback).searchParams.get('messageId');
  } catch {
    return null;
  }
}

/**
 * X-Twilio-Signature as Twilio computes it, written out rather than borrowed from the
 * twilio package so that the fake checks the app against the documented algorithm: the
 * full URL (query string included), then each POST parameter's name and value, sorted
 * by name, concatenated; HMAC-SHA1 with the auth token; base64.
 */
export function signTwilioRequest(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
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
