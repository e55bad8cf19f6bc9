// IRC lines <-> messages (Modern IRC + IRCv3 message tags), and casemapping.
// Pure functions: no DOM, no sockets (unit tested under Node).

const TAG_UNESCAPES = { ":": ";", s: " ", "\\": "\\", r: "\r", n: "\n" };
const TAG_ESCAPES = { ";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n" };

/** Unescape one tag value (IRCv3 message-tags). */
export function unescapeTag(value) {
  return value.replace(/\\(.?)/g, (_, c) => (c in TAG_UNESCAPES ? TAG_UNESCAPES[c] : c));
}

/** Escape one tag value. */
export function escapeTag(value) {
  return value.replace(/[; \\\r\n]/g, (c) => TAG_ESCAPES[c]);
}

/**
 * Parse one line (no CR LF) into {tags, source, command, params}.
 * Returns null for an empty line.
 */
export function parseLine(line) {
  let rest = line.replace(/^ +/, "");
  const tags = {};
  if (rest.startsWith("@")) {
    const sp = rest.indexOf(" ");
    const raw = sp < 0 ? rest.slice(1) : rest.slice(1, sp);
    rest = sp < 0 ? "" : rest.slice(sp + 1).replace(/^ +/, "");
    for (const item of raw.split(";")) {
      if (!item) continue;
      const eq = item.indexOf("=");
      if (eq < 0) tags[item] = "";
      else tags[item.slice(0, eq)] = unescapeTag(item.slice(eq + 1));
    }
  }
  let source = null;
  if (rest.startsWith(":")) {
    const sp = rest.indexOf(" ");
    source = sp < 0 ? rest.slice(1) : rest.slice(1, sp);
    rest = sp < 0 ? "" : rest.slice(sp + 1).replace(/^ +/, "");
  }
  const params = [];
  while (rest) {
    if (rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const sp = rest.indexOf(" ");
    if (sp < 0) {
      params.push(rest);
      break;
    }
    params.push(rest.slice(0, sp));
    rest = rest.slice(sp + 1).replace(/^ +/, "");
  }
  if (!params.length) return null;
  const command = params.shift().toUpperCase();
  return { tags, source, command, params };
}

/**
 * Build one line from a command and its parameters. The last parameter is
 * sent as a trailing one when it needs to be (empty, a space, a leading ":").
 * Throws on CR, LF or NUL: one message must stay one line.
 */
export function buildLine(command, params = [], tags = null) {
  const parts = [];
  if (tags && Object.keys(tags).length) {
    parts.push(
      "@" +
        Object.entries(tags)
          .map(([k, v]) => (v === "" || v === true ? k : `${k}=${escapeTag(String(v))}`))
          .join(";"),
    );
  }
  parts.push(command);
  params.forEach((p, i) => {
    p = String(p);
    if (/[\r\n\0]/.test(p)) throw new Error("a parameter may not contain CR, LF or NUL");
    const last = i === params.length - 1;
    if (last && (p === "" || p.includes(" ") || p.startsWith(":"))) parts.push(":" + p);
    else if (p === "" || p.includes(" ") || p.startsWith(":")) throw new Error(`bad middle parameter ${JSON.stringify(p)}`);
    else parts.push(p);
  });
  return parts.join(" ");
}

/** Split "nick!user@host" (or a server name) into its parts. */
export function parseSource(source) {
  if (!source) return { nick: "", user: "", host: "" };
  const bang = source.indexOf("!");
  const at = source.indexOf("@");
  if (bang < 0 && at < 0) return { nick: source, user: "", host: "" };
  const nickEnd = bang >= 0 ? bang : at;
  return {
    nick: source.slice(0, nickEnd),
    user: bang >= 0 ? source.slice(bang + 1, at >= 0 ? at : undefined) : "",
    host: at >= 0 ? source.slice(at + 1) : "",
  };
}

/** A casefolding function for an ISUPPORT CASEMAPPING value. */
export function casemapper(name = "rfc1459") {
  if (name === "ascii") return (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const strict = name === "strict-rfc1459";
  return (s) =>
    s.replace(/[A-Z\[\]\\~^]/g, (c) => {
      if (c === "[") return "{";
      if (c === "]") return "}";
      if (c === "\\") return "|";
      if (c === "~") return strict ? c : "^";
      if (c === "^") return c;
      return c.toLowerCase();
    });
}

/** The parts of ISUPPORT the client uses, with their defaults. */
export function defaultIsupport() {
  return {
    CASEMAPPING: "rfc1459",
    CHANTYPES: "#&",
    PREFIX: { modes: "ov", symbols: "@+" },
    CHANMODES: ["beI", "k", "l", "imnpst"],
    CHATHISTORY: 0,
    NETWORK: "",
  };
}

/** Apply the tokens of one RPL_ISUPPORT (005) line to `isupport`. */
export function applyIsupport(isupport, tokens) {
  for (const token of tokens) {
    if (token.startsWith("-")) continue;
    const eq = token.indexOf("=");
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? "" : token.slice(eq + 1).replace(/\\x20/g, " ");
    if (key === "PREFIX") {
      const m = /^\(([^)]*)\)(.*)$/.exec(value);
      if (m && m[1].length === m[2].length) isupport.PREFIX = { modes: m[1], symbols: m[2] };
    } else if (key === "CHANMODES") {
      const kinds = value.split(",");
      if (kinds.length >= 4) isupport.CHANMODES = kinds.slice(0, 4);
    } else if (key === "CHATHISTORY") {
      isupport.CHATHISTORY = parseInt(value, 10) || 0;
    } else if (key === "CASEMAPPING" || key === "CHANTYPES" || key === "NETWORK") {
      isupport[key] = value;
    }
  }
  return isupport;
}

/** An IRCv3 server-time tag (or now) as a Date. */
export function messageTime(tags) {
  const t = tags && tags.time ? Date.parse(tags.time) : NaN;
  return Number.isNaN(t) ? new Date() : new Date(t);
}

/** CTCP ACTION ("/me") text, or null for an ordinary message. */
export function actionText(text) {
  const m = /^\x01ACTION(?: (.*?))?\x01?$/.exec(text);
  return m ? m[1] || "" : null;
}

/**
 * Split a channel MODE change into [{add, mode, arg}], using CHANMODES and
 * PREFIX to know which modes take an argument.
 */
export function parseModes(isupport, modes, args) {
  const [listModes, always, onSet] = isupport.CHANMODES;
  const out = [];
  let add = true;
  let i = 0;
  for (const mode of modes) {
    if (mode === "+" || mode === "-") {
      add = mode === "+";
      continue;
    }
    const takes =
      isupport.PREFIX.modes.includes(mode) || listModes.includes(mode) || always.includes(mode) || (add && onSet.includes(mode));
    out.push({ add, mode, arg: takes ? args[i++] : undefined });
  }
  return out;
}
