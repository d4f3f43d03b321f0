import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN, addTestInstitution, EMAIL_TEMPLATE, tag } from '../support/campaigns.js';
import { startTestApp, TestApp } from '../support/test-app.js';

/**
 * The HTML part of an email is held to the content rules of the text, at every point
 * the text is: save (create and edit), submit and approve, and in the template preview.
 */
describe('content rules on the HTML part of emails', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  let operatorId = '';

  beforeAll(async () => {
    t = await startTestApp({ APP_ROLE: 'api', PUBLIC_BASE_URL: 'https://outreach.police.uk', ORG_NAME: 'City Police' });
    const operator = await t.staff('operator');
    tokens.operator = operator.token;
    operatorId = operator.id;
    tokens.supervisor = (await t.staff('supervisor')).token;
    await addTestInstitution(t.ds);
  });
  afterAll(() => t?.close());

  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });
  const GOOD_HTML = '<p>Your reference is <strong>((reference))</strong>. <a href="((report_url))">Tell us what happened</a> or read <a href="https://www.police.uk/advice">our advice</a>.</p>';
  const EVIL_HTML = '<p>Please <a href="https://evil-bank-login.example/verify">verify your account</a>.</p>';

  function campaign(html: string) {
    return { name: `HTML ${tag()}`, channels: ['email'], audience: { institution: tag() }, email: { ...EMAIL_TEMPLATE, html }, sendWindow: ALWAYS_OPEN };
  }

  // Only this file's: other test files create campaigns in the same database at the same time.
  async function countCampaigns(): Promise<number> {
    const [row] = await t.ds.query(`SELECT count(*)::int AS n FROM campaigns WHERE created_by = $1`, [operatorId]);
    return row.n as number;
  }

  function expectRefused(res: { status: number; body: Record<string, unknown> }, rule: string, words: string) {
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.body.message).toContain(words);
    expect(res.body.violations).toEqual(expect.arrayContaining([expect.objectContaining({ channel: 'email', rule })]));
  }

  const REFUSED: ReadonlyArray<[string, string, string, string]> = [
    ['a link to a phishing site', EVIL_HTML, 'link_not_allowed', 'evil-bank-login.example'],
    ['a user-info trick', '<a href="https://police.uk@evil.example/">police.uk</a>', 'link_not_allowed', 'evil.example'],
    ['an entity-encoded link', '<a href="&#104;ttps://evil.example/">x</a>', 'link_not_allowed', 'evil.example'],
    ['an image from elsewhere', '<img src="https://tracker.example/p.gif" alt="">', 'link_not_allowed', 'tracker.example'],
    ['a script', '<p>x</p><script>alert(1)</script>', 'html_not_allowed', '<script>'],
    ['a javascript: link', '<a href="javascript:alert(1)">x</a>', 'html_not_allowed', 'javascript:'],
    ['an event handler', '<img src="cid:x" onerror="alert(1)">', 'html_not_allowed', 'onerror'],
    ['a request for a PIN', '<p>Please reply with your <b>PIN</b>.</p>', 'asks_for_secret', 'PIN'],
    ['an unknown placeholder', '<p>Dear ((first_name))</p>', 'unknown_placeholder', '((first_name))'],
  ];

  it.each(REFUSED)('refuses %s at save, writing nothing', async (_what, html, rule, words) => {
    const before = await countCampaigns();
    const res = await t.http().post('/api/campaigns').set(as('operator')).send(campaign(html));
    expectRefused(res, rule, words);
    expect(await countCampaigns()).toBe(before);
  });

  it('accepts HTML that keeps the rules, and keeps it', async () => {
    const res = await t.http().post('/api/campaigns').set(as('operator')).send(campaign(GOOD_HTML));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.email.html).toBe(GOOD_HTML);
  });

  it('refuses an edit that adds a bad link to the HTML, keeping the saved version', async () => {
    const created = await t.http().post('/api/campaigns').set(as('operator')).send(campaign(GOOD_HTML)).expect(201);
    const res = await t.http().patch(`/api/campaigns/${created.body.id}`).set(as('operator'))
      .send({ email: { ...EMAIL_TEMPLATE, html: EVIL_HTML } });
    expectRefused(res, 'link_not_allowed', 'evil-bank-login.example');
    const [row] = await t.ds.query(`SELECT email_html, version FROM campaigns WHERE id = $1`, [created.body.id]);
    expect(row).toMatchObject({ email_html: GOOD_HTML, version: created.body.version });
  });

  // A stored template can stop passing (the allow-list changed, or it was written before
  // this rule): submit and approve check it again.
  it('refuses to submit a campaign whose stored HTML breaks a rule', async () => {
    const created = await t.http().post('/api/campaigns').set(as('operator')).send(campaign(GOOD_HTML)).expect(201);
    await t.ds.query(`UPDATE campaigns SET email_html = $2 WHERE id = $1`, [created.body.id, EVIL_HTML]);
    const res = await t.http().post(`/api/campaigns/${created.body.id}/submit`).set(as('operator'));
    expectRefused(res, 'link_not_allowed', 'evil-bank-login.example');
    const [row] = await t.ds.query(`SELECT status FROM campaigns WHERE id = $1`, [created.body.id]);
    expect(row.status).toBe('draft');
  });

  it('refuses to approve a campaign whose stored HTML breaks a rule', async () => {
    const created = await t.http().post('/api/campaigns').set(as('operator')).send(campaign(GOOD_HTML)).expect(201);
    await t.http().post(`/api/campaigns/${created.body.id}/submit`).set(as('operator')).expect(200);
    await t.ds.query(`UPDATE campaigns SET email_html = $2 WHERE id = $1`, [created.body.id, '<p>Dear ((first_name))</p>']);
    const res = await t.http().post(`/api/campaigns/${created.body.id}/approve`).set(as('supervisor'));
    expectRefused(res, 'unknown_placeholder', '((first_name))');
    const [row] = await t.ds.query(`SELECT status, approved_by FROM campaigns WHERE id = $1`, [created.body.id]);
    expect(row).toMatchObject({ status: 'pending_approval', approved_by: null });
  });

  describe('POST /api/templates/preview', () => {
    it('renders the HTML with escaped sample values and lists its violations', async () => {
      const res = await t.http().post('/api/templates/preview').set(as('operator'))
        .send({ channel: 'email', subject: EMAIL_TEMPLATE.subject, body: EMAIL_TEMPLATE.body, html: `${GOOD_HTML}<a href="//evil.example/">x</a>` })
        .expect(200);
      expect(res.body.rendered.html).toContain('href="https://outreach.police.uk/report"');
      expect(res.body.rendered.html).not.toContain('((');
      expect(res.body.violations).toEqual([expect.objectContaining({ rule: 'link_not_allowed', message: expect.stringContaining('evil.example') })]);
    });

    it('answers 400 for an unknown placeholder in the HTML', async () => {
      const res = await t.http().post('/api/templates/preview').set(as('operator'))
        .send({ channel: 'email', subject: 'x', body: 'y', html: '<p>((first_name))</p>' });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('((first_name))');
    });
  });
});
