// One connection to the server over WebSocket (IRCv3 text.ircv3.net): one IRC
// line per message. It registers (CAP negotiation, optional SASL, NICK/USER),
// answers PINGs, gathers BATCHes, and reports to the app through callbacks:
//   onopen(), onregistered(nick), onnickerror(code, text), onmessage(msg),
//   onbatch(batch), onclose({code, reason, registered}), onsasl(ok, text),
//   oncaps(offered) once the server has listed its capabilities.
// No DOM here; the WebSocket class is injected (unit tests pass a fake).

import { buildLine, parseLine } from "./irc.js";
import { offersPlain, plainPayload } from "./sasl.js";

/** Capabilities the client asks for when the server offers them. */
export const WANTED_CAPS = [
  "server-time",
  "message-tags",
  "echo-message",
  "multi-prefix",
  "batch",
  "away-notify",
  "invite-notify",
  "chghost",
  "setname",
  "draft/chathistory",
  "chathistory",
  "draft/event-playback",
];

export class Connection {
  constructor(url, { WebSocketImpl = globalThis.WebSocket } = {}) {
    this.url = url;
    this.WebSocketImpl = WebSocketImpl;
    this.ws = null;
    this.offered = new Map(); // cap name -> value, from CAP LS
    this.caps = new Set(); // acknowledged
    this.registered = false;
    this._lsDone = false;
    this._lsPending = new Map();
    this._registration = null; // {nick, realname, sasl} once asked to register
    this._capRequested = false;
    this._batches = new Map();
    for (const name of ["onopen", "oncaps", "onregistered", "onnickerror", "onmessage", "onbatch", "onclose", "onsasl"]) {
      this[name] = () => {};
    }
  }

  get open() {
    return !!this.ws && this.ws.readyState === 1;
  }

  /** Open the socket and ask for the server's capabilities (not registering yet). */
  connect() {
    this.close();
    this.registered = false;
    this._lsDone = false;
    this._capRequested = false;
    this._lsPending = new Map();
    this.offered = new Map();
    this.caps = new Set();
    this._batches = new Map();
    const ws = new this.WebSocketImpl(this.url, ["text.ircv3.net"]);
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.sendRaw("CAP LS 302");
      if (this._registration) this._sendRegistration();
      this.onopen();
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      if (typeof event.data !== "string") return; // text.ircv3.net: always text
      const msg = parseLine(event.data);
      if (msg) this._receive(msg);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      const registered = this.registered;
      this.registered = false;
      this.onclose({ code: event.code, reason: event.reason, registered });
    };
  }

  /** Register as `nick` (now, or as soon as the socket is open). */
  register(nick, { realname = "hubbub web client", sasl = null } = {}) {
    this._registration = { nick, realname, sasl };
    if (this.open) this._sendRegistration();
  }

  /** Another nick while registering (the first was taken). */
  retryNick(nick) {
    if (this._registration) this._registration.nick = nick;
    this.send("NICK", [nick]);
  }

  send(command, params = [], tags = null) {
    return this.sendRaw(buildLine(command, params, tags));
  }

  sendRaw(line) {
    if (!this.open) return false;
    this.ws.send(line);
    return true;
  }

  /** Close on purpose (no reconnect is implied; the app decides). */
  close() {
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= 1) ws.close(1000);
  }

  has(cap) {
    return this.caps.has(cap);
  }

  /** The chathistory capability name in use, or null. */
  get chathistory() {
    return this.has("draft/chathistory") ? "draft/chathistory" : this.has("chathistory") ? "chathistory" : null;
  }

  // --- registration -------------------------------------------------------

  _sendRegistration() {
    const { nick, realname } = this._registration;
    this.send("NICK", [nick]);
    this.send("USER", [nick.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 10) || "web", "0", "*", realname]);
    if (this._lsDone) this._requestCaps();
  }

  _requestCaps() {
    if (this._capRequested || !this._registration) return;
    this._capRequested = true;
    const want = WANTED_CAPS.filter((c) => this.offered.has(c));
    const sasl = this._registration.sasl;
    if (sasl && this.offered.has("sasl") && offersPlain(this.offered.get("sasl"))) want.push("sasl");
    if (want.length) this.send("CAP", ["REQ", want.join(" ")]);
    else this.send("CAP", ["END"]);
  }

  _cap(msg) {
    const [, sub, ...rest] = msg.params;
    const more = rest.length > 1 && rest[0] === "*";
    const list = rest[rest.length - 1] || "";
    switch (sub) {
      case "LS":
        for (const item of list.split(" ")) {
          if (!item) continue;
          const eq = item.indexOf("=");
          this._lsPending.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? "" : item.slice(eq + 1));
        }
        if (!more) {
          this.offered = this._lsPending;
          this._lsDone = true;
          this.oncaps(this.offered);
          if (this._registration) this._requestCaps();
        }
        break;
      case "ACK":
        for (const item of list.split(" ")) {
          if (item.startsWith("-")) this.caps.delete(item.slice(1));
          else if (item) this.caps.add(item);
        }
        if (!this.registered) {
          if (this.caps.has("sasl") && this._registration?.sasl) this.send("AUTHENTICATE", ["PLAIN"]);
          else this.send("CAP", ["END"]);
        }
        break;
      case "NAK":
        if (!this.registered) this.send("CAP", ["END"]);
        break;
      case "NEW":
        for (const item of list.split(" ")) if (item) this.offered.set(item.split("=")[0], item.split("=")[1] || "");
        break;
      case "DEL":
        for (const item of list.split(" ")) {
          this.offered.delete(item);
          this.caps.delete(item);
        }
        break;
    }
  }

  _authenticate(msg) {
    const sasl = this._registration?.sasl;
    if (msg.params[0] !== "+" || !sasl) return;
    for (const line of plainPayload(sasl.account, sasl.password)) this.send("AUTHENTICATE", [line]);
  }

  _saslDone(ok, text) {
    this.onsasl(ok, text);
    if (!this.registered) this.send("CAP", ["END"]);
  }

  // --- incoming -----------------------------------------------------------

  _receive(msg) {
    const batchRef = msg.tags.batch;
    if (batchRef && this._batches.has(batchRef) && msg.command !== "BATCH") {
      this._batches.get(batchRef).messages.push(msg);
      return;
    }
    switch (msg.command) {
      case "PING":
        this.send("PONG", msg.params.length ? [msg.params[msg.params.length - 1]] : []);
        return;
      case "CAP":
        this._cap(msg);
        return;
      case "AUTHENTICATE":
        this._authenticate(msg);
        return;
      case "BATCH":
        this._batch(msg);
        return;
      case "001":
        this.registered = true;
        this.onregistered(msg.params[0]);
        break;
      case "903":
        this._saslDone(true, msg.params[msg.params.length - 1]);
        break;
      case "902":
      case "904":
      case "905":
      case "906":
        this._saslDone(false, msg.params[msg.params.length - 1]);
        break;
      case "432":
      case "433":
      case "436":
        if (!this.registered) {
          this.onnickerror(msg.command, msg.params[msg.params.length - 1]);
          return;
        }
        break;
    }
    this.onmessage(msg);
  }

  _batch(msg) {
    const ref = msg.params[0] || "";
    if (ref.startsWith("+")) {
      const parent = msg.tags.batch && this._batches.get(msg.tags.batch);
      this._batches.set(ref.slice(1), { type: msg.params[1] || "", params: msg.params.slice(2), messages: [], parent });
    } else if (ref.startsWith("-")) {
      const batch = this._batches.get(ref.slice(1));
      this._batches.delete(ref.slice(1));
      if (!batch) return;
      if (batch.parent) batch.parent.messages.push(...batch.messages);
      else if (batch.type === "chathistory") this.onbatch(batch);
      else for (const m of batch.messages) this.onmessage(m);
    }
  }
}
