// What the input line means: a message, or a slash command -> IRC lines and
// local actions. Pure (unit tested under Node): the caller sends and acts.

/** Bytes a message's text may take so the whole line stays under 512. */
export const MAX_TEXT_BYTES = 400;

const encoder = new TextEncoder();

/** Split text into pieces of at most `max` UTF-8 bytes, at spaces when possible. */
export function splitText(text, max = MAX_TEXT_BYTES) {
  const out = [];
  let rest = text;
  while (encoder.encode(rest).length > max) {
    // The longest prefix (in whole code points) that fits.
    let cut = 0;
    let bytes = 0;
    for (const ch of rest) {
      const n = encoder.encode(ch).length;
      if (bytes + n > max) break;
      bytes += n;
      cut += ch.length;
    }
    const space = rest.lastIndexOf(" ", cut);
    const at = space > cut / 2 ? space : cut;
    out.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^ /, "");
  }
  if (rest || !out.length) out.push(rest);
  return out;
}

/** The commands /help lists: name -> [arguments, what it does]. */
export const HELP = {
  join: ["#room [key]", "join a room (or open it)"],
  part: ["[#room] [reason]", "leave a room (this one by default)"],
  msg: ["nick|#room text", "send a message somewhere else"],
  query: ["nick [text]", "open a private chat"],
  me: ["text", "an action: * you text"],
  nick: ["newnick", "change your nickname"],
  topic: ["[text]", "show or set this room's topic"],
  names: ["[#room]", "list who is in a room"],
  whois: ["nick", "who someone is"],
  away: ["[message]", "mark yourself away (no message: back)"],
  back: ["", "no longer away"],
  invite: ["nick [#room]", "invite someone to a room"],
  kick: ["nick [reason]", "remove someone from this room (operators)"],
  op: ["nick", "make someone an operator here"],
  deop: ["nick", "take operator away"],
  voice: ["nick", "give voice (+v)"],
  devoice: ["nick", "take voice away"],
  mode: ["[target] modes", "change modes"],
  notice: ["target text", "send a notice"],
  list: ["", "list the rooms on this server"],
  close: ["", "close this tab (leaves a room)"],
  clear: ["", "clear this tab's messages"],
  quote: ["LINE", "send a raw IRC line"],
  register: ["password [email]", "make your nickname an account: next time, log in with it"],
  verify: ["account code", "finish registering with the code you were mailed"],
  quit: ["[message]", "disconnect (reload the page to come back)"],
  help: ["", "this list"],
};

const ALIASES = { j: "join", leave: "part", m: "msg", q: "query", raw: "quote", w: "whois" };

function words(s) {
  const m = /^(\S+)\s*(.*)$/s.exec(s.trim());
  return m ? [m[1], m[2]] : ["", ""];
}

/**
 * Interpret one input line.
 *   ctx: {target: name of the active buffer or null (server tab),
 *         isChannel(name), nick}
 * Returns {send: [[command, params], ...], local: null | {type, ...}, error: null | text}.
 */
export function interpret(input, ctx) {
  const result = { send: [], local: null, error: null };
  const say = (target, text) => {
    for (const line of text.split(/\r?\n/)) {
      if (!line) continue;
      for (const piece of splitText(line)) result.send.push(["PRIVMSG", [target, piece]]);
    }
  };
  if (!input.startsWith("/") || input.startsWith("//")) {
    const text = input.startsWith("//") ? input.slice(1) : input;
    if (!text.trim()) return result;
    if (!ctx.target) result.error = "This tab is the server's: join a room (/join #name) or /msg someone.";
    else say(ctx.target, text);
    return result;
  }
  let [name, args] = words(input.slice(1));
  name = name.toLowerCase();
  name = ALIASES[name] || name;
  const here = ctx.target;
  const hereChannel = here && ctx.isChannel(here) ? here : null;
  const need = (ok, usage) => {
    if (!ok) result.error = `Usage: /${name} ${usage}`;
    return ok;
  };
  const [first, rest] = words(args);
  switch (name) {
    case "join": {
      if (need(first, HELP.join[0])) {
        const chan = ctx.isChannel(first) ? first : "#" + first;
        result.send.push(["JOIN", rest ? [chan, rest.split(/\s+/)[0]] : [chan]]);
        result.local = { type: "focus", target: chan };
      }
      break;
    }
    case "part": {
      let chan = hereChannel;
      let reason = args;
      if (first && ctx.isChannel(first)) [chan, reason] = [first, rest];
      if (need(chan, HELP.part[0])) result.send.push(["PART", reason ? [chan, reason] : [chan]]);
      break;
    }
    case "msg":
      if (need(first && rest, HELP.msg[0])) say(first, rest);
      break;
    case "query":
      if (need(first && !ctx.isChannel(first), HELP.query[0])) {
        result.local = { type: "query", target: first };
        if (rest) say(first, rest);
      }
      break;
    case "me":
      if (!here) result.error = "/me needs a room or a private chat.";
      else result.send.push(["PRIVMSG", [here, `\x01ACTION ${args}\x01`]]);
      break;
    case "nick":
      if (need(first, HELP.nick[0])) result.send.push(["NICK", [first]]);
      break;
    case "topic":
      if (!hereChannel) result.error = "/topic works in a room.";
      else if (args) result.send.push(["TOPIC", [hereChannel, args]]);
      else result.send.push(["TOPIC", [hereChannel]]);
      break;
    case "names": {
      const chan = first || hereChannel;
      if (need(chan, HELP.names[0])) result.send.push(["NAMES", [chan]]);
      break;
    }
    case "whois":
      if (need(first, HELP.whois[0])) result.send.push(["WHOIS", [first]]);
      break;
    case "away":
      result.send.push(args ? ["AWAY", [args]] : ["AWAY", []]);
      break;
    case "back":
      result.send.push(["AWAY", []]);
      break;
    case "invite": {
      const chan = rest || hereChannel;
      if (need(first && chan, HELP.invite[0])) result.send.push(["INVITE", [first, chan]]);
      break;
    }
    case "kick":
      if (!hereChannel) result.error = "/kick works in a room.";
      else if (need(first, HELP.kick[0])) result.send.push(["KICK", rest ? [hereChannel, first, rest] : [hereChannel, first]]);
      break;
    case "op":
    case "deop":
    case "voice":
    case "devoice": {
      const mode = { op: "+o", deop: "-o", voice: "+v", devoice: "-v" }[name];
      if (!hereChannel) result.error = `/${name} works in a room.`;
      else if (need(first, HELP[name][0])) result.send.push(["MODE", [hereChannel, mode, first]]);
      break;
    }
    case "mode": {
      const parts = args.split(/\s+/).filter(Boolean);
      if (parts.length && !/^[+-]/.test(parts[0])) result.send.push(["MODE", parts]);
      else if (hereChannel) result.send.push(["MODE", [hereChannel, ...parts]]);
      else result.send.push(["MODE", [ctx.nick, ...parts]]);
      break;
    }
    case "notice":
      if (need(first && rest, HELP.notice[0])) result.send.push(["NOTICE", [first, rest]]);
      break;
    case "list":
      result.send.push(["LIST", []]);
      result.local = { type: "focus", target: null };
      break;
    case "close":
      if (hereChannel) result.send.push(["PART", [hereChannel]]);
      result.local = { type: "close", target: here };
      break;
    case "clear":
      result.local = { type: "clear", target: here };
      break;
    case "register": {
      const [password, email] = args.split(/\s+/).filter(Boolean);
      if (need(password && args.split(/\s+/).filter(Boolean).length <= 2, HELP.register[0])) {
        result.send.push(["REGISTER", ["*", email || "*", password]]);
      }
      break;
    }
    case "verify":
      if (need(first && rest, HELP.verify[0])) result.send.push(["VERIFY", [first, rest]]);
      break;
    case "quote":
      if (need(args, HELP.quote[0])) result.local = { type: "raw", line: args };
      break;
    case "quit":
      result.local = { type: "quit", reason: args };
      break;
    case "help":
      result.local = { type: "help" };
      break;
    default:
      result.error = `Unknown command /${name}: /help lists them.`;
  }
  return result;
}

/** Complete the word before the caret: nicks, channels and /commands. */
export function complete(text, caret, candidates, cycle = 0) {
  const start = text.lastIndexOf(" ", caret - 1) + 1;
  const word = text.slice(start, caret);
  if (!word) return null;
  let pool;
  if (start === 0 && word.startsWith("/")) pool = Object.keys(HELP).map((c) => "/" + c);
  else pool = candidates;
  const lower = word.toLowerCase();
  const hits = pool.filter((c) => c.toLowerCase().startsWith(lower)).sort((a, b) => a.localeCompare(b));
  if (!hits.length) return null;
  let done = hits[cycle % hits.length];
  // A nick at the start of the line is addressed: "alice: ".
  if (start === 0 && !done.startsWith("/") && !done.startsWith("#")) done += ":";
  const insert = done + " ";
  return { text: text.slice(0, start) + insert + text.slice(caret), caret: start + insert.length, count: hits.length };
}
