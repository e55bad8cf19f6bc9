// The chat as the client knows it: buffers (the server tab, rooms, private
// chats), their messages, members and topics, unread and mention counts.
// Changed only by handle(message) and a few user actions; every change is
// reported to `onchange(kind, buffer, detail)` so the UI can update just
// that part. No DOM here (unit tested under Node).

import { actionText, applyIsupport, casemapper, defaultIsupport, messageTime, parseModes, parseSource } from "./irc.js";
import { mentions, stripFormatting } from "./format.js";

/** Messages kept per buffer; older ones can come back from history. */
export const MAX_MESSAGES = 2000;

let localIds = 0;

/** One tab: the server's, a room, or a private chat. */
export class Buffer {
  constructor(name, kind) {
    this.name = name;
    this.kind = kind; // "server" | "channel" | "query"
    this.messages = [];
    this.msgids = new Set();
    this.members = new Map(); // folded nick -> {nick, prefix}
    this.topic = "";
    this.topicBy = "";
    this.unread = 0;
    this.mentions = 0;
    this.joined = false;
    this.history = { loading: false, done: false };
  }

  /** Members sorted for display: by rank (ops, voice, ...), then by name. */
  sortedMembers(prefixSymbols) {
    const rank = (m) => (m.prefix ? prefixSymbols.indexOf(m.prefix[0]) : prefixSymbols.length);
    return [...this.members.values()].sort((a, b) => rank(a) - rank(b) || a.nick.localeCompare(b.nick, undefined, { sensitivity: "base" }));
  }
}

const SERVER = "";

export class ChatState {
  constructor(onchange = () => {}) {
    this.onchange = onchange;
    this.nick = "";
    this.registered = false;
    this.serverName = "";
    this.isupport = defaultIsupport();
    this.fold = casemapper();
    this.buffers = new Map([[SERVER, new Buffer("server", "server")]]);
    this.active = SERVER;
    this.focused = true; // is the page visible and focused (for unread counts)
    this._names = new Map(); // channel key -> members being listed (353 .. 366)
  }

  // --- buffers ------------------------------------------------------------

  key(name) {
    return name ? this.fold(name) : SERVER;
  }

  isChannel(name) {
    return !!name && this.isupport.CHANTYPES.includes(name[0]);
  }

  get(name) {
    return this.buffers.get(this.key(name));
  }

  get server() {
    return this.buffers.get(SERVER);
  }

  get current() {
    return this.buffers.get(this.active) || this.server;
  }

  /** The buffer for `name`, created if missing. */
  open(name, kind = this.isChannel(name) ? "channel" : "query") {
    const key = this.key(name);
    let buf = this.buffers.get(key);
    if (!buf) {
      buf = new Buffer(name, kind);
      this.buffers.set(key, buf);
      this.onchange("buffers", buf);
    }
    return buf;
  }

  close(name) {
    const key = this.key(name);
    if (key === SERVER || !this.buffers.has(key)) return;
    const order = this.ordered();
    const at = order.findIndex((b) => this.key(b.name) === key);
    this.buffers.delete(key);
    if (this.active === key) {
      const next = order[at + 1] || order[at - 1] || this.server;
      this.switchTo(next.kind === "server" ? SERVER : next.name);
    }
    this.onchange("buffers", null);
  }

  /** Tabs in display order: the server, rooms, then private chats. */
  ordered() {
    const all = [...this.buffers.values()];
    const by = (kind) => all.filter((b) => b.kind === kind).sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }));
    return [...by("server"), ...by("channel"), ...by("query")];
  }

  switchTo(name) {
    const key = this.key(name);
    if (!this.buffers.has(key)) return;
    this.active = key;
    const buf = this.buffers.get(key);
    buf.unread = 0;
    buf.mentions = 0;
    this.onchange("active", buf);
    this.onchange("buffers", buf);
  }

  totals() {
    let unread = 0;
    let mentions = 0;
    for (const b of this.buffers.values()) {
      unread += b.unread;
      mentions += b.mentions;
    }
    return { unread, mentions };
  }

  // --- records ------------------------------------------------------------

  /** Add one line to a buffer (not from history: those go through addHistory). */
  add(buf, record) {
    record.id ??= record.msgid || `local-${++localIds}`;
    if (record.msgid) {
      if (buf.msgids.has(record.msgid)) return null;
      buf.msgids.add(record.msgid);
    }
    buf.messages.push(record);
    if (buf.messages.length > MAX_MESSAGES) {
      const gone = buf.messages.splice(0, buf.messages.length - MAX_MESSAGES);
      for (const r of gone) if (r.msgid) buf.msgids.delete(r.msgid);
      buf.history.done = false;
    }
    const counts = record.kind === "message" || record.kind === "action" || record.kind === "notice";
    const key = this.key(buf.kind === "server" ? "" : buf.name);
    if (counts && !record.self && (key !== this.active || !this.focused)) {
      buf.unread += 1;
      if (record.mention) buf.mentions += 1;
      this.onchange("buffers", buf);
    }
    this.onchange("message", buf, record);
    if (record.mention && !record.self) this.onchange("mention", buf, record);
    return record;
  }

  /** Lines from a chathistory batch, merged by time and deduplicated by msgid. */
  addHistory(buf, records) {
    const fresh = records.filter((r) => !r.msgid || !buf.msgids.has(r.msgid));
    for (const r of fresh) {
      r.id ??= r.msgid || `local-${++localIds}`;
      r.history = true;
      if (r.msgid) buf.msgids.add(r.msgid);
    }
    buf.messages = [...fresh, ...buf.messages].sort((a, b) => a.time - b.time);
    this.onchange("history", buf, fresh.length);
    return fresh.length;
  }

  info(text, kind = "info", buf = null) {
    return this.add(buf || this.current, { kind, time: new Date(), text });
  }

  // --- the protocol -------------------------------------------------------

  /**
   * Apply one parsed message. With `history`, the message is a record from
   * a chathistory batch: it is returned (not added), and changes no state.
   */
  handle(msg, history = false) {
    const handler = HANDLERS[msg.command] || (/^\d{3}$/.test(msg.command) ? numeric : null);
    if (!handler) return null;
    return handler(this, msg, parseSource(msg.source), history);
  }

  record(msg, src, kind, text, extra = {}) {
    return {
      kind,
      time: messageTime(msg.tags),
      msgid: msg.tags.msgid || null,
      nick: src.nick,
      text,
      self: this.fold(src.nick) === this.fold(this.nick),
      ...extra,
    };
  }

  /** Where a record about a channel event goes, live or from history. */
  emit(buf, record, history) {
    if (history) return record;
    return buf ? this.add(buf, record) : null;
  }

  setMember(buf, nick, prefix) {
    buf.members.set(this.fold(nick), { nick, prefix });
  }

  renameEverywhere(oldNick, newNick, msg, src) {
    const oldKey = this.fold(oldNick);
    for (const buf of this.buffers.values()) {
      const member = buf.members.get(oldKey);
      const isQuery = buf.kind === "query" && this.fold(buf.name) === oldKey;
      if (member) {
        buf.members.delete(oldKey);
        this.setMember(buf, newNick, member.prefix);
        this.onchange("members", buf);
      }
      if (member || isQuery) this.add(buf, this.record(msg, src, "nick", `${oldNick} is now known as ${newNick}`));
    }
    const query = this.buffers.get(oldKey);
    if (query && query.kind === "query") {
      this.buffers.delete(oldKey);
      query.name = newNick;
      this.buffers.set(this.fold(newNick), query);
      if (this.active === oldKey) this.active = this.fold(newNick);
      this.onchange("buffers", query);
    }
  }
}

function privmsg(state, msg, src, history) {
  const [target, raw = ""] = msg.params;
  const notice = msg.command === "NOTICE";
  const action = notice ? null : actionText(raw);
  if (!notice && action === null && raw.startsWith("\x01")) return null; // other CTCP: not shown
  const text = stripFormatting(action ?? raw);
  const fromServer = !src.nick || (!msg.source.includes("!") && msg.source.includes("."));
  const symbols = state.isupport.PREFIX.symbols;
  const bare = target.replace(new RegExp(`^[${symbols.replace(/[\]\\^-]/g, "\\$&")}]+`), "");
  let buf;
  if (state.isChannel(bare)) buf = state.open(bare, "channel");
  else if (fromServer || (notice && !state.registered)) buf = state.server;
  else {
    const self = state.fold(src.nick) === state.fold(state.nick);
    const peer = self ? target : src.nick;
    buf = notice && !state.get(peer) ? state.current : state.open(peer, "query");
  }
  const kind = notice ? "notice" : action !== null ? "action" : "message";
  const rec = state.record(msg, src, kind, text);
  rec.mention = !rec.self && (buf.kind === "query" || mentions(text, state.nick));
  if (history) return rec;
  return state.add(buf, rec);
}

function join(state, msg, src, history) {
  const chan = msg.params[0];
  const self = state.fold(src.nick) === state.fold(state.nick);
  const buf = self && !history ? state.open(chan, "channel") : state.get(chan);
  if (!history && buf) {
    if (self) {
      buf.joined = true;
      buf.members.clear();
    }
    state.setMember(buf, src.nick, "");
    state.onchange("members", buf);
  }
  const rec = state.record(msg, src, "join", `${src.nick} joined ${chan}`);
  const out = state.emit(buf, rec, history);
  if (self && !history && buf) state.onchange("joined", buf);
  return out;
}

function part(state, msg, src, history) {
  const [chan, reason = ""] = msg.params;
  const buf = state.get(chan);
  const self = state.fold(src.nick) === state.fold(state.nick);
  const rec = state.record(msg, src, "part", `${src.nick} left ${chan}${reason ? ` (${reason})` : ""}`);
  if (history) return rec;
  if (!buf) return null;
  if (self) {
    state.close(chan);
    return null;
  }
  buf.members.delete(state.fold(src.nick));
  state.onchange("members", buf);
  return state.add(buf, rec);
}

function kick(state, msg, src, history) {
  const [chan, victim, reason = ""] = msg.params;
  const buf = state.get(chan);
  const rec = state.record(msg, src, "kick", `${src.nick} removed ${victim} from ${chan}${reason ? ` (${reason})` : ""}`);
  if (history) return rec;
  if (!buf) return null;
  buf.members.delete(state.fold(victim));
  if (state.fold(victim) === state.fold(state.nick)) {
    buf.joined = false;
    buf.members.clear();
  }
  state.onchange("members", buf);
  return state.add(buf, rec);
}

function quit(state, msg, src, history) {
  const reason = msg.params[0] || "";
  const rec = () => state.record(msg, src, "quit", `${src.nick} quit${reason ? ` (${reason})` : ""}`);
  if (history) return rec();
  const key = state.fold(src.nick);
  for (const buf of state.buffers.values()) {
    const query = buf.kind === "query" && state.fold(buf.name) === key;
    if (buf.members.delete(key)) {
      state.onchange("members", buf);
      state.add(buf, rec());
    } else if (query) state.add(buf, rec());
  }
  return null;
}

function nick(state, msg, src, history) {
  const newNick = msg.params[0];
  if (history) return state.record(msg, src, "nick", `${src.nick} is now known as ${newNick}`);
  if (state.fold(src.nick) === state.fold(state.nick)) {
    state.nick = newNick;
    state.onchange("nick", null, newNick);
  }
  state.renameEverywhere(src.nick, newNick, msg, src);
  return null;
}

function topic(state, msg, src, history) {
  const [chan, text = ""] = msg.params;
  const buf = state.get(chan);
  const rec = state.record(msg, src, "topic", text ? `${src.nick} set the topic: ${stripFormatting(text)}` : `${src.nick} cleared the topic`);
  if (history) return rec;
  if (!buf) return null;
  buf.topic = stripFormatting(text);
  buf.topicBy = src.nick;
  state.onchange("topic", buf);
  return state.add(buf, rec);
}

function mode(state, msg, src, history) {
  const [target, modes = "", ...args] = msg.params;
  if (!state.isChannel(target)) return null;
  const buf = state.get(target);
  const rec = state.record(msg, src, "mode", `${src.nick} set ${[modes, ...args].join(" ")}`);
  if (history) return rec;
  if (!buf) return null;
  const { modes: prefixModes, symbols } = state.isupport.PREFIX;
  for (const change of parseModes(state.isupport, modes, args)) {
    const at = prefixModes.indexOf(change.mode);
    if (at < 0 || !change.arg) continue;
    const member = buf.members.get(state.fold(change.arg));
    if (!member) continue;
    const sym = symbols[at];
    let prefix = member.prefix.replace(sym, "");
    if (change.add) prefix = [...(prefix + sym)].sort((a, b) => symbols.indexOf(a) - symbols.indexOf(b)).join("");
    member.prefix = prefix;
  }
  state.onchange("members", buf);
  return state.add(buf, rec);
}

function error(state, msg) {
  const rec = { kind: "error", time: new Date(), text: `Disconnected by the server: ${msg.params[0] || ""}` };
  state.add(state.server, rec);
  if (state.active !== "") state.add(state.current, { ...rec, id: undefined });
  return null;
}

function invite(state, msg, src) {
  const chan = msg.params[1];
  state.info(`${src.nick} invites you to ${chan} (/join ${chan})`);
  return null;
}

// draft/account-registration: REGISTER SUCCESS|VERIFICATION_REQUIRED <account> :text
function accountReply(state, msg) {
  state.info(msg.params[msg.params.length - 1] || msg.params.join(" "));
  return null;
}

function standardReply(state, msg) {
  const text = msg.params[msg.params.length - 1] || "";
  state.info(`${msg.command === "FAIL" ? "Failed" : msg.command === "WARN" ? "Warning" : "Note"}: ${text}`, msg.command === "FAIL" ? "error" : "info");
  return null;
}

// Numerics that belong to the server tab (the welcome burst, MOTD, LIST).
const SERVER_NUMERICS = new Set(["001", "002", "003", "004", "251", "252", "253", "254", "255", "265", "266", "250", "372", "375", "376", "422", "321", "322", "323"]);
// Numerics the client understands and shows differently (or not at all).
const QUIET_NUMERICS = new Set(["005", "353", "366", "333", "329", "903", "908", "354", "315", "352", "730", "731", "324"]);

function numeric(state, msg) {
  const code = msg.command;
  const p = msg.params;
  switch (code) {
    case "001":
      state.nick = p[0];
      state.registered = true;
      state.serverName = msg.source || "";
      state.server.name = state.serverName || "server";
      state.onchange("nick", null, state.nick);
      state.onchange("buffers", state.server);
      break;
    case "005":
      applyIsupport(state.isupport, p.slice(1, -1));
      state.fold = casemapper(state.isupport.CASEMAPPING);
      if (state.isupport.NETWORK) {
        state.server.name = state.isupport.NETWORK;
        state.onchange("buffers", state.server);
      }
      return null;
    case "332": {
      const buf = state.get(p[1]);
      if (buf) {
        buf.topic = stripFormatting(p[2] || "");
        state.onchange("topic", buf);
      }
      return null;
    }
    case "333": {
      const buf = state.get(p[1]);
      if (buf) {
        buf.topicBy = parseSource(p[2]).nick;
        state.onchange("topic", buf);
      }
      return null;
    }
    case "353": {
      const key = state.key(p[2]);
      if (!state.buffers.has(key)) return null;
      const names = state._names.get(key) || new Map();
      state._names.set(key, names);
      const symbols = state.isupport.PREFIX.symbols;
      for (const item of (p[3] || "").split(" ")) {
        if (!item) continue;
        let i = 0;
        while (i < item.length && symbols.includes(item[i])) i++;
        const nickOnly = parseSource(item.slice(i)).nick;
        names.set(state.fold(nickOnly), { nick: nickOnly, prefix: item.slice(0, i) });
      }
      return null;
    }
    case "366": {
      const key = state.key(p[1]);
      const names = state._names.get(key);
      const buf = state.buffers.get(key);
      state._names.delete(key);
      if (buf && names) {
        buf.members = names;
        state.onchange("members", buf);
      }
      return null;
    }
    case "331": {
      const buf = state.get(p[1]);
      if (buf) {
        buf.topic = "";
        state.onchange("topic", buf);
      }
      break;
    }
    case "900": // RPL_LOGGEDIN <me> <mask> <account> :text
      state.account = p[2] || null;
      state.info(p[p.length - 1] || `Logged in as ${state.account}`);
      return null;
    case "901":
      state.account = null;
      break;
  }
  if (QUIET_NUMERICS.has(code)) return null;
  const text = p.slice(1).join(" ");
  const kind = code[0] === "4" || code[0] === "5" ? "error" : "info";
  const buf = SERVER_NUMERICS.has(code) ? state.server : state.current;
  state.add(buf, { kind, time: messageTime(msg.tags), text, code });
  return null;
}

const HANDLERS = {
  PRIVMSG: privmsg,
  NOTICE: privmsg,
  JOIN: join,
  PART: part,
  KICK: kick,
  QUIT: quit,
  NICK: nick,
  TOPIC: topic,
  MODE: mode,
  ERROR: error,
  INVITE: invite,
  FAIL: standardReply,
  WARN: standardReply,
  REGISTER: accountReply,
  VERIFY: accountReply,
  NOTE: standardReply,
};
