/**
 * The Host check against DNS rebinding. A page on `evil.example` whose name is then re-pointed at 127.0.0.1 can
 * send same-origin requests to a loopback port and read the answers: the browser still believes it talks to
 * `evil.example`, so the request carries `Host: evil.example:<port>`. That header is the one thing the attacker
 * cannot choose, so a server on loopback answers only Host values that name it: a loopback name, an IP literal (a
 * literal cannot be rebound: a page whose origin is an IP was served by that IP), or a name the operator configured
 * (`server.allowedHosts`, for a hub behind a reverse proxy or reached by a DNS name).
 *
 * Used by the hub's HTTP API (src/server/app.ts) and the emulator (src/emulator/server.ts).
 */

/** True when `host` (a Host header value, with or without a port) may be answered. Missing → true (not a browser). */
export function hostAllowed(host: string | undefined, allowed: readonly string[] = []): boolean {
  if (host === undefined || host === '') return true;
  const name = hostName(host);
  if (name === undefined) return false;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIpLiteral(name)) return true;
  return allowed.some((a) => normaliseAllowed(a) === name);
}

/** The lower-cased name of a Host header value without its port (`[::1]:80` → `::1`); undefined if malformed. */
function hostName(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return undefined;
    const rest = h.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return h.slice(1, end);
  }
  const m = /^([a-z0-9._-]+?)\.?(?::\d{1,5})?$/.exec(h);
  return m?.[1];
}

function normaliseAllowed(a: string): string {
  return hostName(a) ?? a.trim().toLowerCase();
}

function isIpLiteral(name: string): boolean {
  if (name.includes(':')) return /^[0-9a-f:.]+$/.test(name);
  const parts = name.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}
