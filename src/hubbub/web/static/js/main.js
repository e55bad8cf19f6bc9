// The web client's wiring: the nickname prompt, the connection and its
// reconnects, the input line, keyboard shortcuts and notifications.

import { Connection } from "./client.js";
import { complete, HELP, interpret } from "./commands.js";
import { History } from "./history.js";
import { ChatState } from "./state.js";
import { View } from "./ui.js";

const $ = (id) => document.getElementById(id);
const store = {
  get: (k) => {
    try {
      return localStorage.getItem(`hubbub.${k}`);
    } catch {
      return null;
    }
  },
  set: (k, v) => {
    try {
      localStorage.setItem(`hubbub.${k}`, v);
    } catch {
      /* private browsing: nothing is remembered */
    }
  },
};

/** Seconds before each reconnect attempt; the last repeats. */
const BACKOFF = [1, 2, 4, 8, 15, 30];

/** The WebSocket URL of the server that served this page (same host, same path). */
export function socketUrl(location) {
  const url = new URL(".", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.hash = "";
  url.search = "";
  return url.href;
}

class App {
  constructor() {
    this.state = new ChatState((kind, buf, detail) => this.changed(kind, buf, detail));
    this.conn = new Connection(socketUrl(window.location));
    this.history = new History(this.conn, this.state);
    this.view = new View(this.state, {
      switchTo: (name) => this.switchTo(name),
      openQuery: (nick) => this.openQuery(nick),
      loadOlder: () => this.history.request(this.state.current, true),
    });
    this.nick = "";
    this.quitting = false;
    this.attempt = 0; // reconnect attempts since the last success
    this.nickRetries = 0;
    this.everRegistered = false;
    this.focusNext = null; // a room to show once joined (/join)
    this.sent = []; // input history (up/down)
    this.sentAt = -1;
    this.completion = null;
    this.rejoin = [];
    this.bindConnection();
    this.bindPage();
  }

  // --- the connection ---------------------------------------------------------

  bindConnection() {
    const c = this.conn;
    c.onmessage = (msg) => this.state.handle(msg);
    c.onbatch = (batch) => this.history.receive(batch);
    // A server with accounts offers SASL: then the prompt offers to log in.
    c.oncaps = (offered) => {
      $("account").hidden = !offered.has("sasl");
      $("register-row").hidden = !offered.has("draft/account-registration");
    };
    c.onregistered = () => this.registered();
    c.onnickerror = (code, text) => this.nickError(code, text);
    c.onsasl = (ok, text) => {
      if (!ok) this.state.info(`Login failed: ${text}. You are connected as a guest.`, "error");
    };
    c.onclose = (info) => this.disconnected(info);
  }

  login(nick) {
    nick = nick.trim();
    const bad = !nick ? "Type a nickname first." : /[\s,*?!@]/.test(nick) || /^[#&:$0-9-]/.test(nick) ? "A nickname has no spaces and starts with a letter." : "";
    if (bad) return this.promptError(bad);
    this.nick = nick;
    store.set("nick", nick);
    this.quitting = false;
    $("login-status").textContent = "Connecting…";
    $("join").disabled = true;
    const password = $("password").value;
    // Registering: connect as a guest, then REGISTER (which logs in).
    const registering = password && !$("register-row").hidden && $("register-new").checked;
    this.pendingRegister = registering ? password : null;
    const sasl = password && !registering ? { account: nick, password } : null;
    if (!this.conn.ws) this.conn.connect();
    if (this.conn.registered) return;
    if (this.awaitingNick) {
      this.awaitingNick = false;
      this.conn.retryNick(nick);
    } else this.conn.register(nick, { sasl });
  }

  registered() {
    this.attempt = 0;
    this.nickRetries = 0;
    this.view.banner("");
    $("welcome").hidden = true;
    $("app").hidden = false;
    $("join").disabled = false;
    $("login-status").textContent = "";
    for (const chan of this.rejoin) this.conn.send("JOIN", [chan]);
    this.rejoin = [];
    if (this.pendingRegister) {
      this.conn.send("REGISTER", ["*", "*", this.pendingRegister]);
      this.pendingRegister = null;
    }
    if (!this.everRegistered) {
      this.everRegistered = true;
      this.view.renderRooms();
      this.view.renderHeader(this.state.current);
    }
    $("input").focus();
  }

  nickError(code, text) {
    const taken = code === "433" || code === "436";
    if (taken && this.everRegistered && this.nickRetries < 3) {
      // Reconnecting: our old self may linger a moment; try a variant.
      this.nickRetries += 1;
      this.conn.retryNick(`${this.nick}_`.slice(0, 30));
      this.nick = `${this.nick}_`.slice(0, 30);
      return;
    }
    this.awaitingNick = true;
    $("app").hidden = true;
    $("welcome").hidden = false;
    this.promptError(taken ? `The nickname ${this.nick} is taken: pick another.` : `The server refused that nickname: ${text}`);
  }

  promptError(text) {
    $("join").disabled = false;
    $("login-status").textContent = "";
    $("nick-error").textContent = text;
    const input = $("nick");
    input.setAttribute("aria-invalid", "true");
    input.focus();
    input.select();
  }

  disconnected({ code, reason, registered }) {
    this.awaitingNick = false;
    if (registered || this.everRegistered) {
      this.rejoin = [...this.state.buffers.values()].filter((b) => b.kind === "channel" && b.joined).map((b) => b.name);
      for (const b of this.state.buffers.values()) {
        b.joined = false;
        b.members.clear();
        b.history.loading = false;
      }
      this.state.registered = false;
      this.view.renderRooms();
      this.view.renderMembers(this.state.current);
    }
    if (this.quitting) {
      this.view.banner("You left the chat. Reload the page to come back.");
      return;
    }
    if (!this.nick) return; // the prompt is still open: connect when asked
    const delay = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)];
    this.attempt += 1;
    const why = reason ? ` (${reason})` : code && code !== 1000 && code !== 1006 ? ` (code ${code})` : "";
    const text = `Disconnected${why}. Reconnecting in ${delay} s… Anything you type is kept.`;
    if (this.everRegistered) this.view.banner(text);
    else $("login-status").textContent = text;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.reconnect(), delay * 1000);
  }

  reconnect() {
    clearTimeout(this.retryTimer);
    if (this.conn.open || this.quitting || !this.nick) return;
    if (this.everRegistered) this.view.banner("Reconnecting…");
    this.conn.connect();
    this.conn.register(this.nick);
  }

  // --- buffers ------------------------------------------------------------------

  changed(kind, buf, detail) {
    const state = this.state;
    const active = buf && state.current === buf;
    switch (kind) {
      case "buffers":
        this.view.renderRooms();
        break;
      case "active":
        this.view.renderHeader(buf);
        this.view.renderMembers(buf);
        this.view.renderLog(buf);
        if (buf.kind === "query" && !buf.messages.length) this.history.request(buf);
        break;
      case "message":
        if (active) this.view.append(detail);
        break;
      case "history":
        if (active) this.view.history(buf);
        break;
      case "members":
        if (active) this.view.renderMembers(buf);
        break;
      case "topic":
        if (active) this.view.renderHeader(buf);
        break;
      case "joined": {
        const wanted = this.focusNext && state.key(this.focusNext) === state.key(buf.name);
        if (wanted || state.active === "") {
          this.focusNext = null;
          state.switchTo(buf.name);
        }
        this.view.renderRooms();
        buf.history.done = false;
        this.history.request(buf);
        break;
      }
      case "mention":
        this.notify(buf, detail);
        break;
      case "nick":
        if (detail) {
          this.nick = detail;
          store.set("nick", detail);
          this.view.me(`You are ${detail}`);
        }
        break;
    }
  }

  switchTo(name) {
    this.state.switchTo(name);
    $("input").focus();
  }

  openQuery(nick) {
    this.state.open(nick, "query");
    this.switchTo(nick);
  }

  cycle(step) {
    const order = this.state.ordered();
    const at = order.indexOf(this.state.current);
    const next = order[(at + step + order.length) % order.length];
    this.switchTo(next.kind === "server" ? "" : next.name);
  }

  // --- the input line -------------------------------------------------------------

  submit() {
    const input = $("input");
    const text = input.value;
    if (!text.trim()) return;
    const state = this.state;
    const buf = state.current;
    const result = interpret(text, {
      target: buf.kind === "server" ? null : buf.name,
      isChannel: (n) => state.isChannel(n),
      nick: state.nick,
    });
    if (result.error) {
      state.info(result.error, "error");
      return;
    }
    const needsServer = result.send.length || (result.local && ["raw", "quit"].includes(result.local.type));
    if (needsServer && !this.conn.registered) {
      // Keep the line: it goes when the user presses Enter after the reconnect.
      this.view.banner("Not connected right now: your message is kept. Press Enter again once reconnected.");
      this.reconnect();
      return;
    }
    const echo = this.conn.has("echo-message");
    for (const [command, params] of result.send) {
      this.conn.send(command, params);
      if (!echo && command === "PRIVMSG") this.localEcho(params[0], params[1]);
    }
    if (result.local) this.local(result.local);
    this.sent.push(text);
    if (this.sent.length > 100) this.sent.shift();
    this.sentAt = -1;
    input.value = "";
  }

  /** Show our own message when the server does not echo it. */
  localEcho(target, text) {
    const state = this.state;
    const msg = { tags: {}, source: `${state.nick}!~u@local`, command: "PRIVMSG", params: [target, text] };
    state.handle(msg);
  }

  local(action) {
    const state = this.state;
    switch (action.type) {
      case "focus":
        if (action.target === null) this.switchTo("");
        else if (state.get(action.target)) this.switchTo(action.target);
        else this.focusNext = action.target;
        break;
      case "query":
        this.openQuery(action.target);
        break;
      case "close":
        if (state.current.kind !== "server") state.close(state.current.name);
        break;
      case "clear":
        state.current.messages = [];
        this.view.renderLog(state.current);
        break;
      case "raw":
        this.conn.sendRaw(action.line);
        break;
      case "quit":
        this.quitting = true;
        this.conn.send("QUIT", action.reason ? [action.reason] : []);
        break;
      case "help":
        state.info("Commands (Alt+Up/Down switches tabs, Tab completes nicks):");
        for (const [name, [args, what]] of Object.entries(HELP)) state.info(`/${name} ${args} — ${what}`);
        break;
    }
  }

  inputKey(event) {
    const input = $("input");
    if (event.key === "Tab" && !event.shiftKey && !event.altKey && !event.ctrlKey) {
      const buf = this.state.current;
      const names = [...buf.members.values()].map((m) => m.nick).concat(this.state.ordered().filter((b) => b.kind === "channel").map((b) => b.name));
      if (buf.kind === "query") names.push(buf.name);
      const base = this.completion && input.value === this.completion.result ? this.completion : null;
      const from = base ? base.text : input.value;
      const caret = base ? base.caret : input.selectionStart;
      const done = complete(from, caret, names, base ? base.cycle + 1 : 0);
      if (!done) return;
      event.preventDefault();
      input.value = done.text;
      input.setSelectionRange(done.caret, done.caret);
      this.completion = { text: from, caret, cycle: base ? base.cycle + 1 : 0, result: done.text };
      return;
    }
    this.completion = null;
    if ((event.key === "ArrowUp" || event.key === "ArrowDown") && !event.altKey && this.sent.length) {
      if (event.key === "ArrowUp" && input.value && this.sentAt < 0) return;
      event.preventDefault();
      const step = event.key === "ArrowUp" ? 1 : -1;
      this.sentAt = Math.max(-1, Math.min(this.sent.length - 1, this.sentAt + step));
      input.value = this.sentAt < 0 ? "" : this.sent[this.sent.length - 1 - this.sentAt];
    } else if (event.key === "PageUp" || event.key === "PageDown") {
      event.preventDefault();
      const log = $("log");
      log.scrollTop += (event.key === "PageUp" ? -0.9 : 0.9) * log.clientHeight;
    }
  }

  // --- notifications ----------------------------------------------------------------

  notificationsOn() {
    return "Notification" in window && Notification.permission === "granted" && store.get("notify") !== "off";
  }

  renderNotifyButton() {
    const button = $("notify");
    if (!("Notification" in window)) {
      button.hidden = true;
      return;
    }
    const on = this.notificationsOn();
    button.textContent = on ? "Mentions notify you (turn off)" : Notification.permission === "denied" ? "Notifications are blocked" : "Notify me of mentions";
    button.disabled = Notification.permission === "denied";
    button.setAttribute("aria-pressed", String(on));
  }

  async toggleNotifications() {
    if (this.notificationsOn()) store.set("notify", "off");
    else {
      store.set("notify", "on");
      if (Notification.permission !== "granted") await Notification.requestPermission();
    }
    this.renderNotifyButton();
  }

  notify(buf, rec) {
    const visible = !document.hidden && document.hasFocus() && this.state.current === buf;
    if (visible || !this.notificationsOn()) return;
    const where = buf.kind === "query" ? "privately" : `in ${buf.name}`;
    const n = new Notification(`${rec.nick} ${where}`, { body: rec.text, tag: buf.name, icon: "icon.svg" });
    n.onclick = () => {
      window.focus();
      this.switchTo(buf.kind === "server" ? "" : buf.name);
      n.close();
    };
  }

  // --- the page ---------------------------------------------------------------------

  bindPage() {
    $("login").addEventListener("submit", (e) => {
      e.preventDefault();
      $("nick-error").textContent = "";
      $("nick").removeAttribute("aria-invalid");
      this.login($("nick").value);
    });
    $("compose").addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    $("input").addEventListener("keydown", (e) => this.inputKey(e));
    $("notify").addEventListener("click", () => this.toggleNotifications());
    document.addEventListener("keydown", (e) => {
      if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
        e.preventDefault();
        this.cycle(e.key === "ArrowUp" ? -1 : 1);
      } else if (e.altKey && /^[1-9]$/.test(e.key)) {
        const buf = this.state.ordered()[Number(e.key) - 1];
        if (buf) {
          e.preventDefault();
          this.switchTo(buf.kind === "server" ? "" : buf.name);
        }
      } else if (e.altKey && (e.key === "r" || e.key === "m")) {
        e.preventDefault();
        this.view.toggleDrawer(e.key === "r" ? "rooms" : "members");
      } else if (e.key === "Escape") this.view.closeDrawers();
    });
    const focusChanged = () => {
      this.state.focused = !document.hidden && document.hasFocus();
      if (this.state.focused && (this.state.current.unread || this.state.current.mentions)) {
        this.state.switchTo(this.state.active);
      }
    };
    window.addEventListener("focus", focusChanged);
    window.addEventListener("blur", focusChanged);
    document.addEventListener("visibilitychange", focusChanged);
    window.addEventListener("online", () => this.reconnect());
    this.renderNotifyButton();
  }

  start() {
    const params = new URLSearchParams(window.location.search);
    const nick = params.get("nick") || store.get("nick") || "";
    $("nick").value = nick;
    this.conn.connect(); // warm: CAP LS while the nickname is typed
    if (params.get("nick")) this.login(nick);
    else $("nick").focus();
  }
}

const app = new App();
window.hubbub = app; // for the browser console (and tests)
app.start();
