/**
 * Redaction of secrets where messages are built (octokit's RequestError does the same at construction):
 * every error message, log line and serialized request passes through here before it exists anywhere.
 *
 * Two mechanisms, both needed:
 * - by name: query parameters and JSON/header fields whose name says "secret" (access_token, sign, appsecret...);
 * - by value: secrets registered with a `Redactor` (app secrets, robot tokens, AES keys) are replaced wherever
 *   they appear, including their URL-encoded and base64 forms.
 */

const SECRET_NAMES = [
  'access_token',
  'accesstoken',
  'x-acs-dingtalk-access-token',
  'appsecret',
  'app_secret',
  'clientsecret',
  'client_secret',
  'corpsecret',
  'suitesecret',
  'secret',
  'sign',
  'signature',
  'msg_signature',
  'authorization',
  'ticket',
  'session',
  'aeskey',
  'aes_key',
  'encodingaeskey',
  'token',
  'apisecret',
  'x-ddpaas-signature',
  'password',
];

const SECRET_NAME_SET = new Set(SECRET_NAMES);

export const REDACTED = '[REDACTED]';

/** Whether a field, header or query parameter of this name holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME_SET.has(name.toLowerCase());
}

// Query-string style `name=value` pairs. The value class excludes separators so the pattern is linear-time
// (no nested quantifiers; see redact.test.ts for the ReDoS check).
const QUERY_PAIR = /([?&;\s]|^)([A-Za-z_-]{2,40})=([^&\s"'#]*)/g;
// JSON style `"name": "value"`.
const JSON_PAIR = /"([A-Za-z_-]{2,40})"\s*:\s*"([^"\\]*(?:\\.[^"\\]*)*)"/g;

/** Redacts secret-named query parameters and JSON string fields in free text. */
export function redactByName(text: string): string {
  return text
    .replace(QUERY_PAIR, (whole, lead: string, name: string) =>
      isSecretName(name) ? `${lead}${name}=${REDACTED}` : whole,
    )
    .replace(JSON_PAIR, (whole, name: string) => (isSecretName(name) ? `"${name}":"${REDACTED}"` : whole));
}

/** Returns a copy of a headers object with secret-named headers replaced. */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = isSecretName(k) ? REDACTED : v;
  return out;
}

/**
 * Redacts known secret values wherever they occur. An instance is owned by a client (never module-global), and
 * every secret the client is configured with is registered on it at construction.
 */
export class Redactor {
  readonly #needles = new Set<string>();

  constructor(secrets: Iterable<string | undefined> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Registers a secret. Values shorter than 6 characters are ignored: replacing them would shred ordinary text. */
  add(secret: string | undefined): void {
    if (!secret || secret.length < 6) return;
    for (const form of encodedForms(secret)) this.#needles.add(form);
  }

  /** Text with every registered secret (and its encoded forms) and every secret-named field replaced. */
  redact(text: string): string {
    let out = text;
    for (const needle of this.#needles) {
      if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    }
    return redactByName(out);
  }
}

function encodedForms(secret: string): string[] {
  const forms = new Set<string>([secret, encodeURIComponent(secret)]);
  const b64 = Buffer.from(secret, 'utf8').toString('base64');
  forms.add(b64);
  forms.add(b64.replace(/=+$/, ''));
  forms.add(encodeURIComponent(b64));
  return [...forms].filter((f) => f.length >= 6);
}
