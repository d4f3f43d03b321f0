import { Inject, Injectable } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { RedisRateLimitStore } from '../rate-limit/redis-rate-limit.store.js';

const KNOWN_ADDRESS_MS = 30 * 24 * 3600_000;

export type LockScope = 'address' | 'account';

/**
 * Failed logins are counted per (email, client address) and per email across all
 * addresses, for any email, account or not (docs/decisions.md, "Login throttling"):
 * - after LOGIN_MAX_FAILURES attempts from one address with no success, that address is
 *   locked out of that email for LOGIN_LOCK_MINUTES; the owner, elsewhere, is not;
 * - LOGIN_ACCOUNT_MAX_FAILURES across addresses within LOGIN_ACCOUNT_WINDOW_MINUTES (a
 *   distributed guess) stop every address that has not logged in to it before, for the
 *   rest of that window; addresses the owner logged in from keep working.
 * Nothing here depends on whether the account exists, so the answers cannot tell.
 */
@Injectable()
export class LoginLockout {
  constructor(
    private readonly store: RedisRateLimitStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Counts an attempt from this address before its password is checked, so parallel
   * attempts cannot all be checked before the first failure is counted. Says how long
   * this attempt must wait (0: it may try) and whether it started a lock.
   */
  async attempt(email: string, ip: string | null): Promise<{ ms: number; scope: LockScope | null; started: boolean }> {
    const lockMs = this.config.loginLockMinutes * 60_000;
    // LOGIN_MAX_FAILURES attempts are checked; the next one, without a success between, is refused.
    const pair = await this.store.hit(pairName(email), address(ip), lockMs, this.config.loginMaxFailures + 1, lockMs);
    if (pair.blockedMs > 0) return { ms: pair.blockedMs, scope: 'address', started: pair.justBlocked };
    const account = await this.store.blockedFor('login-account', email);
    if (account > 0 && !(await this.known(email, ip))) return { ms: account, scope: 'account', started: false };
    return { ms: 0, scope: null, started: false };
  }

  /** Counts a failure against the email across all addresses; true when it started the account-wide lock. */
  async failed(email: string): Promise<boolean> {
    const windowMs = this.config.loginAccountWindowMinutes * 60_000;
    const account = await this.store.hit('login-account', email, windowMs, this.config.loginAccountMaxFailures, windowMs);
    return account.justBlocked;
  }

  /** A good login: this address starts afresh and is remembered as the owner's. */
  async succeeded(email: string, ip: string | null): Promise<void> {
    await this.store.reset(pairName(email), address(ip));
    await this.store.remember('login-known', `${email}\n${address(ip)}`, KNOWN_ADDRESS_MS);
  }

  /** Ends every lock on this email, from every address (`user:unlock`). */
  async clear(email: string): Promise<void> {
    await this.store.resetAll(`${pairName(email)}:`);
    await this.store.reset('login-account', email);
  }

  private known(email: string, ip: string | null): Promise<boolean> {
    return this.store.remembers('login-known', `${email}\n${address(ip)}`);
  }
}

// The email's hash in the counter's name keeps all of one email's counters findable together.
function pairName(email: string): string {
  return `login-pair:${createHash('sha256').update(email).digest('hex').slice(0, 16)}`;
}

// An IPv6 client holds a whole /64, so the lock covers it, as the throttler's limits do.
function address(ip: string | null): string {
  if (!ip) return 'unknown';
  return normalizeIp(ip.startsWith('::ffff:') ? ip.slice(7) : ip);
}
