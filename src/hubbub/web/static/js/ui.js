// The page: draws the state into the DOM and turns clicks into calls on
// `actions` ({switchTo(name), openQuery(nick), loadOlder()}). Text from the
// network only ever goes in as text nodes (never as HTML).

import { clock, dayLabel, linkify, nickColour } from "./format.js";

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function nickNode(nick, tag = "span") {
  return el(tag, `nick nc${nickColour(nick)}`, nick);
}

/** The text of a message, with its links made clickable. */
function textNode(text) {
  const span = el("span", "text");
  for (const seg of linkify(text)) {
    if (seg.href) {
      const a = el("a", "", seg.text);
      a.href = seg.href;
      a.target = "_blank";
      a.rel = "noopener noreferrer nofollow";
      span.append(a);
    } else span.append(seg.text);
  }
  return span;
}

const STATUS_KINDS = new Set(["join", "part", "quit", "nick", "kick", "mode", "topic"]);

export class View {
  constructor(state, actions) {
    this.state = state;
    this.actions = actions;
    this.log = $("log");
    this.lastDay = "";
    this.log.addEventListener("scroll", () => {
      if (this.log.scrollTop < 40) this.actions.loadOlder();
    });
    $("toggle-rooms").addEventListener("click", () => this.toggleDrawer("rooms"));
    $("toggle-members").addEventListener("click", () => this.toggleDrawer("members"));
    $("scrim").addEventListener("click", () => this.closeDrawers());
  }

  // --- drawers (phone layout) ---------------------------------------------

  toggleDrawer(id) {
    const drawer = $(id);
    const open = !drawer.classList.contains("open");
    this.closeDrawers();
    if (!open) return;
    drawer.classList.add("open");
    $(`toggle-${id}`).setAttribute("aria-expanded", "true");
    $("scrim").hidden = false;
    const first = drawer.querySelector("button");
    if (first) first.focus();
  }

  closeDrawers() {
    for (const id of ["rooms", "members"]) {
      $(id).classList.remove("open");
      $(`toggle-${id}`).setAttribute("aria-expanded", "false");
    }
    $("scrim").hidden = true;
  }

  // --- the room list --------------------------------------------------------

  renderRooms() {
    const list = $("room-list");
    const items = [];
    for (const buf of this.state.ordered()) {
      const key = buf.kind === "server" ? "" : this.state.key(buf.name);
      const li = el("li");
      const button = el("button", buf.kind);
      button.type = "button";
      button.dataset.key = key;
      if (key === this.state.active) button.setAttribute("aria-current", "page");
      if (buf.unread) button.classList.add("unread");
      if (buf.kind === "channel" && !buf.joined) button.classList.add("parted");
      button.append(el("span", "name", buf.name));
      let label = buf.name;
      if (buf.unread) {
        const badge = el("span", buf.mentions ? "badge hot" : "badge", String(buf.mentions || buf.unread));
        badge.setAttribute("aria-hidden", "true");
        button.append(badge);
        label += buf.mentions ? `, ${buf.mentions} mentioning you` : `, ${buf.unread} unread`;
      }
      button.setAttribute("aria-label", label);
      button.addEventListener("click", () => {
        this.actions.switchTo(buf.kind === "server" ? "" : buf.name);
        this.closeDrawers();
      });
      li.append(button);
      items.push(li);
    }
    list.replaceChildren(...items);
    const { unread, mentions } = this.state.totals();
    const badge = $("rooms-badge");
    badge.hidden = !unread;
    badge.textContent = String(mentions || unread);
    badge.className = mentions ? "badge hot" : "badge";
    const name = this.state.current.name;
    document.title = `${mentions ? `(${mentions}!) ` : unread ? `(${unread}) ` : ""}${name} — hubbub`;
  }

  // --- the messages ---------------------------------------------------------

  atBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 30;
  }

  scrollToBottom() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  line(rec) {
    const div = el("div", `line ${rec.kind}${STATUS_KINDS.has(rec.kind) ? " status" : ""}${rec.mention ? " mention" : ""}`);
    div.dataset.id = rec.id;
    const time = el("time", "time", clock(rec.time));
    time.dateTime = rec.time.toISOString();
    div.append(time);
    if (rec.kind === "message" || rec.kind === "notice") {
      div.append(nickNode(rec.nick), el("span", "visually-hidden", ": "), textNode(rec.text));
    } else if (rec.kind === "action") {
      const text = textNode(rec.text);
      text.prepend("* ", nickNode(rec.nick), " ");
      div.append(text);
    } else {
      div.append(textNode(rec.text));
    }
    return div;
  }

  withDay(rec, nodes) {
    const day = rec.time.toDateString();
    if (day !== this.lastDay) {
      this.lastDay = day;
      const sep = el("div", "day", dayLabel(rec.time));
      sep.setAttribute("role", "separator");
      nodes.push(sep);
    }
    nodes.push(this.line(rec));
  }

  renderLog(buf) {
    this.lastDay = "";
    const nodes = [];
    if (buf.history.loading) nodes.push(el("div", "more", "Loading older messages…"));
    for (const rec of buf.messages) this.withDay(rec, nodes);
    this.log.replaceChildren(...nodes);
    this.scrollToBottom();
  }

  append(rec) {
    const stick = this.atBottom();
    const nodes = [];
    this.withDay(rec, nodes);
    this.log.append(...nodes);
    if (stick || rec.self) this.scrollToBottom();
  }

  /** Older lines arrived: redraw, keeping what the reader sees in place. */
  history(buf) {
    const fromBottom = this.log.scrollHeight - this.log.scrollTop;
    const wasBottom = this.atBottom();
    this.renderLog(buf);
    if (!wasBottom) this.log.scrollTop = this.log.scrollHeight - fromBottom;
  }

  // --- header, members, input -------------------------------------------------

  renderHeader(buf) {
    $("title").textContent = buf.name;
    const topic = $("topic");
    topic.replaceChildren(textNode(buf.kind === "channel" ? buf.topic || "No topic" : buf.kind === "query" ? "Private chat" : ""));
    topic.title = buf.topic;
    const here = buf.kind === "server" ? "the server tab (commands only)" : buf.name;
    $("input-label").textContent = `Message ${here}`;
    $("input").placeholder = buf.kind === "server" ? "/join #room, /msg nick text, /help" : `Message ${buf.name}`;
    $("toggle-members").hidden = buf.kind !== "channel";
  }

  renderMembers(buf) {
    const aside = $("members");
    aside.classList.toggle("empty", buf.kind !== "channel");
    const members = buf.kind === "channel" ? buf.sortedMembers(this.state.isupport.PREFIX.symbols) : [];
    $("members-title").textContent = buf.kind === "channel" ? `Members (${members.length})` : "Members";
    const items = members.map((m) => {
      const li = el("li");
      const button = el("button");
      button.type = "button";
      const rank = m.prefix ? m.prefix[0] : "";
      const role = rank === "@" ? ", operator" : rank === "+" ? ", voiced" : rank ? `, ${rank}` : "";
      button.setAttribute("aria-label", `${m.nick}${role}: open a private chat`);
      const prefix = el("span", "prefix", rank);
      prefix.setAttribute("aria-hidden", "true");
      button.append(prefix, nickNode(m.nick));
      button.addEventListener("click", () => {
        this.actions.openQuery(m.nick);
        this.closeDrawers();
      });
      li.append(button);
      return li;
    });
    $("member-list").replaceChildren(...items);
  }

  banner(text) {
    const b = $("banner");
    b.hidden = !text;
    b.textContent = text || "";
  }

  me(text) {
    $("me").textContent = text;
  }
}
