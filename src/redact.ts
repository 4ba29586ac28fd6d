// Credentials out of every message: the password of a URL, or of a password=… pair, is masked.

/** What a masked password reads as. */
const MASK = "***";

// The user information of a URL runs to the last "@" before the path, query or fragment (as
// postgres.js reads it), so a password holding an unencoded "@" is masked whole.
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*)(?::[^\s/?#]*)@/gi;
const PASSWORD_PAIR = /\b(password|passwd|pwd|pass)=([^\s&;'"]+)/gi;

/**
 * Masks the password in every URL (`postgres://user:secret@host` becomes
 * `postgres://user:***@host`) and every `password=…` pair in a text; the rest is kept, so the
 * message still names the host and the user.
 */
export function redactSecrets(text: string): string {
  if (!text.includes("@") && !text.includes("=")) return text;
  return text.replace(URL_USER_INFO, `$1$2:${MASK}@`).replace(PASSWORD_PAIR, `$1=${MASK}`);
}

/** An error's message with credentials masked; for anything thrown that is not an Error, its text. */
export function safeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactSecrets(message);
}
