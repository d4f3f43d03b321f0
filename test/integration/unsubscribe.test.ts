import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unsubscribeToken } from '../../src/common/unsubscribe.js';
import { ALWAYS_OPEN, seedVictims, tag } from '../support/campaigns.js';
import { startTestApp, TestApp } from '../support/test-app.js';

/** RFC 8058 one-click unsubscribe: GET shows a page and changes nothing; POST suppresses, once. */
describe('GET|POST /unsubscribe/:token', () => {
  let t: TestApp;
  let secret: string;
  let staffId: string;
  const run = randomUUID().slice(0, 8);
  const mail = (name: string) => `${name}-${run}@example.org`;

  beforeAll(async () => {
    t = await startTestApp({ APP_ROLE: 'api' });
    secret = t.config.jwtSecret;
    staffId = (await t.staff('operator')).id;
  });
  afterAll(() => t?.close());

  /** A victim and one message to them on `channel` (as launch writes it); returns ids and the link's token. */
  async function emailed(seed: { email?: string | null; phone?: boolean } = {}, channel: 'email' | 'sms' = 'email') {
    const email = seed.email === undefined ? mail(randomUUID().slice(0, 6)) : seed.email;
    const [victimId] = await seedVictims(t.ds, tag(), [{ email, type: seed.phone === false ? 'fixed_line' : 'mobile' }]);
    const [c] = await t.ds.query(
      `INSERT INTO campaigns (name, status, channels, send_window, created_by) VALUES ('Unsubscribe test', 'running', ARRAY[$1], $2, $3) RETURNING id`,
      [channel, JSON.stringify(ALWAYS_OPEN), staffId],
    );
    const [m] = await t.ds.query(
      `INSERT INTO messages (campaign_id, victim_id, channel, address, status, subject, body) VALUES ($1, $2, $3, $4, 'sent', 's', 'b') RETURNING id`,
      [c.id, victimId, channel, channel === 'email' ? email : '+447781000000'],
    );
    return { victimId: victimId, messageId: String(m.id), email, token: unsubscribeToken(String(m.id), secret) };
  }

  const suppressionsAt = (address: string | null) =>
    t.ds.query(`SELECT channel, address, reason, source, note FROM suppressions WHERE channel = 'email' AND address = lower($1)`, [address]) as Promise<
      Array<Record<string, unknown>>
    >;
  const auditsFor = (messageId: string) =>
    t.ds.query(`SELECT actor_type, actor_id, action, subject_type, subject_id, details, ip FROM audit_events WHERE subject_type = 'message' AND subject_id = $1 ORDER BY id`, [
      messageId,
    ]) as Promise<Array<Record<string, any>>>;
  // Other test files write to the same tables at the same time: count what this one could write.
  const writes = async () =>
    (
      await t.ds.query(
        `SELECT (SELECT count(*) FROM suppressions WHERE address LIKE $1 OR address = '+447781000000')::int AS s,
                (SELECT count(*) FROM audit_events WHERE actor_type = 'victim' OR subject_type = 'message')::int AS a`,
        [`%-${run}@example.org`],
      )
    )[0];
  const oneClick = (token: string) => t.http().post(`/unsubscribe/${token}`).type('form').send('List-Unsubscribe=One-Click');

  it('GET shows a confirmation page with a button, accessible and self-contained, and changes nothing', async () => {
    const { token, email } = await emailed();
    const before = await writes();
    const res = await t.http().get(`/unsubscribe/${token}`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const html = res.text;
    expect(html).toMatch(/<html lang="en"/);
    expect(html).toMatch(/<title>\s*Stop emails from City Police – Fraud victim support – City Police\s*<\/title>/);
    expect(html).toMatch(/<h1 class="govuk-heading-l">Stop emails from City Police<\/h1>/);
    expect(html).toContain(`<form method="post" action="/unsubscribe/${token}" novalidate>`);
    expect(html).toContain('<input type="hidden" name="List-Unsubscribe" value="One-Click">');
    expect(html).toMatch(/<button type="submit"[^>]*class="govuk-button"[^>]*>\s*Unsubscribe\s*<\/button>/);
    expect(html).toContain('href="#main-content"');
    expect(html).not.toContain(email!); // nothing personal on a page a scanner may fetch

    // CSP: this origin only; the template's one inline script runs by this response's nonce
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:|\*|unsafe-inline/);
    const nonce = /script-src 'self' 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(html).toContain(`<script nonce="${nonce}">`);
    for (const src of html.matchAll(/(?:href|src)="([^"]+)"/g)) expect(src[1]).toMatch(/^(\/|#)/);

    expect(await writes()).toEqual(before);
    expect(await suppressionsAt(email)).toEqual([]);
  });

  it('POST one-click (no cookie) suppresses the address once, audited as the recipient; twice changes nothing more', async () => {
    const { token, email, messageId, victimId } = await emailed({ email: mail('Mixed.Case').toUpperCase() });
    const res = await oneClick(token).expect(200);
    expect(res.text).toMatch(/<h1 class="govuk-panel__title">\s*You have unsubscribed\s*<\/h1>/);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(await suppressionsAt(email)).toEqual([{ channel: 'email', address: email!.toLowerCase(), reason: 'unsubscribe', source: 'unsubscribe', note: null }]);
    const audits = await auditsFor(messageId);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      actor_type: 'victim',
      actor_id: victimId,
      action: 'suppression.unsubscribed',
      subject_id: messageId,
      details: { victimId, channel: 'email', outcome: 'created', suppressionId: expect.any(String) },
      ip: null,
    });
    expect(JSON.stringify(audits[0])).not.toMatch(/example\.org/i);
    // the victim can still be texted: only email is gone
    const [v] = await t.ds.query(`SELECT status, opted_out_channels FROM victims WHERE id = $1`, [victimId]);
    expect(v).toEqual({ status: 'identified', opted_out_channels: ['email'] });

    const before = await writes();
    await oneClick(token).expect(200);
    await t.http().post(`/unsubscribe/${token}`).expect(200); // the page's button, or a client sending no body
    expect(await writes()).toEqual(before);
    expect(await suppressionsAt(email)).toHaveLength(1);
    expect(await auditsFor(messageId)).toHaveLength(1);
  });

  it('a recipient with no other channel becomes opted_out; an earlier bounce becomes an opt-out one person cannot delete', async () => {
    const { token, email, victimId, messageId } = await emailed({ phone: false });
    await t.ds.query(`INSERT INTO suppressions (channel, address, reason, source) VALUES ('email', $1, 'hard_bounce', 'provider')`, [email]);
    await oneClick(token).expect(200);
    const [v] = await t.ds.query(`SELECT status, opted_out_channels FROM victims WHERE id = $1`, [victimId]);
    expect(v).toEqual({ status: 'opted_out', opted_out_channels: ['email'] });
    expect(await suppressionsAt(email)).toEqual([{ channel: 'email', address: email, reason: 'unsubscribe', source: 'unsubscribe', note: 'was hard_bounce' }]);
    expect((await auditsFor(messageId))[0].details.outcome).toBe('upgraded');
    await expect(t.ds.query(`DELETE FROM suppressions WHERE channel = 'email' AND address = $1`, [email])).rejects.toThrow(/two people/);
  });

  it('forged, foreign, malformed and unknown tokens get the same 404 page and change nothing', async () => {
    const a = await emailed();
    const b = await emailed();
    const sms = await emailed({}, 'sms');
    const mac = a.token.split('.')[1];
    const bad = [
      `${a.messageId}.${'A'.repeat(mac.length)}`, // forged signature
      `${b.messageId}.${mac}`, // a's signature on b's message id
      `${a.messageId}.${mac.slice(0, -1)}`, // cut short
      `${a.messageId}.${mac}x`,
      unsubscribeToken('999999999999', secret), // signed, but no such message
      unsubscribeToken('9999999999999999999', secret), // signed, beyond bigint
      sms.token, // signed, but not an email
      'not-a-token',
      '1.2',
      encodeURIComponent(`${a.messageId}.${mac}' OR 1=1 --`),
      'x'.repeat(500),
    ];
    const before = await writes();
    const pages = new Set<string>();
    for (const token of bad) {
      for (const res of [await t.http().get(`/unsubscribe/${token}`), await oneClick(token)]) {
        expect(res.status).toBe(404);
        expect(res.headers['content-type']).toMatch(/^text\/html/);
        expect(res.text).toContain('This link does not work');
        pages.add(res.text.replace(/nonce="[^"]+"/, ''));
      }
    }
    expect(pages.size).toBe(1);
    expect(await writes()).toEqual(before);
    for (const m of [a, b]) expect(await suppressionsAt(m.email)).toEqual([]);
  });

  it('serves GOV.UK Frontend\'s stylesheet, fonts and images itself, and nothing outside them', async () => {
    const css = await t.http().get('/assets/govuk-frontend.min.css').expect(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const font = /url\((\/assets\/fonts\/[^)]+\.woff2)\)/.exec(css.text)?.[1];
    expect(font).toBeTruthy();
    await t.http().get(font!).expect(200);
    await t.http().get('/assets/images/govuk-crest.svg').expect(200); // the stylesheet asks for it
    await t.http().get('/assets/manifest.json').expect(200);
    for (const path of ['/assets/nope.css', '/assets/..%2Fpackage.json', '/assets/%2e%2e/%2e%2e/package.json', '/assets/components/button/template.njk']) {
      const res = await t.http().get(path);
      expect(res.status).toBe(404);
    }
  });
});
