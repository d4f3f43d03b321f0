import { ConflictException, HttpException, HttpStatus, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectDataSource } from '@nestjs/typeorm';
import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { queryOne } from '../../database/sql.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { Actor, AuditService } from '../audit/audit.service.js';
import { BankAuthService } from './bank-auth.service.js';
import { STAFF_ROLES, StaffRole } from './staff-user.entity.js';

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

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jwt: JwtService,
    private readonly audit: AuditService,
  ) {}

  async login(emailInput: string, password: string, ip: string | null): Promise<{ accessToken: string; expiresIn: number }> {
    const email = emailInput.trim().toLowerCase();
    const rows: Array<{ id: string; role: StaffRole; password_hash: string; disabled: boolean; locked_until: Date | null }> =
      await this.ds.query(
        `SELECT id, role, password_hash, disabled, locked_until FROM staff_users WHERE email = $1`,
        [email],
      );
    const user = rows[0];
    if (!user) {
      await verify(await DUMMY_HASH_PROMISE, password).catch(() => false);
      await this.audit.record({ actor: { type: 'staff', id: null, ip }, action: 'auth.login_failed', details: { email, reason: 'unknown_email' } });
      throw new UnauthorizedException('Email or password is wrong');
    }
    const actor: Actor = { type: 'staff', id: user.id, ip };
    if (user.locked_until && user.locked_until.getTime() > Date.now()) {
      await this.audit.record({ actor, action: 'auth.login_refused_locked', subjectType: 'staff_user', subjectId: user.id });
      throw lockedError(user.locked_until);
    }
    const ok = !user.disabled && (await verify(user.password_hash, password).catch(() => false));
    if (!ok) {
      // One conditional statement counts the failure and, at the limit, locks the account
      // (and restarts the count), so concurrent attempts cannot slip past the limit.
      const updated = await queryOne<{ locked_until: Date | null; just_locked: boolean }>(
        this.ds,
        `UPDATE staff_users
            SET failed_login_count = CASE WHEN failed_login_count + 1 >= $2 THEN 0 ELSE failed_login_count + 1 END,
                locked_until = CASE WHEN failed_login_count + 1 >= $2 THEN now() + make_interval(mins => $3) ELSE locked_until END,
                updated_at = now()
          WHERE id = $1
          RETURNING locked_until, (failed_login_count = 0) AS just_locked`,
        [user.id, this.config.loginMaxFailures, this.config.loginLockMinutes],
      );
      const reason = user.disabled ? 'disabled' : 'bad_password';
      if (updated?.just_locked && updated.locked_until) {
        await this.audit.record({ actor, action: 'auth.account_locked', subjectType: 'staff_user', subjectId: user.id, details: { reason } });
        throw lockedError(updated.locked_until);
      }
      await this.audit.record({ actor, action: 'auth.login_failed', subjectType: 'staff_user', subjectId: user.id, details: { reason } });
      throw new UnauthorizedException('Email or password is wrong');
    }
    await this.ds.query(
      `UPDATE staff_users SET failed_login_count = 0, locked_until = NULL, last_login_at = now() WHERE id = $1`,
      [user.id],
    );
    await this.audit.record({ actor, action: 'auth.login', subjectType: 'staff_user', subjectId: user.id });
    const accessToken = await this.jwt.signAsync(
      { sub: user.id, email, role: user.role },
      { expiresIn: this.config.jwtExpiresInSeconds },
    );
    return { accessToken, expiresIn: this.config.jwtExpiresInSeconds };
  }

  async createUser(input: { email: string; password: string; role: string; displayName?: string }, by: Actor): Promise<CreatedUser> {
    const email = (input.email ?? '').trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new InputError(`"${input.email}" is not a valid email address`);
    if (!STAFF_ROLES.includes(input.role as StaffRole)) {
      throw new InputError(`role must be one of ${STAFF_ROLES.join(', ')} (got "${input.role}")`);
    }
    if (typeof input.password !== 'string' || input.password.length < 12) {
      throw new InputError('password must be at least 12 characters long');
    }
    const passwordHash = await hash(input.password);
    return this.ds.transaction(async (m) => {
      const rows: CreatedUser[] = await m.query(
        `INSERT INTO staff_users (email, password_hash, role, display_name) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO NOTHING RETURNING id, email, role`,
        [email, passwordHash, input.role, input.displayName ?? null],
      );
      if (!rows[0]) throw new ConflictException(`A user with email ${email} already exists`);
      await this.audit.record(
        { actor: by, action: 'user.created', subjectType: 'staff_user', subjectId: rows[0].id, details: { email, role: input.role } },
        m,
      );
      return rows[0];
    });
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

function lockedError(until: Date): HttpException {
  return new HttpException(
    {
      statusCode: HttpStatus.TOO_MANY_REQUESTS,
      error: 'Too Many Requests',
      message: `This account is locked after too many failed logins; try again after ${until.toISOString()} or ask an admin`,
      lockedUntil: until.toISOString(),
    },
    HttpStatus.TOO_MANY_REQUESTS,
  );
}
