// Unit tests of the web client's pure modules (Node's built-in test runner).
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyIsupport, buildLine, casemapper, defaultIsupport, parseLine, parseModes, parseSource } from "../../src/hubbub/web/static/js/irc.js";
import { linkify, mentions, nickColour, stripFormatting } from "../../src/hubbub/web/static/js/format.js";
import { complete, interpret, splitText } from "../../src/hubbub/web/static/js/commands.js";
import { plainPayload } from "../../src/hubbub/web/static/js/sasl.js";

test("lines parse with tags, source, middle and trailing parameters", () => {
  const m = parseLine("@time=2026-01-02T03:04:05.000Z;msgid=a\\sb;+x :alice!~a@host PRIVMSG #lobby :hello  there");
  assert.deepEqual(m.tags, { time: "2026-01-02T03:04:05.000Z", msgid: "a b", "+x": "" });
  assert.equal(m.source, "alice!~a@host");
  assert.equal(m.command, "PRIVMSG");
  assert.deepEqual(m.params, ["#lobby", "hello  there"]);
  assert.deepEqual(parseLine("ping  x :"), { tags: {}, source: null, command: "PING", params: ["x", ""] });
  assert.equal(parseLine(""), null);
  assert.deepEqual(parseSource("bob!~b@example.org"), { nick: "bob", user: "~b", host: "example.org" });
  assert.equal(parseSource("irc.example.org").nick, "irc.example.org");
});

test("lines are built with a trailing parameter only when needed, and never with a line break", () => {
  assert.equal(buildLine("PRIVMSG", ["#a", "hi there"]), "PRIVMSG #a :hi there");
  assert.equal(buildLine("NICK", ["bob"]), "NICK bob");
  assert.equal(buildLine("PRIVMSG", ["#a", ":)"]), "PRIVMSG #a ::)");
  assert.equal(buildLine("AWAY", [""]), "AWAY :");
  assert.equal(buildLine("TAGMSG", ["#a"], { "+typing": "active", "+x": "a;b c" }), "@+typing=active;+x=a\\:b\\sc TAGMSG #a");
  assert.throws(() => buildLine("PRIVMSG", ["#a", "one\r\nQUIT"]), /CR, LF/);
  const round = parseLine(buildLine("PRIVMSG", ["#a", "x; y\\z"], { "+t": "a b;\\" }));
  assert.deepEqual([round.params, round.tags], [["#a", "x; y\\z"], { "+t": "a b;\\" }]);
});

test("casemapping and ISUPPORT", () => {
  const fold = casemapper("rfc1459");
  assert.equal(fold("Nick[A]\\~"), "nick{a}|^");
  assert.equal(casemapper("ascii")("Nick[A]"), "nick[a]");
  const is = applyIsupport(defaultIsupport(), ["PREFIX=(qaohv)~&@%+", "CHANTYPES=#", "CHATHISTORY=100", "CHANMODES=b,k,l,imnst", "-FOO"]);
  assert.deepEqual(is.PREFIX, { modes: "qaohv", symbols: "~&@%+" });
  assert.equal(is.CHATHISTORY, 100);
  assert.deepEqual(parseModes(is, "+ov-l+lk", ["alice", "bob", "10", "key"]), [
    { add: true, mode: "o", arg: "alice" },
    { add: true, mode: "v", arg: "bob" },
    { add: false, mode: "l", arg: undefined },
    { add: true, mode: "l", arg: "10" },
    { add: true, mode: "k", arg: "key" },
  ]);
});

test("links are found, trimmed of sentence punctuation, and only http(s)", () => {
  const segs = linkify("see https://example.org/a_(b). or www.example.com, javascript:alert(1)");
  assert.deepEqual(
    segs.filter((s) => s.href).map((s) => [s.text, s.href]),
    [["https://example.org/a_(b)", "https://example.org/a_(b)"], ["www.example.com", "https://www.example.com"]],
  );
  assert.equal(segs.map((s) => s.text).join(""), "see https://example.org/a_(b). or www.example.com, javascript:alert(1)");
  assert.deepEqual(linkify("(https://x.example/y)").map((s) => s.text), ["(", "https://x.example/y", ")"]);
});

test("mentions are whole words, any case; colours are stable per nick", () => {
  assert.ok(mentions("hey Alice, look", "alice"));
  assert.ok(mentions("alice: hi", "alice"));
  assert.ok(!mentions("malice aforethought", "alice"));
  assert.ok(!mentions("alice_ is here", "alice"));
  assert.ok(mentions("ping [bot]!", "[bot]"));
  assert.equal(nickColour("Alice"), nickColour("alice"));
  assert.ok(nickColour("bob") >= 0 && nickColour("bob") < 16);
  assert.equal(stripFormatting("\x02bold\x02 \x0304,01red\x03 \x1dit\x1d"), "bold red it");
});

const ctx = { target: "#lobby", isChannel: (n) => n.startsWith("#"), nick: "me" };

test("plain text and slash commands become IRC lines", () => {
  assert.deepEqual(interpret("hello", ctx).send, [["PRIVMSG", ["#lobby", "hello"]]]);
  assert.deepEqual(interpret("//not a command", ctx).send, [["PRIVMSG", ["#lobby", "/not a command"]]]);
  assert.deepEqual(interpret("/me waves", ctx).send, [["PRIVMSG", ["#lobby", "\x01ACTION waves\x01"]]]);
  assert.deepEqual(interpret("/join tea", ctx), { send: [["JOIN", ["#tea"]]], local: { type: "focus", target: "#tea" }, error: null });
  assert.deepEqual(interpret("/msg bob hi there", ctx).send, [["PRIVMSG", ["bob", "hi there"]]]);
  assert.deepEqual(interpret("/query bob", ctx).local, { type: "query", target: "bob" });
  assert.deepEqual(interpret("/nick newme", ctx).send, [["NICK", ["newme"]]]);
  assert.deepEqual(interpret("/topic tea time", ctx).send, [["TOPIC", ["#lobby", "tea time"]]]);
  assert.deepEqual(interpret("/part #tea bye now", ctx).send, [["PART", ["#tea", "bye now"]]]);
  assert.deepEqual(interpret("/op bob", ctx).send, [["MODE", ["#lobby", "+o", "bob"]]]);
  assert.deepEqual(interpret("/kick bob go", ctx).send, [["KICK", ["#lobby", "bob", "go"]]]);
  assert.deepEqual(interpret("/away lunch", ctx).send, [["AWAY", ["lunch"]]]);
  assert.match(interpret("/frobnicate", ctx).error, /Unknown command/);
  assert.match(interpret("/msg bob", ctx).error, /Usage: \/msg/);
  assert.match(interpret("hello", { ...ctx, target: null }).error, /server's/);
  assert.deepEqual(interpret("two\nlines", ctx).send.map(([, p]) => p[1]), ["two", "lines"]);
});

test("long text is split into pieces that fit a line, at spaces, by UTF-8 bytes", () => {
  const pieces = splitText("word ".repeat(200).trim(), 100);
  assert.ok(pieces.length > 5);
  for (const p of pieces) assert.ok(new TextEncoder().encode(p).length <= 100 && !p.startsWith(" "));
  assert.equal(pieces.join(" "), "word ".repeat(200).trim());
  const emoji = splitText("😀".repeat(60), 100); // 4 bytes each: never cut inside one
  assert.deepEqual(emoji.map((p) => [...p].length), [25, 25, 10]);
});

test("Tab completes nicks (addressed at the start), channels and commands, and cycles", () => {
  const nicks = ["alice", "albert", "bob", "#lobby"];
  assert.deepEqual(complete("al", 2, nicks), { text: "albert: ", caret: 8, count: 2 });
  assert.equal(complete("al", 2, nicks, 1).text, "alice: ");
  assert.equal(complete("hi bo", 5, nicks).text, "hi bob ");
  assert.equal(complete("see #lo", 7, nicks).text, "see #lobby ");
  assert.equal(complete("/jo", 3, nicks).text, "/join ");
  assert.equal(complete("zz", 2, nicks), null);
});

test("SASL PLAIN payload in 400-byte chunks", () => {
  assert.deepEqual(plainPayload("alice", "secret"), [Buffer.from("alice\0alice\0secret").toString("base64")]);
  const long = plainPayload("a", "x".repeat(296)); // 300 bytes -> exactly 400 base64 characters
  assert.equal(long[0].length, 400);
  assert.equal(long[1], "+");
});

test("/register and /verify send draft/account-registration commands", () => {
  const ctx = { target: "#lobby", isChannel: (n) => n.startsWith("#"), nick: "alice" };
  assert.deepEqual(interpret("/register s3cret-pass", ctx).send, [["REGISTER", ["*", "*", "s3cret-pass"]]]);
  assert.deepEqual(interpret("/register s3cret-pass a@example.org", ctx).send, [
    ["REGISTER", ["*", "a@example.org", "s3cret-pass"]],
  ]);
  assert.equal(interpret("/register", ctx).error, "Usage: /register password [email]");
  assert.equal(interpret("/register a b c", ctx).error, "Usage: /register password [email]");
  assert.deepEqual(interpret("/verify alice ABCD2345", ctx).send, [["VERIFY", ["alice", "ABCD2345"]]]);
});
