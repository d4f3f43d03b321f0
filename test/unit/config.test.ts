import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactUrl } from '../../src/config/configuration.js';

describe('configuration', () => {
  it('has defaults that work on a machine with local Postgres and Redis', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/outreach',
      redisUrl: 'redis://127.0.0.1:6379',
      port: 3000,
      appRole: 'all',
      smsProvider: 'sandbox',
      emailProvider: 'sandbox',
      smsRatePerSecond: 10,
      emailRatePerSecond: 20,
      allowedLinkDomains: ['police.uk', 'gov.uk'],
      smsMaxSegments: 3,
      referralRequiresConsent: true,
      allowInsecureWebhooks: false,
      publicBaseUrl: 'http://localhost:3000',
    });
    expect(c.jwtSecretGenerated).toBe(true);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a whole number'],
    [{ APP_ROLE: 'both' }, 'APP_ROLE must be one of all, api, worker'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must use postgres:'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL is not a valid URL'],
    [{ SMS_RATE_PER_SECOND: '0' }, 'SMS_RATE_PER_SECOND must be a whole number from 1'],
    [{ REFERRAL_REQUIRES_CONSENT: 'maybe' }, 'REFERRAL_REQUIRES_CONSENT must be true or false'],
    [{ SMS_PROVIDER: 'twilio' }, 'TWILIO_ACCOUNT_SID is required when SMS_PROVIDER=twilio'],
    [{ EMAIL_PROVIDER: 'smtp' }, 'SMTP_URL is required when EMAIL_PROVIDER=smtp'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 characters long'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET is required when NODE_ENV=production'],
    [{ ALLOWED_LINK_DOMAINS: 'police.uk,not a domain' }, 'ALLOWED_LINK_DOMAINS has an invalid domain'],
  ])('stops on %o naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ PORT: 'x', APP_ROLE: 'y' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(2);
    }
  });

  it('refuses a sending timeout that a slow provider answer could reach', () => {
    expect(() => loadConfig({ SENDING_TIMEOUT_MS: '5000', PROVIDER_TIMEOUT_MS: '3000' })).toThrow(/SENDING_TIMEOUT_MS must be at least twice PROVIDER_TIMEOUT_MS/);
    expect(loadConfig({ SENDING_TIMEOUT_MS: '6000', PROVIDER_TIMEOUT_MS: '3000' }).sendingTimeoutMs).toBe(6000);
  });

  it('delivery settings have working defaults', () => {
    expect(loadConfig({})).toMatchObject({ sendingTimeoutMs: 120_000, providerTimeoutMs: 10_000, sendMaxAttempts: 10, sendRetryBaseMs: 2000, frequencyCapMax: 2, frequencyCapDays: 7 });
  });

  it('accepts a full twilio configuration', () => {
    const c = loadConfig({ SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', TWILIO_MESSAGING_SERVICE_SID: 'MG1' });
    expect(c.twilio.messagingServiceSid).toBe('MG1');
  });

  it('never echoes a password from a URL', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/x')).toBe('postgres://app:***@db:5432/x');
    expect(() => loadConfig({ DATABASE_URL: 'mysql://app:s3cret@db/x' })).toThrow(/app:\*\*\*@db/);
  });

  it('API docs are off in production unless enabled, on elsewhere unless disabled', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) };
    expect(loadConfig(prod).apiDocsEnabled).toBe(false);
    expect(loadConfig({ ...prod, API_DOCS_ENABLED: 'true' }).apiDocsEnabled).toBe(true);
    expect(loadConfig({}).apiDocsEnabled).toBe(true);
    expect(loadConfig({ API_DOCS_ENABLED: 'false' }).apiDocsEnabled).toBe(false);
    expect(() => loadConfig({ API_DOCS_ENABLED: 'perhaps' })).toThrow(/API_DOCS_ENABLED must be true or false/);
  });

  it('a metrics token, when given, is long enough to resist guessing', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: 'm'.repeat(16) }).metricsToken).toBe('m'.repeat(16));
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 16 characters/);
  });
});
