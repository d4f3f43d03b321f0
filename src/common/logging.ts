import type { Params } from 'nestjs-pino';
import pino from 'pino';
type DestinationStream = pino.DestinationStream;
import type { IncomingMessage } from 'node:http';
import { scrubPii } from './pii.js';

/**
 * Structured logs with secrets and personal data removed: auth headers, cookies and
 * webhook signatures are redacted by path; phone numbers and emails are masked wherever
 * they appear in a message or a URL.
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
        censor: '[redacted]',
      },
      serializers: {
        req: (req: IncomingMessage & { id?: unknown; raw?: IncomingMessage }) => ({
          id: req.id,
          method: req.method,
          url: scrubPii(req.url ?? ''),
          headers: req.headers,
        }),
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrubPii(a) : a)) as Parameters<typeof method>,
          );
        },
      },
      formatters: {
        log(obj: Record<string, unknown>) {
          return scrubObject(obj) as Record<string, unknown>;
        },
      },
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' || req.url === '/metrics' },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }, destination ?? pino.destination(1)],
  };
}

function scrubObject(value: unknown, depth = 0): unknown {
  if (depth > 6) return value;
  if (typeof value === 'string') return scrubPii(value);
  if (Array.isArray(value)) return value.map((v) => scrubObject(v, depth + 1));
  if (value && typeof value === 'object' && (value as object).constructor === Object) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === 'headers' ? v : scrubObject(v, depth + 1);
    }
    return out;
  }
  return value;
}
