import { applyDecorators, HttpException, HttpStatus, SetMetadata } from '@nestjs/common';
import { Throttle } from '@nestjs/throttler';

/**
 * The named limits every request meets (src/modules/rate-limit): `global` per client
 * address on every route but /health, /metrics and /webhooks/*; `public` per address and
 * route on each @Public() route; `webhook` per address across /webhooks/*; `login` per
 * address on the login route.
 */
export const LOGIN_THROTTLE = 'rate-limit:login';

/** Puts a route under the per-address login limit (RATE_LIMIT_LOGIN_PER_IP). */
export const LoginRateLimit = () => SetMetadata(LOGIN_THROTTLE, true);

/**
 * Gives a @Public() route its own per-address limit instead of RATE_LIMIT_PUBLIC_PER_IP,
 * for pages a person may reload often or forms that must be slower to guess against.
 */
export const PublicRateLimit = (limit: number, windowSeconds: number) =>
  applyDecorators(Throttle({ public: { limit, ttl: windowSeconds * 1000, blockDuration: windowSeconds * 1000 } }));

/** A 429 that says when to come back; HttpErrorFilter copies `retryAfterSeconds` into `Retry-After`. */
export class TooManyRequestsError extends HttpException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, HttpStatus.TOO_MANY_REQUESTS);
  }
}
