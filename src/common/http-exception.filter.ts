import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';

/**
 * One error shape everywhere: {statusCode, error, message} with a message a person can
 * act on. Unexpected errors become a bare 500: their text may hold data and goes to the
 * log (scrubbed by the logger), not to the caller.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body } = toErrorBody(exception);
    if (!(exception instanceof HttpException)) {
      const err = exception as Error;
      if (status >= 500) this.logger.error({ err: { name: err?.name, message: err?.message, stack: err?.stack } }, 'request failed');
    }
    if (res.headersSent) return;
    const retryAfter = (exception as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfter))));
    // Explicitly: a route's @Header('Content-Type') (the metrics' text/plain) is already
    // set when the error is thrown, and res.json keeps a type that is set.
    res.status(status).type('application/json').json(body);
  }
}

export function toErrorBody(exception: unknown): { status: number; body: Record<string, unknown> } {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const extra = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
    const rawMessage = typeof response === 'string' ? response : (extra.message ?? exception.message);
    const message = Array.isArray(rawMessage) ? rawMessage.join('; ') : typeof rawMessage === 'string' ? rawMessage : JSON.stringify(rawMessage);
    return { status, body: { ...extra, statusCode: status, error: STATUS_CODES[status] ?? 'Error', message } };
  }
  // Errors from Express middleware (body parser: bad JSON, payload too large) carry a status.
  const e = exception as { status?: unknown; statusCode?: unknown; type?: string; message?: string };
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const message =
      e.type === 'entity.parse.failed'
        ? 'The request body is not valid JSON'
        : e.type === 'entity.too.large'
          ? 'The request body is too large'
          : (e.message ?? 'Bad request');
    return { status, body: { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message } };
  }
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    body: { statusCode: 500, error: 'Internal Server Error', message: 'Something went wrong on our side; it has been logged' },
  };
}
