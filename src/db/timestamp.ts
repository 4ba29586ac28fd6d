// PostgreSQL's text form of timestamp/timestamptz turned into an exact ISO-8601 UTC string.

/** Thrown for a timestamp text this parser does not read (infinity, or a form it does not know). */
export class TimestampParseError extends Error {
  constructor(text: string, why: string) {
    super(`Cannot read the timestamp "${text.slice(0, 64)}" from the database: ${why}`);
    this.name = "TimestampParseError";
  }
}

// DateStyle ISO output (the pool pins DateStyle): "2026-11-28 10:15:00.123456+01", with an offset
// of ±hh, ±hh:mm or ±hh:mm:ss (local mean time before 1900s time zones, such as Amsterdam's
// +00:19:32 in 1930), none for timestamp without time zone, and " BC" for years before 1.
const ISO_TEXT =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?)?( BC)?$/;

/**
 * Parses PostgreSQL's ISO text of a timestamp (with or without time zone) into
 * `YYYY-MM-DDTHH:mm:ss.sssZ` in UTC, exact to the millisecond (microseconds are cut, never
 * rounded into the next second). A timestamp without a zone is read as UTC. Years 0001 to 9999
 * come out with four digits; others in ISO's six-digit extended form (`+010000`, `-000001`).
 *
 * Unlike `new Date(text)`, it reads years below 100 as written (not as 19xx) and offsets with
 * seconds. Throws TimestampParseError for `infinity` and for text it does not recognise.
 */
export function parseTimestamp(text: string): string {
  // The common case, a session in UTC, year 0001 to 9999: "2026-11-28 10:15:00.123456+00" is
  // rearranged without a Date (three of these per row made this a tenth of the relay's time).
  const n = text.length;
  if (n >= 22 && text.charCodeAt(4) === 45 && text.charCodeAt(10) === 32 && text.endsWith("+00")) {
    if (n === 22) return `${text.slice(0, 10)}T${text.slice(11, 19)}.000Z`;
    if (text.charCodeAt(19) === 46) {
      const millis = (text.slice(20, n - 3) + "00").slice(0, 3);
      return `${text.slice(0, 10)}T${text.slice(11, 19)}.${millis}Z`;
    }
  }
  const m = ISO_TEXT.exec(text);
  if (!m) {
    throw new TimestampParseError(
      text,
      text.endsWith("infinity") ? "infinite timestamps are not supported" : "unknown format",
    );
  }
  const [, y, mo, d, h, mi, s, fraction, sign, oh, om, os, bc] = m;
  // Astronomical numbering: 1 BC is year 0, 2 BC is year -1.
  const year = bc ? 1 - Number(y) : Number(y);
  const millis = fraction ? Number(fraction.padEnd(3, "0").slice(0, 3)) : 0;
  const offsetSeconds = sign
    ? (sign === "-" ? -1 : 1) * (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0))
    : 0;
  // setUTCFullYear, unlike Date.UTC, takes years 0 to 99 literally.
  const date = new Date(0);
  date.setUTCFullYear(year, Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), millis);
  const utc = date.getTime() - offsetSeconds * 1000;
  if (!Number.isFinite(utc) || Math.abs(utc) > 8.64e15) {
    throw new TimestampParseError(text, "outside the range of JavaScript dates");
  }
  return new Date(utc).toISOString();
}

/** A JavaScript value sent as a timestamp parameter: Dates as ISO strings, strings as they are. */
export function serializeTimestamp(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}
