import type { Params } from 'nestjs-pino';
import pino from 'pino';
type DestinationStream = pino.DestinationStream;
import type { IncomingMessage } from 'node:http';
import { scrubPii, scrubUrl } from './pii.js';

const CENSOR = '[redacted]';

/**
 * Keys whose values are secrets (or bound query parameters, which hold personal data)
 * at any depth of a logged object, compared without case, "-" or "_": password,
 * passwordHash, apiKey, x-api-key, accessToken, authToken, webhookSecret, customerHashKey,
 * authorization, cookie, set-cookie, x-twilio-signature, parameters…
 */
const SECRET_KEY = /(password|passwordhash|secret|token|apikey|hashkey|authorization|cookie|signature|parameters)$/;
const isSecretKey = (key: string) => SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));

/**
 * Structured logs with secrets and personal data removed: auth headers, cookies,
 * signatures, passwords and tokens are redacted by key at any depth; phone numbers and
 * emails are masked wherever they appear in a message, a URL (even percent-encoded), a
 * header or an Error (message, stack, properties and causes).
 */
export function pinoParams(level: string, destination?: DestinationStream): Params {
  return {
    pinoHttp: [{
      level,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-twilio-signature"]',
          'req.headers["webhook-signature"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.apiKey',
          '*.accessToken',
          '*.token',
        ],
        censor: CENSOR,
      },
      serializers: {
        req: (req: IncomingMessage & { id?: unknown; raw?: IncomingMessage }) => ({
          id: req.id,
          method: req.method,
          url: scrubUrl(req.url ?? ''),
          headers: scrubHeaders(req.headers),
        }),
        res: (res: { statusCode?: number; headers?: Record<string, unknown> }) => ({
          statusCode: res.statusCode,
          headers: scrubHeaders(res.headers ?? {}),
        }),
      },
      hooks: {
        // Runs before pino takes a message from an Error (logger.error(err)), so that
        // message is scrubbed too.
        logMethod(args, method) {
          method.apply(this, args.map((a) => scrubObject(a)) as Parameters<typeof method>);
        },
      },
      formatters: {
        log(obj: Record<string, unknown>) {
          return scrubObject(obj) as Record<string, unknown>;
        },
      },
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' || req.url === '/metrics' },
      // Provider callbacks come by the thousand per second: only their failures are logged.
      customLogLevel: (req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : req.url?.startsWith('/webhooks/') ? 'silent' : 'info',
    }, destination ?? pino.destination(1)],
  };
}

function scrubHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) {
    out[k] = isSecretKey(k) ? CENSOR : typeof v === 'string' ? scrubUrl(v) : Array.isArray(v) ? (v as unknown[]).map((x) => (typeof x === 'string' ? scrubUrl(x) : x)) : v;
  }
  return out;
}

function scrubObject(value: unknown, depth = 0): unknown {
  if (depth > 6) return value;
  if (typeof value === 'string') return scrubPii(value);
  if (Array.isArray(value)) return value.map((v) => scrubObject(v, depth + 1));
  if (value instanceof Error) return scrubError(value, depth);
  if (value && typeof value === 'object' && (value).constructor === Object) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) ? CENSOR : scrubObject(v, depth + 1);
    }
    return out;
  }
  return value;
}

/**
 * A copy of an Error (same prototype, so pino still names its type) with its message,
 * stack, own properties (a database error's detail, a query's parameters) and cause
 * scrubbed.
 */
function scrubError(err: Error, depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(err) as object | null) as Error & Record<string, unknown>;
  const hidden = (key: string, v: unknown) => Object.defineProperty(copy, key, { value: v, writable: true, configurable: true, enumerable: false });
  hidden('message', scrubPii(String(err.message ?? '')));
  if (err.stack !== undefined) hidden('stack', scrubPii(String(err.stack)));
  if (Object.prototype.hasOwnProperty.call(err, 'name')) hidden('name', err.name);
  if (err.cause !== undefined) hidden('cause', scrubObject(err.cause, depth + 1));
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors)) hidden('errors', scrubObject(errors, depth + 1));
  for (const [k, v] of Object.entries(err)) {
    copy[k] = isSecretKey(k) ? CENSOR : scrubObject(v, depth + 1);
  }
  return copy;
}
