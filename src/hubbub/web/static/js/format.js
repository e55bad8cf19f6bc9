// Text helpers for display: nick colours, links, mentions, times.
// Pure functions: no DOM (unit tested under Node).

/** Number of nick colours in style.css (.nc0 ... .nc15). */
export const NICK_COLOURS = 16;

/** A stable colour index for a nick (the same nick, the same colour, everywhere). */
export function nickColour(nick) {
  let h = 2166136261;
  for (const ch of nick.toLowerCase()) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % NICK_COLOURS;
}

// mIRC formatting: bold, colour (with its digits), hex colour, reset,
// monospace, reverse, italic, strikethrough, underline. Shown as plain text.
const FORMATTING = /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;

/** Text without IRC formatting codes. */
export function stripFormatting(text) {
  return text.replace(FORMATTING, "");
}

const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'"*]+$/;

/** Trim what a sentence adds after a URL: punctuation, an unbalanced ")". */
function trimUrl(url) {
  for (;;) {
    const before = url;
    url = url.replace(TRAILING, "");
    if (url.endsWith(")") && (url.match(/\(/g) || []).length < (url.match(/\)/g) || []).length) {
      url = url.slice(0, -1);
    }
    if (url === before) return url;
  }
}

/**
 * Split text into segments: {text} and {text, href} for links. Only http(s)
 * links are made (a "javascript:" text never becomes a link).
 */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = trimUrl(m[0]);
    if (!url.includes(".", url.indexOf("//") + 2) && !url.startsWith("www.")) continue;
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    const href = /^www\./i.test(url) ? "https://" + url : url;
    out.push({ text: url, href });
    last = m.index + url.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Does `text` mention `nick` as a word (case-insensitive)? */
export function mentions(text, nick) {
  if (!nick) return false;
  const re = new RegExp(`(^|[^\\w\\[\\]\\\\\`^{|}-])${escapeRegExp(nick)}($|[^\\w\\[\\]\\\\\`^{|}-])`, "i");
  return re.test(stripFormatting(text));
}

/** "14:05" in the reader's time zone. */
export function clock(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
}

/** "Monday 3 March" style day heading, for day separators. */
export function dayLabel(date) {
  return date.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}
