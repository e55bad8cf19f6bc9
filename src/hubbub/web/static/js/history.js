// History on join and on scrolling up, with IRCv3 draft/chathistory:
//   CHATHISTORY LATEST <target> * <n>                    when a tab opens
//   CHATHISTORY BEFORE <target> msgid=<oldest> <n>       when scrolled to the top
// Answers come as a "chathistory" batch naming the target; its lines are
// turned into records by the state (without changing it) and merged in.
// Used only when the server acknowledged the capability.

/** Lines asked for per request (the server may allow fewer: ISUPPORT CHATHISTORY). */
export const PAGE = 50;

/** The CHATHISTORY request for a buffer: the latest lines, or those before its oldest. */
export function historyRequest(buf, limit, older) {
  const n = String(limit > 0 ? Math.min(PAGE, limit) : PAGE);
  if (!older) return ["LATEST", buf.name, "*", n];
  const oldest = buf.messages.find((r) => r.msgid || r.history);
  if (!oldest) return ["LATEST", buf.name, "*", n];
  const ref = oldest.msgid ? `msgid=${oldest.msgid}` : `timestamp=${oldest.time.toISOString()}`;
  return ["BEFORE", buf.name, ref, n];
}

export class History {
  constructor(conn, state) {
    this.conn = conn;
    this.state = state;
  }

  get available() {
    return !!this.conn.chathistory;
  }

  /** Ask for history of `buf` (latest, or `older` than what it holds). */
  request(buf, older = false) {
    if (!this.available || buf.kind === "server" || buf.history.loading || (older && buf.history.done)) return false;
    const params = historyRequest(buf, this.state.isupport.CHATHISTORY, older);
    buf.history.loading = true;
    buf.history.asked = Number(params[3]);
    this.conn.send("CHATHISTORY", params);
    return true;
  }

  /** A finished "chathistory" batch. */
  receive(batch) {
    const target = batch.params[0];
    const buf = target && this.state.get(target);
    if (!buf) return 0;
    const records = batch.messages.map((m) => this.state.handle(m, true)).filter(Boolean);
    buf.history.loading = false;
    // Fewer lines than asked for: there is nothing older.
    if (batch.messages.length < (buf.history.asked || PAGE)) buf.history.done = true;
    return this.state.addHistory(buf, records);
  }
}
