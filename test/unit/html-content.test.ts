import { TEST_CONTENT_POLICY } from '../support/content-policy.js';
import { describe, expect, it } from 'vitest';

import { checkContent, checkHtml, type ContentPolicy, type ViolationRule } from '../../src/common/content-rules.js';
import { decodeCss, readHtml, srcsetUrls } from '../../src/common/html-content.js';
import { escapeHtml, renderHtmlTemplate, renderTemplate } from '../../src/common/template.js';

const POLICY: ContentPolicy = TEST_CONTENT_POLICY;

function rulesOf(html: string): ViolationRule[] {
  return [...new Set(checkHtml(html, POLICY).map((v) => v.rule))].sort();
}

/** HTML a careful operator would write: every one must pass. */
const ALLOWED: ReadonlyArray<[string, string]> = [
  ['a link to an allowed domain', '<p>Read <a href="https://www.police.uk/advice">our advice</a>.</p>'],
  ['a subdomain, mixed case, trailing dot', '<a HREF="HTTPS://Met.Police.UK./x">Met</a>'],
  ['http on an allowed domain', '<a href="http://gov.uk/x">GOV.UK</a>'],
  ['the report form by placeholder', '<a href="((report_url))">Tell us what happened</a>'],
  ['the report form written out', '<a href="https://outreach.example.org/report?ref=((reference))">report</a>'],
  ['a placeholder in the path only', '<a href="https://www.police.uk/((institution))">advice</a>'],
  ['a fragment link', '<a href="#advice">below</a><h2 id="advice">Advice</h2>'],
  ['an empty href', '<a href="">x</a>'],
  ['mailto and tel', '<a href="mailto:fraud@met.police.uk">email</a> <a href="tel:+442072301212">call</a>'],
  ['an embedded image by cid', '<img src="cid:crest" alt="Metropolitan Police crest">'],
  ['an image on an allowed domain', '<img src="https://assets.police.uk/crest.png" srcset="https://assets.police.uk/c2.png 2x, https://assets.police.uk/c3.png 3x">'],
  ['inline CSS with an allowed background', '<td style="background:url(\'https://assets.police.uk/bg.png\'); color:#333">x</td>'],
  ['a style element with fonts and colours', '<style>p { font-family: "Helvetica Neue", Arial; } .x { color: red }</style><p>x</p>'],
  ['a doctype and XHTML namespace', '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html xmlns="http://www.w3.org/1999/xhtml"><body>Hi</body></html>'],
  ['a promise never to ask for a PIN', '<p>We will <strong>never</strong> ask for your PIN or password.</p>'],
  ['an email address in text', '<p>Write to fraud@example.com if you prefer.</p>'],
  ['a known placeholder in an attribute', '<img src="cid:crest" alt="Reference ((reference))">'],
  ['a known placeholder in single quotes', "<a href='((report_url))' title='((institution))'>report</a>"],
  ['a plain comment', '<!-- layout table --><table><tr><td>x</td></tr></table>'],
  ['a meta tag without refresh', '<meta charset="utf-8"><meta name="viewport" content="width=device-width">'],
];

/** HTML that must be refused, with the rules it breaks. */
const REFUSED: ReadonlyArray<[string, string, ViolationRule[]]> = [
  ['a link to a phishing site', '<a href="https://evil-bank-login.example/verify">Verify</a>', ['link_not_allowed']],
  ['mixed-case scheme and host', '<a href="HtTpS://EVIL.example/">x</a>', ['link_not_allowed']],
  ['a protocol-relative link', '<a href="//evil.example/verify">x</a>', ['link_not_allowed']],
  ['a backslash protocol-relative link', '<a href="\\\\evil.example/verify">x</a>', ['link_not_allowed']],
  ['a scheme without slashes', '<a href="https:evil.example/verify">x</a>', ['link_not_allowed']],
  ['user-info trick', '<a href="https://police.uk@evil.example/">police.uk</a>', ['link_not_allowed']],
  ['user-info trick, entity-encoded @', '<a href="https://police.uk&#64;evil.example/">police.uk</a>', ['link_not_allowed']],
  ['look-alike domain', '<a href="https://police.uk.evil.example/">x</a>', ['link_not_allowed']],
  ['suffix look-alike', '<a href="https://fakepolice.uk/">x</a>', ['link_not_allowed']],
  ['punycode look-alike', '<a href="https://xn--plice-5qa.uk/">x</a>', ['link_not_allowed']],
  ['a Unicode look-alike (becomes punycode)', '<a href="https://pоlice.uk/">x</a>', ['link_not_allowed']],
  ['entity-encoded URL', '<a href="&#104;&#116;&#116;&#112;&#115;&#58;&#47;&#47;evil.example">x</a>', ['link_not_allowed']],
  ['hex entities without semicolons', '<a href="&#x68&#x74&#x74&#x70&#x73://evil.example">x</a>', ['link_not_allowed']],
  ['an unquoted attribute', '<a href=https://evil.example/x>x</a>', ['link_not_allowed']],
  ['a duplicate href (browsers take the first)', '<a href="https://evil.example/" href="https://www.police.uk/">x</a>', ['link_not_allowed']],
  ['a hidden link', '<div style="display:none"><a href="https://evil.example/">x</a></div>', ['link_not_allowed']],
  ['a link written in the text', '<p>Visit evil-bank-login.example/verify today</p>', ['link_not_allowed']],
  ['a link in the text of an allowed anchor', '<a href="https://www.police.uk/">https://evil.example/verify</a>', ['link_not_allowed']],
  ['a link split by a zero-width space', '<p>Go to www.evil\u200b.example now</p>', ['link_not_allowed']],
  ['a link split by a soft hyphen entity', '<p>Go to www.evil&shy;.example now</p>', ['link_not_allowed']],
  ['a link split by inline markup', '<p>Go to www.<b>evil</b>.example now</p>', ['link_not_allowed']],
  ['a link in alt text', '<img src="cid:x" alt="Log in at evil-bank.com">', ['link_not_allowed']],
  ['a link in a title', '<span title="see www.evil.example">x</span>', ['link_not_allowed']],
  ['a relative link', '<a href="/verify">x</a>', ['link_not_allowed']],
  ['a scheme-less host in href', '<a href="www.evil.example">x</a>', ['link_not_allowed']],
  ['an image from elsewhere', '<img src="https://tracker.example/p.gif">', ['link_not_allowed']],
  ['srcset from elsewhere', '<img src="cid:x" srcset="https://assets.police.uk/a.png 1x, https://evil.example/b.png 2x">', ['link_not_allowed']],
  ['a table background', '<table background="https://evil.example/bg.png"><tr><td>x</td></tr></table>', ['link_not_allowed']],
  ['a video poster', '<video poster="https://evil.example/p.png"></video>', ['link_not_allowed']],
  ['a blockquote cite', '<blockquote cite="https://evil.example/">x</blockquote>', ['link_not_allowed']],
  ['an area of an image map', '<map name="m"><area href="https://evil.example/" shape="rect" coords="0,0,1,1"></map>', ['link_not_allowed']],
  ['a stylesheet link', '<link rel="stylesheet" href="https://evil.example/s.css">', ['link_not_allowed']],
  ['CSS url() in a style attribute', '<td style="background-image: url(https://evil.example/bg.png)">x</td>', ['link_not_allowed']],
  ['CSS url() with escapes', '<td style="background: \\75 rl(https://evil.example/bg.png)">x</td>', ['link_not_allowed']],
  ['CSS url() split by a comment', '<td style="background: u/**/rl(\'https://evil.example/x\')">x</td>', ['link_not_allowed']],
  ['CSS url() in a style element', '<style>body { background: URL("https://evil.example/bg.png") }</style>', ['link_not_allowed']],
  ['CSS @import', '<style>@import "https://evil.example/s.css";</style>', ['link_not_allowed']],
  ['CSS content with a link', '<style>p::before { content: "www.evil.example" }</style>', ['link_not_allowed']],
  ['a meta refresh', '<meta http-equiv="refresh" content="0; url=https://evil.example/">', ['link_not_allowed']],
  ['a meta refresh, quoted URL', '<META HTTP-EQUIV="Refresh" CONTENT="5;URL=\'https://evil.example/\'">', ['link_not_allowed']],
  ['an Outlook conditional comment', '<!--[if mso]><a href="https://evil.example/">x</a><![endif]-->', ['link_not_allowed']],
  ['a link in a plain comment', '<!-- <a href="https://evil.example/">old</a> -->', ['link_not_allowed']],
  ['an ftp link', '<a href="ftp://files.police.uk/x">x</a>', ['link_not_allowed']],
  ['a file link', '<a href="file:///etc/passwd">x</a>', ['link_not_allowed']],
  ['an institution placeholder as the host', '<a href="https://((institution)).com/">x</a>', ['link_not_allowed']],
  ['a slash between tag name and attribute', '<a/href="https://evil.example">x</a>', ['link_not_allowed']],
  ['attributes with no space between them', '<a href="https://www.police.uk/"href="https://evil.example">x</a>', ['link_not_allowed']],
  ['an empty comment before a link', '<!--><a href="https://evil.example">x</a>-->', ['link_not_allowed']],
  ['a bogus comment before a link', '<?x><a href="https://evil.example">x</a>', ['link_not_allowed']],
  ['a CDATA section', '<![CDATA[<a href="https://evil.example">x</a>]]>', ['link_not_allowed']],
  ['a tag left open at the end', '<p>Hi</p><a href="https://evil.example"', ['link_not_allowed']],
  ['user-info with a port', '<a href="https://www.police.uk:443@evil.example/">x</a>', ['link_not_allowed']],
  ['an allowed name after the fragment', '<a href="https://evil.example#@www.police.uk/">x</a>', ['link_not_allowed']],
  ['an IP address', '<a href="https://0x7f000001/">x</a>', ['link_not_allowed']],
  ['a ping', '<a href="https://www.police.uk/" ping="https://evil.example/p">x</a>', ['link_not_allowed']],
  ['CSS @import url()', '<style>@import url(//evil.example/x.css);</style>', ['link_not_allowed']],
  ['a placeholder in an unquoted attribute', '<img src="cid:x" alt=((institution))>', ['html_not_allowed']],
  ['javascript: URL', '<a href="javascript:alert(1)">x</a>', ['html_not_allowed']],
  ['javascript: in mixed case with a tab', '<a href="JaVa&Tab;ScRiPt:alert(1)">x</a>', ['html_not_allowed']],
  ['javascript: with leading spaces', '<a href="   javascript:alert(1)">x</a>', ['html_not_allowed']],
  ['javascript: entity-encoded', '<a href="&#106;avascript:alert(1)">x</a>', ['html_not_allowed']],
  ['vbscript: URL', '<a href="vbscript:msgbox(1)">x</a>', ['html_not_allowed']],
  ['data: image', '<img src="data:image/png;base64,iVBORw0KGgo=">', ['html_not_allowed']],
  ['data: link', '<a href="data:text/html,<script>alert(1)</script>">x</a>', ['html_not_allowed']],
  ['a script', '<p>Hello</p><script>alert(1)</script>', ['html_not_allowed']],
  ['a SCRIPT in upper case', '<SCRIPT SRC="https://www.police.uk/x.js"></SCRIPT>', ['html_not_allowed']],
  ['a form', '<form action="https://evil.example/steal"><input name="pin"></form>', ['html_not_allowed', 'link_not_allowed']],
  ['a form on an allowed domain', '<form action="https://www.police.uk/x"><button>Send</button></form>', ['html_not_allowed']],
  ['a button formaction', '<button formaction="https://evil.example/">x</button>', ['html_not_allowed', 'link_not_allowed']],
  ['an iframe', '<iframe src="https://www.police.uk/"></iframe>', ['html_not_allowed']],
  ['an object', '<object data="https://www.police.uk/x.swf"></object>', ['html_not_allowed']],
  ['an embed', '<embed src="https://www.police.uk/x.swf">', ['html_not_allowed']],
  ['a base element', '<base href="https://www.police.uk/"><a href="x">x</a>', ['html_not_allowed', 'link_not_allowed']],
  ['an SVG', '<svg><a href="https://www.police.uk/">x</a></svg>', ['html_not_allowed']],
  ['an event handler', '<img src="cid:x" onerror="alert(1)">', ['html_not_allowed']],
  ['an event handler in upper case', '<body ONLOAD="alert(1)">x</body>', ['html_not_allowed']],
  ['a CSS expression', '<td style="width: expression(alert(1))">x</td>', ['html_not_allowed']],
  ['javascript in CSS', '<td style="background: url(javascript:alert(1))">x</td>', ['html_not_allowed']],
  ['a script in a conditional comment', '<!--[if IE]><script>alert(1)</script><![endif]-->', ['html_not_allowed']],
  ['a request for a PIN', '<p>Please reply with your PIN.</p>', ['asks_for_secret']],
  ['a request split by markup', '<p>Please <b>confirm</b> your <i>card number</i>.</p>', ['asks_for_secret']],
  ['a request for a password in alt text', '<img src="cid:x" alt="Enter your password to continue">', ['asks_for_secret']],
  ['an unknown placeholder in text', '<p>Dear ((name))</p>', ['unknown_placeholder']],
  ['an unknown placeholder in an attribute', '<a href="((link))">x</a>', ['link_not_allowed', 'unknown_placeholder']],
  ['an unknown placeholder in a comment', '<!-- ((debug)) --><p>x</p>', ['unknown_placeholder']],
];

describe('the HTML part of an email', () => {
  it.each(ALLOWED)('allows %s', (_what, html) => {
    expect(checkHtml(html, POLICY)).toEqual([]);
  });

  it.each(REFUSED)('refuses %s', (_what, html, expected) => {
    expect(rulesOf(html)).toEqual([...expected].sort());
  });

  it('names the HTML part and where the address is', () => {
    const [v] = checkHtml('<p><a href="https://evil-bank-login.example/verify">Verify</a></p>', POLICY);
    expect(v?.message).toContain('HTML part');
    expect(v?.message).toContain('<a href>');
    expect(v?.message).toContain('evil-bank-login.example');
    expect(v?.message).toContain('police.uk, gov.uk');
  });

  it('reports a repeated link once', () => {
    const html = '<a href="https://evil.example/">a</a><a href="https://evil.example/">b</a>';
    expect(checkHtml(html, POLICY)).toHaveLength(1);
  });

  it('is checked by checkContent for email, beside the text part', () => {
    const violations = checkContent(
      { channel: 'email', subject: 'Fraud warning', body: 'See ((report_url)).', html: '<a href="https://evil.example/">x</a>' },
      POLICY,
    );
    expect(violations.map((v) => v.rule)).toEqual(['link_not_allowed']);
    expect(checkContent({ channel: 'email', subject: 'Fraud warning', body: 'See ((report_url)).', html: '   ' }, POLICY)).toEqual([]);
  });

  it('honours an empty allow-list: no web links at all', () => {
    expect(checkHtml('<a href="https://www.police.uk/">x</a>', { ...POLICY, allowedLinkDomains: [] }).map((v) => v.rule)).toEqual(['link_not_allowed']);
    expect(checkHtml('<a href="((report_url))">x</a>', { ...POLICY, allowedLinkDomains: [] })).toEqual([]);
  });
});

describe('reading HTML', () => {
  it('keeps inline text together and blocks apart', () => {
    expect(readHtml('<p>Call <b>us</b> now</p><p>Second</p>').texts).toEqual(['Call us now', 'Second']);
  });

  it('reads srcset as HTML does', () => {
    expect(srcsetUrls('a.png 1x, b.png 2x')).toEqual(['a.png', 'b.png']);
    expect(srcsetUrls('a.png,b.png')).toEqual(['a.png,b.png']);
    expect(srcsetUrls('a.png, b.png')).toEqual(['a.png', 'b.png']);
    expect(srcsetUrls('https://x/a,b.png 100w,https://y/c.png 200w')).toEqual(['https://x/a,b.png', 'https://y/c.png']);
  });

  it('decodes CSS escapes and comments', () => {
    expect(decodeCss('\\75 rl(x) u/**/rl(y) \\"')).toBe('url(x) url(y) "');
  });
});

describe('rendering the HTML part', () => {
  it('escapes the values it fills in', () => {
    const html = '<p title="((institution))">((institution)) ref ((reference))</p>';
    const out = renderHtmlTemplate(html, { institution: 'Smith & Jones "<b>Bank</b>"', reference: "A'B" });
    expect(out).toBe('<p title="Smith &amp; Jones &quot;&lt;b&gt;Bank&lt;/b&gt;&quot;">Smith &amp; Jones &quot;&lt;b&gt;Bank&lt;/b&gt;&quot; ref A&#39;B</p>');
    expect(readHtml(out).texts).toContain('Smith & Jones "<b>Bank</b>" ref A\'B');
  });

  it('leaves the text part unescaped', () => {
    expect(renderTemplate('((institution))', { institution: 'A & B' })).toBe('A & B');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});
