// The client's connection and state against a scripted server (a fake
// WebSocket): registration, nick errors, SASL, batches, history, and what
// the tabs show for joins, parts, quits, modes and messages.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Connection } from "../../src/hubbub/web/static/js/client.js";
import { History } from "../../src/hubbub/web/static/js/history.js";
import { ChatState } from "../../src/hubbub/web/static/js/state.js";

class FakeSocket {
  static last = null;
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.last = this;
  }
  send(line) {
    this.sent.push(line);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen();
  }
  recv(...lines) {
    for (const data of lines) this.onmessage({ data });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose({ code, reason: "" });
  }
  take() {
    const out = this.sent;
    this.sent = [];
    return out;
  }
}

function connected() {
  const conn = new Connection("ws://x/", { WebSocketImpl: FakeSocket });
  conn.connect();
  const ws = FakeSocket.last;
  ws.open();
  return { conn, ws };
}

test("registration: CAP LS first, the nick when asked, the wanted caps, then CAP END", () => {
  const { conn, ws } = connected();
  assert.deepEqual(ws.protocols, ["text.ircv3.net"]);
  assert.deepEqual(ws.take(), ["CAP LS 302"]);
  ws.recv(":srv CAP * LS * :server-time batch foo", ":srv CAP * LS :echo-message draft/chathistory sasl=PLAIN");
  conn.register("alice");
  assert.deepEqual(ws.take(), [
    "NICK alice",
    "USER alice 0 * :hubbub web client",
    "CAP REQ :server-time echo-message batch draft/chathistory",
  ]);
  ws.recv(":srv CAP alice ACK :server-time echo-message batch draft/chathistory");
  assert.deepEqual(ws.take(), ["CAP END"]);
  let registered = null;
  conn.onregistered = (nick) => (registered = nick);
  ws.recv(":srv 001 alice :Welcome");
  assert.equal(registered, "alice");
  assert.equal(conn.chathistory, "draft/chathistory");
  ws.recv("PING :tok");
  assert.deepEqual(ws.take(), ["PONG tok"]);
});

test("a taken nick is reported before registration and retried", () => {
  const { conn, ws } = connected();
  ws.recv(":srv CAP * LS :");
  conn.register("bob");
  const errors = [];
  conn.onnickerror = (code) => errors.push(code);
  ws.recv(":srv 433 * bob :Nickname is already in use");
  assert.deepEqual(errors, ["433"]);
  ws.take();
  conn.retryNick("bob2");
  assert.deepEqual(ws.take(), ["NICK bob2"]);
});

test("SASL PLAIN when the server offers it and a password is given", () => {
  const { conn, ws } = connected();
  ws.take();
  conn.register("carol", { sasl: { account: "carol", password: "pw" } });
  ws.recv(":srv CAP * LS :sasl=PLAIN,EXTERNAL");
  assert.equal(ws.take().pop(), "CAP REQ sasl");
  ws.recv(":srv CAP * ACK :sasl");
  assert.deepEqual(ws.take(), ["AUTHENTICATE PLAIN"]);
  ws.recv("AUTHENTICATE +");
  assert.deepEqual(ws.take(), [`AUTHENTICATE ${Buffer.from("carol\0carol\0pw").toString("base64")}`]);
  let outcome = null;
  conn.onsasl = (ok) => (outcome = ok);
  ws.recv(":srv 903 carol :SASL authentication successful");
  assert.equal(outcome, true);
  assert.deepEqual(ws.take(), ["CAP END"]);
});

function session() {
  const { conn, ws } = connected();
  const changes = [];
  const state = new ChatState((kind, buf) => changes.push([kind, buf && buf.name]));
  conn.onmessage = (m) => state.handle(m);
  const history = new History(conn, state);
  conn.onbatch = (b) => history.receive(b);
  ws.recv(":srv CAP * LS :batch server-time draft/chathistory");
  conn.register("me");
  ws.recv(":srv CAP me ACK :batch server-time draft/chathistory", ":srv 001 me :hi", ":srv 005 me PREFIX=(ov)@+ CHATHISTORY=100 NETWORK=TestNet :are supported");
  ws.take();
  return { conn, ws, state, history, changes };
}

test("a room: join, names with ranks, topic, modes, messages, mentions, parts and quits", () => {
  const { ws, state } = session();
  ws.recv(
    ":me!~u@h JOIN #lobby",
    ":srv 332 me #lobby :Tea at five",
    ":srv 353 me = #lobby :@alice +bob me",
    ":srv 366 me #lobby :End",
  );
  const lobby = state.get("#LOBBY");
  assert.equal(lobby.topic, "Tea at five");
  assert.deepEqual(lobby.sortedMembers("@+").map((m) => m.prefix + m.nick), ["@alice", "+bob", "me"]);
  ws.recv(":alice!~a@h MODE #lobby +o-v me bob");
  assert.deepEqual(lobby.sortedMembers("@+").map((m) => m.prefix + m.nick), ["@alice", "@me", "bob"]);
  state.switchTo("");
  ws.recv(":bob!~b@h PRIVMSG #lobby :hello all", ":bob!~b@h PRIVMSG #lobby :me: look");
  assert.equal(lobby.unread, 2);
  assert.equal(lobby.mentions, 1);
  assert.equal(state.server.name, "TestNet");
  state.switchTo("#lobby");
  assert.equal(lobby.unread, 0);
  ws.recv(":bob!~b@h NICK robert", ":robert!~b@h PART #lobby :bye", ":alice!~a@h QUIT :gone");
  assert.deepEqual([...lobby.members.values()].map((m) => m.nick), ["me"]);
  assert.deepEqual(
    lobby.messages.slice(-3).map((r) => r.text),
    ["bob is now known as robert", "robert left #lobby (bye)", "alice quit (gone)"],
  );
});

test("private messages open a tab; our own echo goes to the peer's tab", () => {
  const { ws, state } = session();
  ws.recv(":dave!~d@h PRIVMSG me :psst", ":me!~u@h PRIVMSG dave :yes?", ":dave!~d@h PRIVMSG me :\x01ACTION whispers\x01");
  const q = state.get("Dave");
  assert.equal(q.kind, "query");
  assert.deepEqual(q.messages.map((r) => [r.kind, r.nick, r.text, r.self]), [
    ["message", "dave", "psst", false],
    ["message", "me", "yes?", true],
    ["action", "dave", "whispers", false],
  ]);
  assert.equal(q.mentions, 2); // every private message counts as a mention
});

test("history: LATEST on join, BEFORE the oldest on scrolling up, merged without duplicates", () => {
  const { ws, state, history } = session();
  ws.recv(":me!~u@h JOIN #tea");
  const tea = state.get("#tea");
  assert.ok(history.request(tea));
  assert.deepEqual(ws.take(), ["CHATHISTORY LATEST #tea * 50"]);
  ws.recv(":bob!~b@h PRIVMSG #tea :live one"); // arrives while history is on its way
  ws.recv(
    "@msgid=m2 :srv BATCH +h1 chathistory #tea",
    "@batch=h1;msgid=m1;time=2026-01-01T10:00:00.000Z :bob!~b@h PRIVMSG #tea :first",
    "@batch=h1;msgid=m2;time=2026-01-01T10:01:00.000Z :bob!~b@h PRIVMSG #tea :second",
    ":srv BATCH -h1",
  );
  assert.deepEqual(tea.messages.filter((r) => r.kind === "message").map((r) => r.text), ["first", "second", "live one"]);
  assert.equal(tea.unread, 1, "the live line is unread; history is not");
  assert.ok(tea.history.done, "fewer lines than asked: nothing older");
  tea.history.done = false;
  assert.ok(history.request(tea, true));
  assert.deepEqual(ws.take(), ["CHATHISTORY BEFORE #tea msgid=m1 50"]);
  ws.recv(
    ":srv BATCH +h2 chathistory #tea",
    "@batch=h2;msgid=m1;time=2026-01-01T10:00:00.000Z :bob!~b@h PRIVMSG #tea :first",
    ":srv BATCH -h2",
  );
  assert.equal(tea.messages.filter((r) => r.text === "first").length, 1);
});

test("without the capability, no history is asked for", () => {
  const { conn, ws } = connected();
  const state = new ChatState();
  ws.recv(":srv CAP * LS :batch");
  conn.register("me");
  ws.recv(":srv CAP me ACK :batch", ":srv 001 me :hi");
  ws.take();
  const history = new History(conn, state);
  assert.equal(history.request(state.open("#x")), false);
  assert.deepEqual(ws.take(), []);
});

test("a dropped connection is reported with whether it was registered", () => {
  const { conn, ws } = session();
  let info = null;
  conn.onclose = (i) => (info = i);
  ws.drop(1006);
  assert.deepEqual(info, { code: 1006, reason: "", registered: true });
  assert.equal(conn.open, false);
  assert.equal(conn.sendRaw("PRIVMSG #x :lost"), false);
});
