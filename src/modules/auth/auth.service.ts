import { ConflictException, HttpException, Inject, Injectable, NotFoundException, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectDataSource } from '@nestjs/typeorm';
import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TooManyRequestsError } from '../../common/rate-limit.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { Actor, AuditService } from '../audit/audit.service.js';
import { BankAuthService } from './bank-auth.service.js';
import { LoginLockout } from './login-lockout.js';
import { StaffAccessCache } from './staff-access.cache.js';
import { STAFF_ROLES, StaffRole } from './staff-user.entity.js';
import { StaffUsersRepository } from './staff-users.repository.js';

// A hash of a random password, verified when the email is unknown so that a bad email
// and a bad password take the same time.
const DUMMY_HASH_PROMISE = hash(randomBytes(16).toString('hex'));

export interface CreatedUser {
  id: string;
  email: string;
  role: StaffRole;
}

export interface CreatedBank {
  id: string;
  name: string;
  apiKey: string;
  apiKeyPrefix: string;
  webhookUrl: string | null;
  webhookSecret: string;
  customerHashKey: string;
}

export class InputError extends Error {}

const WRONG = 'Email or password is wrong';
const LOCKED =
  'Too many failed logins for this email from your address; wait for the number of seconds in the Retry-After header, then try again, or ask an admin';

export function normaliseEmail(input: string): string {
  return (input ?? '').trim().toLowerCase();
}

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jwt: JwtService,
    private readonly audit: AuditService,
    private readonly users: StaffUsersRepository,
    private readonly lockout: LoginLockout,
    private readonly access: StaffAccessCache,
  ) {}

  /**
   * Every way a login can fail (unknown email, wrong password, disabled account, a lock)
   * looks the same to the caller for the same history of attempts: the lock is kept per
   * email string, not per account, and a password is always checked against some hash.
   */
  async login(emailInput: string, password: string, ip: string | null): Promise<{ accessToken: string; expiresIn: number }> {
    const email = normaliseEmail(emailInput);
    const user = await this.users.findForLogin(email);
    const actor: Actor = { type: 'staff', id: user?.id ?? null, ip };
    const subject = { subjectType: 'staff_user', subjectId: user?.id ?? null };

    const attempt = await this.guarded(() => this.lockout.attempt(email, ip));
    if (attempt.started) await this.audit.record({ actor, action: 'auth.account_locked', ...subject, details: { email, scope: attempt.scope } });
    if (attempt.ms > 0) {
      await this.audit.record({ actor, action: 'auth.login_refused_locked', ...subject, details: { email, scope: attempt.scope } });
      throw new TooManyRequestsError(LOCKED, attempt.ms / 1000);
    }

    const passwordOk = await verify(user?.password_hash ?? (await DUMMY_HASH_PROMISE), password).catch(() => false);
    if (!user || !passwordOk || user.disabled) {
      const reason = !user ? 'unknown_email' : !passwordOk ? 'bad_password' : 'disabled';
      await this.audit.record({ actor, action: 'auth.login_failed', ...subject, details: { email, reason } });
      if (await this.guarded(() => this.lockout.failed(email))) {
        await this.audit.record({ actor, action: 'auth.account_locked', ...subject, details: { email, scope: 'account' } });
      }
      throw new UnauthorizedException(WRONG);
    }

    await this.guarded(() => this.lockout.succeeded(email, ip));
    await this.users.recordLogin(user.id);
    await this.audit.record({ actor, action: 'auth.login', ...subject });
    const accessToken = await this.jwt.signAsync(
      { sub: user.id, tv: user.token_version },
      { expiresIn: this.config.jwtExpiresInSeconds, issuer: this.config.jwtIssuer, audience: this.config.jwtAudience },
    );
    return { accessToken, expiresIn: this.config.jwtExpiresInSeconds };
  }

  /** Ends every token of this user, on every process within ACCESS_CACHE_MS (here at once). */
  async logout(userId: string, ip: string | null): Promise<void> {
    await this.ds.transaction(async (m) => {
      await this.users.bumpTokenVersion(m, userId);
      await this.audit.record({ actor: { type: 'staff', id: userId, ip }, action: 'auth.logout', subjectType: 'staff_user', subjectId: userId }, m);
    });
    this.access.invalidate(userId);
  }

  /** Lifts every login lock on this email (any address, and the account-wide one). */
  async unlock(emailInput: string, by: Actor): Promise<{ email: string }> {
    const email = normaliseEmail(emailInput);
    const user = await this.users.findForLogin(email);
    await this.lockout.clear(email);
    await this.audit.record({ actor: by, action: 'auth.account_unlocked', subjectType: 'staff_user', subjectId: user?.id ?? null, details: { email } });
    return { email };
  }

  /** Sets a new password and ends the user's tokens. */
  async setPassword(emailInput: string, password: string, by: Actor): Promise<{ id: string; email: string }> {
    const email = normaliseEmail(emailInput);
    checkPassword(password);
    const passwordHash = await hash(password);
    const id = await this.ds.transaction(async (m) => {
      const user = await this.users.findByEmail(m, email);
      if (!user) throw new NotFoundException(`No user has the email ${email}`);
      await this.users.setPassword(m, user.id, passwordHash);
      await this.audit.record({ actor: by, action: 'user.password_changed', subjectType: 'staff_user', subjectId: user.id }, m);
      return user.id;
    });
    this.access.invalidate(id);
    return { id, email };
  }

  async createUser(input: { email: string; password: string; role: string; displayName?: string }, by: Actor): Promise<CreatedUser> {
    const email = normaliseEmail(input.email);
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new InputError(`"${input.email}" is not a valid email address`);
    if (!STAFF_ROLES.includes(input.role as StaffRole)) {
      throw new InputError(`role must be one of ${STAFF_ROLES.join(', ')} (got "${input.role}")`);
    }
    checkPassword(input.password);
    const passwordHash = await hash(input.password);
    return this.ds.transaction(async (m) => {
      const rows = await this.users.insert(m, { email, passwordHash, role: input.role as StaffRole, displayName: input.displayName ?? null });
      if (!rows[0]) throw new ConflictException(`A user with email ${email} already exists`);
      await this.audit.record(
        { actor: by, action: 'user.created', subjectType: 'staff_user', subjectId: rows[0].id, details: { email, role: input.role } },
        m,
      );
      return rows[0];
    });
  }

  /** Login needs the lockout's counters (per process while Redis is away); should they fail, it refuses rather than allow unlimited guesses. */
  private async guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HttpException) throw err;
      throw new ServiceUnavailableException('Login is unavailable for a moment (the rate-limit store cannot be reached); try again shortly');
    }
  }

  async createBank(input: { name: string; webhookUrl?: string; institutionCode?: string }, by: Actor): Promise<CreatedBank> {
    const name = (input.name ?? '').trim();
    if (name.length < 2 || name.length > 200) throw new InputError('name must be 2 to 200 characters long');
    const webhookUrl = input.webhookUrl ? this.checkWebhookUrl(input.webhookUrl) : null;
    const key = BankAuthService.newApiKey();
    const webhookSecret = 'whsec_' + randomBytes(32).toString('base64');
    const customerHashKey = randomBytes(32).toString('base64');
    return this.ds.transaction(async (m) => {
      const rows: Array<{ id: string }> = await m.query(
        `INSERT INTO banks (name, api_key_hash, api_key_prefix, webhook_url, webhook_secret, customer_hash_key, institution_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT ((lower(name))) DO NOTHING RETURNING id`,
        [name, key.hash, key.prefix, webhookUrl, webhookSecret, customerHashKey, input.institutionCode ?? null],
      );
      if (!rows[0]) throw new ConflictException(`A bank named "${name}" already exists`);
      await this.audit.record(
        { actor: by, action: 'bank.created', subjectType: 'bank', subjectId: rows[0].id, details: { name, apiKeyPrefix: key.prefix, webhookUrl } },
        m,
      );
      return { id: rows[0].id, name, apiKey: key.key, apiKeyPrefix: key.prefix, webhookUrl, webhookSecret, customerHashKey };
    });
  }

  /** Webhooks must be https, unless ALLOW_INSECURE_WEBHOOKS permits http to loopback. */
  checkWebhookUrl(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new InputError(`webhook URL "${raw}" is not a valid URL`);
    }
    if (url.protocol === 'https:') return url.toString();
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (url.protocol === 'http:' && loopback && this.config.allowInsecureWebhooks) return url.toString();
    throw new InputError('webhook URL must use https (http is allowed only to loopback with ALLOW_INSECURE_WEBHOOKS=true)');
  }
}

function checkPassword(password: unknown): void {
  if (typeof password !== 'string' || password.length < 12) throw new InputError('password must be at least 12 characters long');
  if (password.length > 1024) throw new InputError('password must be at most 1024 characters long');
}
