// Text as PostgreSQL stores it: NUL and lone UTF-16 surrogates written as \u escapes, since text
// and jsonb refuse NUL and UTF-8 cannot carry half a surrogate pair.

// deno-lint-ignore no-control-regex -- NUL is what PostgreSQL refuses
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const escape = (unit: string) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** `text` as PostgreSQL accepts it: each NUL and lone surrogate becomes its \u escape. */
export function storableText(text: string): string {
  return text.isWellFormed() && !text.includes("\u0000") ? text : text.replace(UNSTORABLE, escape);
}

/** `text`, or null, as storableText makes it. */
export function storableOrNull(text: string | null): string | null {
  return text === null ? null : storableText(text);
}
