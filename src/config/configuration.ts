import { randomBytes } from 'node:crypto';

/**
 * Typed, validated configuration. Read once at start; a bad value stops the process
 * with a message naming the variable (StyleGuide: config validated at start).
 * Pure: no Nest import, so the CLI, migrations and tests share it.
 */
export type AppRole = 'all' | 'api' | 'worker';
export type SmsProviderName = 'sandbox' | 'twilio';
export type EmailProviderName = 'sandbox' | 'smtp';

export interface AppConfig {
  nodeEnv: string;
  databaseUrl: string;
  redisUrl: string;
  port: number;
  appRole: AppRole;
  publicBaseUrl: string;
  smsProvider: SmsProviderName;
  twilio: {
    accountSid?: string;
    authToken?: string;
    from?: string;
    messagingServiceSid?: string;
    apiUrl?: string;
  };
  emailProvider: EmailProviderName;
  smtpUrl?: string;
  emailFrom: string;
  jwtSecret: string;
  jwtSecretGenerated: boolean;
  jwtExpiresInSeconds: number;
  smsRatePerSecond: number;
  emailRatePerSecond: number;
  workerConcurrency: number;
  orgName: string;
  allowedLinkDomains: string[];
  smsMaxSegments: number;
  referralRequiresConsent: boolean;
  allowInsecureWebhooks: boolean;
  queuePrefix: string;
  maxUploadBytes: number;
  uploadDir: string;
  logLevel: string;
  loginMaxFailures: number;
  loginLockMinutes: number;
  shutdownTimeoutMs: number;
  importParallelMinBytes: number;
  /** Most messages one person may get, across campaigns, within frequencyCapDays. */
  frequencyCapMax: number;
  frequencyCapDays: number;
  /** A message in `sending` longer than this is resolved against the provider or marked unknown. */
  sendingTimeoutMs: number;
  reconcileIntervalMs: number;
  /** First retry delay of a failed send; doubles each attempt, with jitter. */
  sendRetryBaseMs: number;
  sendMaxAttempts: number;
  providerTimeoutMs: number;
  /** Sandbox providers: simulated answer time of a send, and delay before a simulated receipt. */
  sandboxLatencyMs: number;
  sandboxReceiptDelayMs: number;
  /** Serve the OpenAPI document and Swagger UI at /api/docs (default: on outside production). */
  apiDocsEnabled: boolean;
  /** Bearer token /metrics asks for; without one /metrics is open outside production and off in it. */
  metricsToken?: string;
  /** Staff tokens: required `iss` and `aud` claims. */
  jwtIssuer: string;
  jwtAudience: string;
  /** How long the guard may trust what it read of a user's role, `disabled` and token version. */
  accessCacheMs: number;
  /** Failed logins per email across all client addresses that stop unfamiliar addresses, within loginAccountWindowMinutes. */
  loginAccountMaxFailures: number;
  loginAccountWindowMinutes: number;
  /** Requests per client address per window (Redis, shared by every api process). */
  rateLimit: {
    windowSeconds: number;
    globalPerIp: number;
    publicPerIp: number;
    loginPerIp: number;
    webhookPerIp: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  str(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${v}")`);
      return fallback;
    }
    return Number(v);
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['true', '1', 'yes'].includes(v)) return true;
    if (['false', '0', 'no'].includes(v)) return false;
    this.problems.push(`${name} must be true or false (got "${v}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${v}")`);
      return fallback;
    }
    return v as T;
  }

  url(name: string, fallback: string | undefined, protocols: string[]): string | undefined {
    const v = this.raw(name) ?? fallback;
    if (v === undefined) return undefined;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')} (got "${redactUrl(v)}")`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL (got "${redactUrl(v)}")`);
    }
    return v;
  }
}

/** Never echo a password from a URL into an error or a log. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}

export function loadConfig(env: Env = process.env): AppConfig {
  const r = new Reader(env);
  const nodeEnv = r.str('NODE_ENV', 'development');
  const production = nodeEnv === 'production';

  const port = r.int('PORT', 3000, 0, 65535);
  const publicBaseUrl = (r.url('PUBLIC_BASE_URL', `http://localhost:${port}`, ['http:', 'https:']) ?? '').replace(/\/+$/, '');

  const smsProvider = r.oneOf<SmsProviderName>('SMS_PROVIDER', 'sandbox', ['sandbox', 'twilio']);
  const twilio = {
    accountSid: r.optional('TWILIO_ACCOUNT_SID'),
    authToken: r.optional('TWILIO_AUTH_TOKEN'),
    from: r.optional('TWILIO_FROM'),
    messagingServiceSid: r.optional('TWILIO_MESSAGING_SERVICE_SID'),
    apiUrl: r.url('TWILIO_API_URL', undefined, ['http:', 'https:']),
  };
  if (smsProvider === 'twilio') {
    if (!twilio.accountSid) r.problems.push('TWILIO_ACCOUNT_SID is required when SMS_PROVIDER=twilio');
    if (!twilio.authToken) r.problems.push('TWILIO_AUTH_TOKEN is required when SMS_PROVIDER=twilio');
    if (!twilio.from && !twilio.messagingServiceSid) {
      r.problems.push('TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required when SMS_PROVIDER=twilio');
    }
  }

  const emailProvider = r.oneOf<EmailProviderName>('EMAIL_PROVIDER', 'sandbox', ['sandbox', 'smtp']);
  const smtpUrl = r.url('SMTP_URL', undefined, ['smtp:', 'smtps:']);
  if (emailProvider === 'smtp' && !smtpUrl) r.problems.push('SMTP_URL is required when EMAIL_PROVIDER=smtp');

  let jwtSecret = r.optional('JWT_SECRET');
  let jwtSecretGenerated = false;
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    r.problems.push('JWT_SECRET must be at least 32 characters long');
  }
  if (jwtSecret === undefined) {
    if (production) r.problems.push('JWT_SECRET is required when NODE_ENV=production');
    // Outside production a random per-process secret is safer than a well-known default:
    // tokens simply stop working after a restart.
    jwtSecret = randomBytes(32).toString('base64url');
    jwtSecretGenerated = true;
  }

  const allowedLinkDomains = r
    .str('ALLOWED_LINK_DOMAINS', 'police.uk,gov.uk')
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
  for (const d of allowedLinkDomains) {
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(d)) r.problems.push(`ALLOWED_LINK_DOMAINS has an invalid domain "${d}"`);
  }

  const config: AppConfig = {
    nodeEnv,
    databaseUrl: r.url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/outreach', ['postgres:', 'postgresql:'])!,
    redisUrl: r.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:'])!,
    port,
    appRole: r.oneOf<AppRole>('APP_ROLE', 'all', ['all', 'api', 'worker']),
    publicBaseUrl,
    smsProvider,
    twilio,
    emailProvider,
    smtpUrl,
    emailFrom: r.str('EMAIL_FROM', 'Fraud Victim Support <no-reply@outreach.police.uk>'),
    jwtSecret,
    jwtSecretGenerated,
    jwtExpiresInSeconds: r.int('JWT_EXPIRES_IN_SECONDS', 8 * 3600, 60, 7 * 24 * 3600),
    smsRatePerSecond: r.int('SMS_RATE_PER_SECOND', 10, 1, 100_000),
    emailRatePerSecond: r.int('EMAIL_RATE_PER_SECOND', 20, 1, 100_000),
    workerConcurrency: r.int('WORKER_CONCURRENCY', 50, 1, 1000),
    orgName: r.str('ORG_NAME', 'City Police'),
    allowedLinkDomains,
    smsMaxSegments: r.int('SMS_MAX_SEGMENTS', 3, 1, 10),
    referralRequiresConsent: r.bool('REFERRAL_REQUIRES_CONSENT', true),
    allowInsecureWebhooks: r.bool('ALLOW_INSECURE_WEBHOOKS', false),
    queuePrefix: r.str('QUEUE_PREFIX', 'outreach'),
    maxUploadBytes: r.int('MAX_UPLOAD_BYTES', 2 * 1024 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER),
    uploadDir: r.str('UPLOAD_DIR', '/tmp/outreach-uploads'),
    logLevel: r.oneOf('LOG_LEVEL', production ? 'info' : 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    loginMaxFailures: r.int('LOGIN_MAX_FAILURES', 5, 1, 100),
    loginLockMinutes: r.int('LOGIN_LOCK_MINUTES', 15, 1, 24 * 60),
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 30_000, 1000, 10 * 60_000),
    // Files this big are parsed on worker threads too; smaller ones are not worth their start-up.
    importParallelMinBytes: r.int('IMPORT_PARALLEL_MIN_BYTES', 32 << 20, 0, Number.MAX_SAFE_INTEGER),
    frequencyCapMax: r.int('FREQUENCY_CAP_MAX', 2, 1, 100),
    frequencyCapDays: r.int('FREQUENCY_CAP_DAYS', 7, 1, 365),
    sendingTimeoutMs: r.int('SENDING_TIMEOUT_MS', 120_000, 1000, 24 * 3600_000),
    reconcileIntervalMs: r.int('RECONCILE_INTERVAL_MS', 10_000, 200, 3600_000),
    sendRetryBaseMs: r.int('SEND_RETRY_BASE_MS', 2000, 10, 600_000),
    sendMaxAttempts: r.int('SEND_MAX_ATTEMPTS', 10, 1, 50),
    providerTimeoutMs: r.int('PROVIDER_TIMEOUT_MS', 10_000, 100, 120_000),
    sandboxLatencyMs: r.int('SANDBOX_LATENCY_MS', 0, 0, 60_000),
    sandboxReceiptDelayMs: r.int('SANDBOX_RECEIPT_DELAY_MS', 500, 0, 600_000),
    // The API map is a gift to an attacker and of no use to a victim: opt in for production.
    apiDocsEnabled: r.bool('API_DOCS_ENABLED', !production),
    metricsToken: r.optional('METRICS_TOKEN'),
    jwtIssuer: r.str('JWT_ISSUER', 'outreach'),
    jwtAudience: r.str('JWT_AUDIENCE', 'outreach-staff'),
    accessCacheMs: r.int('ACCESS_CACHE_MS', 30_000, 0, 30_000),
    loginAccountMaxFailures: r.int('LOGIN_ACCOUNT_MAX_FAILURES', 50, 1, 100_000),
    loginAccountWindowMinutes: r.int('LOGIN_ACCOUNT_WINDOW_MINUTES', 60, 1, 24 * 60),
    rateLimit: {
      windowSeconds: r.int('RATE_LIMIT_WINDOW_SECONDS', 60, 1, 3600),
      globalPerIp: r.int('RATE_LIMIT_GLOBAL_PER_IP', 1200, 1, 100_000_000),
      publicPerIp: r.int('RATE_LIMIT_PUBLIC_PER_IP', 60, 1, 100_000_000),
      loginPerIp: r.int('RATE_LIMIT_LOGIN_PER_IP', 30, 1, 100_000_000),
      // Twilio posts every callback of every campaign from a handful of addresses.
      webhookPerIp: r.int('RATE_LIMIT_WEBHOOK_PER_IP', 600_000, 1, 100_000_000),
    },
  };

  if (config.metricsToken !== undefined && config.metricsToken.length < 16) {
    r.problems.push('METRICS_TOKEN must be at least 16 characters long');
  }
  if (config.sendingTimeoutMs < 2 * config.providerTimeoutMs) {
    r.problems.push('SENDING_TIMEOUT_MS must be at least twice PROVIDER_TIMEOUT_MS: a send still waiting for the provider must not be taken for a lost one');
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
