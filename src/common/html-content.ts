/**
 * What the HTML part of an email shows and where it can send a reader, read with a
 * real HTML parser (htmlparser2) so the content rules see what a mail client sees:
 * entities decoded, attributes unquoted or not, tags in any case.
 *
 * Decisions:
 * - Everything a reader might see is "text": text nodes, and every attribute that is
 *   not a URL, an event handler or a namespace (alt and title are shown; a class name
 *   is harmless to check). Format characters (zero-width spaces, soft hyphens) are
 *   removed first, since they hide `evil.example` from a pattern but not from the eye.
 * - Every value a client may fetch or follow is a "url": href, src, srcset, action,
 *   formaction, background, poster and the other URL attributes of HTML, CSS `url()`,
 *   `@import` and the target of `<meta http-equiv=refresh>`. CSS escapes and comments
 *   are undone first (`\75 rl(` is `url(`).
 * - Comments are read as HTML too: Outlook renders `<!--[if mso]>…<![endif]-->`, so
 *   what hides in a comment is checked like the rest.
 * - Elements and attributes that have no place in a warning email (scripts, forms,
 *   frames, plug-ins, `<base>`, SVG and MathML, event handlers, CSS expressions) are
 *   listed as "banned" rather than checked: there is no safe version of them.
 */
import { Parser } from 'htmlparser2';

export interface HtmlUrl {
  /** As the client reads it: entities and CSS escapes decoded. */
  url: string;
  /** Where it was found, for messages: `<a href>`, `<style>`, `style on <td>`. */
  where: string;
}

export interface HtmlBanned {
  what: string;
  message: string;
}

export interface HtmlParts {
  /** What a reader can see, one entry per block of text. */
  texts: string[];
  urls: HtmlUrl[];
  banned: HtmlBanned[];
}

const BANNED_ELEMENTS = new Set([
  'script', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'frame', 'frameset', 'object', 'embed',
  'applet', 'base', 'svg', 'math', 'template', 'portal', 'fencedframe',
]);

const URL_ATTRIBUTES = new Set([
  'href', 'src', 'action', 'formaction', 'background', 'poster', 'cite', 'longdesc', 'usemap', 'codebase', 'data',
  'classid', 'lowsrc', 'dynsrc', 'manifest', 'icon', 'xlink:href', 'profile', 'itemtype', 'itemid', 'code',
]);
/** URL lists separated by spaces. */
const URL_LIST_ATTRIBUTES = new Set(['ping', 'archive']);
const SRCSET_ATTRIBUTES = new Set(['srcset', 'imagesrcset']);

/** Elements that do not start a new line of text. */
const INLINE_ELEMENTS = new Set([
  'a', 'abbr', 'b', 'bdi', 'bdo', 'big', 'cite', 'code', 'data', 'dfn', 'em', 'font', 'i', 'kbd', 'label', 'mark',
  'q', 's', 'samp', 'small', 'span', 'strike', 'strong', 'sub', 'sup', 'time', 'tt', 'u', 'var', 'wbr', 'img', 'o:p',
]);

const MAX_COMMENT_DEPTH = 4;

/** The parts of `html` the content rules check. */
export function readHtml(html: string): HtmlParts {
  const parts: HtmlParts = { texts: [], urls: [], banned: [] };
  readInto(html, parts, 0);
  parts.texts = parts.texts.map(stripFormatCharacters).filter((t) => t.trim() !== '');
  return parts;
}

function readInto(html: string, parts: HtmlParts, depth: number): void {
  const open: string[] = [];
  let tag = '';
  let text = '';
  const flush = () => {
    if (text.trim() !== '') parts.texts.push(text);
    text = '';
  };
  const parser = new Parser(
    {
      onopentag(name) {
        if (!INLINE_ELEMENTS.has(name)) flush();
        if (BANNED_ELEMENTS.has(name)) {
          parts.banned.push({ what: `<${name}>`, message: bannedElementMessage(name) });
        }
        open.push(name);
      },
      // A tag's name comes first, then each of its attributes (duplicates too), then onopentag.
      onopentagname(name) {
        tag = name;
      },
      onattribute(name, value, quote) {
        // Escaping keeps a filled-in value inside quotes; without them a space in it
        // starts a new attribute (`alt=((institution))` with "x onerror=…").
        if (quote === null && value.includes('((')) {
          parts.banned.push({
            what: `unquoted ${name} on <${tag}>`,
            message: `The HTML part has a placeholder in an unquoted attribute (${name} on <${tag}>). Put the value in double quotes: ${name}="…".`,
          });
        }
        readAttribute(tag, name, value, parts);
      },
      ontext(data) {
        if (open.at(-1) === 'style') readCss(data, '<style>', parts);
        else text += data;
      },
      onclosetag(name) {
        const at = open.lastIndexOf(name);
        if (at >= 0) open.length = at;
        if (!INLINE_ELEMENTS.has(name)) flush();
      },
      oncomment(data) {
        flush();
        if (depth < MAX_COMMENT_DEPTH) readInto(data, parts, depth + 1);
        else parts.banned.push({ what: 'nested comments', message: 'The HTML part nests comments too deeply to be checked. Remove the comments.' });
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  flush();
}

function readAttribute(element: string, name: string, value: string, parts: HtmlParts): void {
  const where = `<${element} ${name}>`;
  if (name.startsWith('on')) {
    parts.banned.push({
      what: `${name} on <${element}>`,
      message: `The HTML part has an event handler (${name} on <${element}>). Email must not run code: remove the attribute.`,
    });
    return;
  }
  if (name === 'xmlns' || name.startsWith('xmlns:')) return;
  if (URL_ATTRIBUTES.has(name)) parts.urls.push({ url: value, where });
  else if (URL_LIST_ATTRIBUTES.has(name)) for (const u of value.split(/\s+/).filter(Boolean)) parts.urls.push({ url: u, where });
  else if (SRCSET_ATTRIBUTES.has(name)) for (const u of srcsetUrls(value)) parts.urls.push({ url: u, where });
  else if (name === 'style') readCss(value, `style on <${element}>`, parts);
  else if (element === 'meta' && name === 'content' && /url\s*=/i.test(value)) parts.urls.push({ url: refreshTarget(value), where: '<meta http-equiv=refresh>' });
  else parts.texts.push(value);
}

function bannedElementMessage(name: string): string {
  const why =
    name === 'script' ? 'Email must not run code'
      : ['form', 'input', 'button', 'textarea', 'select'].includes(name) ? 'A police warning never asks people to type anything into an email'
        : name === 'base' ? 'It changes where every link goes'
          : 'It can load or run content that cannot be checked';
  return `The HTML part contains <${name}>. ${why}: remove it.`;
}

/** The URLs of a srcset, read as HTML's algorithm does: a URL runs to whitespace, a descriptor to a comma. */
export function srcsetUrls(value: string): string[] {
  const urls: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && /[\s,]/.test(value[i])) i++;
    const start = i;
    while (i < value.length && !/\s/.test(value[i])) i++;
    let url = value.slice(start, i);
    if (url === '') break;
    if (url.endsWith(',')) url = url.replace(/,+$/, '');
    else while (i < value.length && value[i] !== ',') i++;
    urls.push(url);
  }
  return urls;
}

function refreshTarget(content: string): string {
  const m = /url\s*=\s*(['"]?)(.*?)\1\s*$/is.exec(content);
  return (m?.[2] ?? '').trim();
}

// ---------------------------------------------------------------- CSS

const CSS_BANNED: ReadonlyArray<[RegExp, string]> = [
  [/expression\s*\(/i, 'a CSS expression()'],
  [/(?:java|vb)script\s*:/i, 'a script URL'],
  [/behaviou?r\s*:/i, 'a CSS behavior'],
  [/-moz-binding/i, 'a CSS -moz-binding'],
];

function readCss(raw: string, where: string, parts: HtmlParts): void {
  const css = decodeCss(raw);
  for (const [pattern, what] of CSS_BANNED) {
    if (pattern.test(css)) {
      parts.banned.push({ what, message: `The HTML part has ${what} (in ${where}). Email must not run code: remove it.` });
    }
  }
  for (const m of css.matchAll(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*?))\s*\)/gi)) {
    parts.urls.push({ url: m[1] ?? m[2] ?? m[3] ?? '', where });
  }
  for (const m of css.matchAll(/@import\s+(?:"([^"]*)"|'([^']*)')/gi)) parts.urls.push({ url: m[1] ?? m[2] ?? '', where });
  // Strings can be shown (`content: "…"`) or fetched (`image-set("…")`): both are checked as text.
  for (const m of css.matchAll(/"([^"]*)"|'([^']*)'/g)) parts.texts.push(m[1] ?? m[2] ?? '');
}

/** CSS as the browser reads it: comments removed, escapes (`\75`, `\l`) decoded. */
export function decodeCss(css: string): string {
  return css
    .replace(/\/\*[\s\S]*?(?:\*\/|$)/g, '')
    .replace(/\\([0-9a-f]{1,6})[ \t\n\r\f]?|\\([^\n\r\f0-9a-f])/gi, (_m, hex: string | undefined, ch: string | undefined) => {
      if (ch !== undefined) return ch;
      const cp = parseInt(hex!, 16);
      return cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? '\ufffd' : String.fromCodePoint(cp);
    });
}

function stripFormatCharacters(text: string): string {
  return text.replace(/\p{Cf}/gu, '');
}
