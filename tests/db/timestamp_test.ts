// parseTimestamp: PostgreSQL's ISO text of timestamps, every form it sends, to exact ISO-8601 UTC.
import assert from "node:assert/strict";
import { parseTimestamp, serializeTimestamp, TimestampParseError } from "../../src/db/timestamp.ts";

const CASES: Array<[text: string, iso: string, why: string]> = [
  ["2026-11-28 10:15:00+00", "2026-11-28T10:15:00.000Z", "a session in UTC"],
  ["2026-11-28 10:15:00.25+00", "2026-11-28T10:15:00.250Z", "a short fraction"],
  ["2026-11-28 10:15:00.123456+00", "2026-11-28T10:15:00.123Z", "microseconds are cut"],
  ["2026-11-28 10:15:00.999999+00", "2026-11-28T10:15:00.999Z", "cut, never rounded up"],
  ["2026-11-28 11:15:00+01", "2026-11-28T10:15:00.000Z", "an hour offset"],
  ["2026-11-28 05:45:00-04:30", "2026-11-28T10:15:00.000Z", "a negative offset with minutes"],
  ["2026-11-28 15:45:00+05:30", "2026-11-28T10:15:00.000Z", "a positive offset with minutes"],
  ["1930-01-01 00:19:32+00:19:32", "1930-01-01T00:00:00.000Z", "Amsterdam mean time"],
  ["1800-01-01 00:00:00-00:17:30", "1800-01-01T00:17:30.000Z", "a negative offset with seconds"],
  ["0001-01-01 00:00:00+00", "0001-01-01T00:00:00.000Z", "the first instant stored"],
  ["0050-06-01 12:00:00+00", "0050-06-01T12:00:00.000Z", "year 50, not 1950"],
  ["0099-12-31 23:59:59.999+00", "0099-12-31T23:59:59.999Z", "year 99, not 1999"],
  ["0100-03-01 00:00:00+00", "0100-03-01T00:00:00.000Z", "year 100"],
  ["1969-12-31 23:59:59.999+00", "1969-12-31T23:59:59.999Z", "before the epoch"],
  ["2024-02-29 12:00:00+00", "2024-02-29T12:00:00.000Z", "a leap day"],
  ["9999-12-31 23:59:59.999+00", "9999-12-31T23:59:59.999Z", "the last instant stored"],
  ["0001-01-01 00:30:00+01", "0000-12-31T23:30:00.000Z", "an offset across year 1"],
  ["10000-01-01 00:30:00+00", "+010000-01-01T00:30:00.000Z", "past 9999: ISO extended year"],
  ["0001-12-31 23:00:00+00 BC", "0000-12-31T23:00:00.000Z", "1 BC is year 0"],
  ["0002-06-01 00:00:00+00 BC", "-000001-06-01T00:00:00.000Z", "2 BC is year -1"],
  ["2026-11-28 10:15:00", "2026-11-28T10:15:00.000Z", "timestamp without time zone, read as UTC"],
  ["0050-06-01 12:00:00.5", "0050-06-01T12:00:00.500Z", "without time zone, year 50"],
];

Deno.test("parseTimestamp turns every form PostgreSQL sends into exact ISO-8601 UTC", async (t) => {
  for (const [text, iso, why] of CASES) {
    await t.step(`${why}: "${text}"`, () => assert.equal(parseTimestamp(text), iso));
  }
});

Deno.test("parseTimestamp round-trips every millisecond of the first and last second of years 1 to 9999", () => {
  for (const year of [1, 2, 49, 50, 99, 100, 1000, 1899, 1900, 1970, 2026, 9998, 9999]) {
    const y = String(year).padStart(4, "0");
    for (const [date, time] of [["01-01", "00:00:00"], ["12-31", "23:59:59"]]) {
      for (let ms = 0; ms < 1000; ms += 37) {
        const fraction = String(ms).padStart(3, "0");
        const iso = `${y}-${date}T${time}.${fraction}Z`;
        assert.equal(parseTimestamp(`${y}-${date} ${time}.${fraction}+00`), iso);
      }
    }
  }
});

Deno.test("parseTimestamp refuses infinity and text it does not know, with a TimestampParseError", async (t) => {
  for (const text of ["infinity", "-infinity", "28/11/2026 10:15", "2026-11-28", ""]) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(() => parseTimestamp(text), TimestampParseError);
    });
  }
  await t.step("beyond the range of JavaScript dates", () => {
    assert.throws(() => parseTimestamp("294276-12-31 23:59:59+00"), /range of JavaScript dates/);
  });
  await t.step("the message names what could not be read", () => {
    assert.throws(() => parseTimestamp("infinity"), /"infinity".*infinite timestamps/);
  });
});

Deno.test("serializeTimestamp sends Dates as ISO strings and strings unchanged", () => {
  assert.equal(serializeTimestamp(new Date(Date.UTC(2026, 10, 28))), "2026-11-28T00:00:00.000Z");
  assert.equal(serializeTimestamp("0050-06-01T12:00:00.000Z"), "0050-06-01T12:00:00.000Z");
});

Deno.test("parseTimestamp's shortcut for UTC text agrees with Date on 10,000 random instants", () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const first = Date.parse("0001-01-01T00:00:00Z"), last = Date.parse("9999-12-31T23:59:59.999Z");
  for (let i = 0; i < 10_000; i++) {
    const iso = new Date(Math.floor(first + random() * (last - first))).toISOString();
    // As PostgreSQL prints it: a space, trailing zeros of the fraction dropped, "+00".
    const fraction = iso.slice(20, 23).replace(/0+$/, "");
    const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ""}+00`;
    assert.equal(parseTimestamp(text), iso, text);
  }
});
