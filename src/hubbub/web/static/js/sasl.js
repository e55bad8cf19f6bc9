// SASL PLAIN (RFC 4616) as IRCv3 carries it in AUTHENTICATE lines.
// The client uses it only when the server offers the "sasl" capability with
// PLAIN and the user gave a password.

/** AUTHENTICATE payload lines for account/password (400-byte chunks, "+" to end). */
export function plainPayload(account, password) {
  const bytes = new TextEncoder().encode(`${account}\0${account}\0${password}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  const encoded = btoa(binary);
  const lines = [];
  for (let i = 0; i < encoded.length; i += 400) lines.push(encoded.slice(i, i + 400));
  if (encoded.length % 400 === 0) lines.push("+"); // a full last chunk needs an empty one after it
  return lines;
}

/** Does a CAP LS value for "sasl" ("PLAIN,EXTERNAL", or none at all) allow PLAIN? */
export function offersPlain(value) {
  return value === true || value === "" || value === undefined || value.split(",").includes("PLAIN");
}
