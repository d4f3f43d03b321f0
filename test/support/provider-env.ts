import type { FakeTwilio } from './fake-twilio.js';
import type { TestSmtpServer } from './smtp-server.js';

/** The environment that sends SMS through the real twilio client to the fake Twilio, and email to the test SMTP server. */
export function realProvidersEnv(twilio: FakeTwilio, smtp: TestSmtpServer, ratePerSecond: number): Record<string, string> {
  return {
    SMS_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM: '+447700900999',
    TWILIO_API_URL: twilio.url,
    EMAIL_PROVIDER: 'smtp',
    SMTP_URL: smtp.url,
    SMS_RATE_PER_SECOND: String(ratePerSecond),
    EMAIL_RATE_PER_SECOND: String(ratePerSecond),
  };
}
