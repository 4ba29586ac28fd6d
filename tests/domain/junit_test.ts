// The JUnit mapping on hand-made reports: the edge cases real runners rarely show all at once.
import assert from "node:assert/strict";
import { type JunitCase, type JunitOptions, junitToExecutions } from "../../src/domain/junit.ts";
import { parseJunitTimestamp } from "../../src/domain/junit_case.ts";
import { ReportError } from "../../src/domain/junit_xml.ts";

function refused(
  text: string,
  pattern: RegExp,
  kind: ReportError["kind"] = "invalid",
  options: JunitOptions = {},
) {
  assert.throws(() => junitToExecutions(text, options), (error: Error) => {
    assert.ok(error instanceof ReportError, String(error));
    assert.equal(error.kind, kind);
    assert.match(error.message, pattern);
    return true;
  });
}

const execution = (item: JunitCase) => {
  assert.equal(item.problem, undefined, JSON.stringify(item.problem));
  return item.execution!;
};

Deno.test("nested suites map in document order, each case dated by its nearest suite's clock", () => {
  const { cases } = junitToExecutions(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="all">
  <testsuite name="outer" timestamp="2026-11-28T10:00:00Z">
    <testcase classname="A" name="one" time="1.5"/>
    <testsuite name="inner">
      <testcase classname="B" name="two" time="2"/>
    </testsuite>
    <testsuite name="dated" timestamp="2026-11-28T12:00:00+02:00">
      <testcase classname="C" name="three" time="0.25"/>
      <testcase classname="C" name="four" time="0.25"/>
    </testsuite>
    <testcase classname="A" name="five" time="1"/>
  </testsuite>
</testsuites>`);
  assert.deepEqual(cases.map((item) => item.testCaseKey), [
    "A.one",
    "B.two",
    "C.three",
    "C.four",
    "A.five",
  ]);
  assert.deepEqual(cases.map((item) => execution(item).startedAt), [
    "2026-11-28T10:00:00.000Z",
    "2026-11-28T10:00:01.500Z",
    "2026-11-28T10:00:00.000Z",
    "2026-11-28T10:00:00.250Z",
    "2026-11-28T10:00:04.000Z",
  ]);
  assert.deepEqual(cases.map((item) => (execution(item).attributes as { suite: string }).suite), [
    "outer",
    "inner",
    "dated",
    "dated",
    "outer",
  ]);
  assert.equal(execution(cases[0]).finishedAt, "2026-11-28T10:00:01.500Z");
  assert.equal(execution(cases[0]).durationMs, 1500);
});

Deno.test("an error and a failure are both FAILED, told apart by the outcome attribute; the comment is type and message", () => {
  const { cases: [failure, error, bodyOnly] } = junitToExecutions(
    `<testsuite name="s" timestamp="2026-11-28T10:00:00Z">
  <testcase classname="T" name="fails" time="0.1"><failure type="AssertionError" message="expected 1 &lt; 2"/></testcase>
  <testcase classname="T" name="errs" time="0.1"><error type="java.lang.IllegalStateException" message="broken &amp; bad">trace</error></testcase>
  <testcase classname="T" name="body" time="0.1"><failure><![CDATA[only a body & <b>text</b>]]></failure></testcase>
</testsuite>`,
  );
  assert.equal(execution(failure).status, "FAILED");
  assert.equal(execution(failure).comment, "AssertionError: expected 1 < 2");
  assert.equal((execution(failure).attributes as Record<string, unknown>).outcome, "failure");
  assert.equal(execution(error).status, "FAILED");
  assert.equal(execution(error).comment, "java.lang.IllegalStateException: broken & bad");
  assert.equal((execution(error).attributes as Record<string, unknown>).outcome, "error");
  assert.equal(
    execution(bodyOnly).comment,
    "only a body & <b>text</b>",
    "CDATA is read as written",
  );
});

Deno.test("skipped is SKIPPED with its message as the comment, and without one has no comment", () => {
  const { cases: [withMessage, bare, passed] } = junitToExecutions(
    `<testsuite timestamp="2026-11-28T10:00:00Z">
  <testcase name="a"><skipped message="not on this platform"/></testcase>
  <testcase name="b"><skipped/></testcase>
  <testcase name="c"/>
</testsuite>`,
  );
  assert.equal(execution(withMessage).status, "SKIPPED");
  assert.equal(execution(withMessage).comment, "not on this platform");
  assert.equal(execution(bare).status, "SKIPPED");
  assert.equal("comment" in execution(bare), false);
  assert.equal(execution(passed).status, "PASSED");
  assert.equal("durationMs" in execution(passed), false, "no time, no duration");
});

Deno.test("non-ASCII names, character references and a testcase without classname keep their text", () => {
  const { cases } = junitToExecutions(`<testsuite name="Ünïcödé" timestamp="2026-11-28T10:00:00Z">
  <testcase classname="tests.café" name="naïve ✓ 日本語" time="0"/>
  <testcase name="no classname &#233;&#x1F600;"/>
  <testcase classname="only.classname"/>
  <testcase name="bad reference &#1;"/>
</testsuite>`);
  assert.deepEqual(cases.map((item) => item.testCaseKey), [
    "tests.café.naïve ✓ 日本語",
    "no classname é😀",
    "only.classname",
    "bad reference \uFFFD",
  ]);
  assert.equal((execution(cases[0]).attributes as { suite: string }).suite, "Ünïcödé");
});

Deno.test("the testCaseKey or test_key property names the key, as a value attribute or as text", () => {
  const { cases } = junitToExecutions(`<testsuite timestamp="2026-11-28T10:00:00Z">
  <testcase classname="a" name="b"><properties><property name="testCaseKey" value="LOGIN-001"/></properties></testcase>
  <testcase classname="a" name="c"><properties><property name="test_key">LOGIN-002</property></properties></testcase>
  <testcase classname="a" name="d"><properties><property name="owner" value="x"/></properties></testcase>
</testsuite>`);
  assert.deepEqual(cases.map((item) => item.testCaseKey), ["LOGIN-001", "LOGIN-002", "a.d"]);
});

Deno.test("startedAt: the testcase's timestamp, else the suite's, else the parameter, else a clear problem", () => {
  const report = `<testsuites>
  <testsuite name="own"><testcase name="a" timestamp="2026-11-28T10:00:00.123456" time="1"/></testsuite>
  <testsuite name="none"><testcase name="b" time="2"/><testcase name="c" time="1"/></testsuite>
</testsuites>`;
  const withParameter = junitToExecutions(report, { startedAt: "2026-11-28T09:00:00+01:00" });
  assert.deepEqual([withParameter.totalMs, withParameter.undated], [4000, 2]);
  assert.deepEqual(withParameter.cases.map((item) => execution(item).startedAt), [
    "2026-11-28T10:00:00.123Z",
    "2026-11-28T08:00:01.000Z",
    "2026-11-28T08:00:03.000Z",
  ], "an offset-less timestamp is UTC; the parameter counts the time of every testcase before");
  const without = junitToExecutions(report).cases;
  assert.equal(without[0].problem, undefined);
  assert.deepEqual(without[1], {
    testCaseKey: "b",
    problem: {
      path: "startedAt",
      message:
        "the report gives no timestamp for this testcase or its suite; send the startedAt parameter",
    },
  });
  const bad = junitToExecutions(
    `<testsuite timestamp="yesterday"><testcase name="x"/></testsuite>`,
  );
  assert.match(bad.cases[0].problem?.message ?? "", /timestamp "yesterday" is not a date and time/);
});

Deno.test("JUnit timestamps are read with or without an offset, and impossible dates are refused", () => {
  assert.equal(parseJunitTimestamp("2026-11-28T10:00:00Z"), Date.UTC(2026, 10, 28, 10));
  assert.equal(parseJunitTimestamp("2026-11-28 10:00:00"), Date.UTC(2026, 10, 28, 10));
  assert.equal(parseJunitTimestamp("2026-11-28T12:30:00+0230"), Date.UTC(2026, 10, 28, 10));
  assert.equal(
    parseJunitTimestamp("2026-11-28T10:00:00.5-01:00"),
    Date.UTC(2026, 10, 28, 11, 0, 0, 500),
  );
  assert.equal(parseJunitTimestamp("2026-02-30T10:00:00Z"), undefined);
  assert.equal(parseJunitTimestamp("2026-11-28T24:30:00Z"), undefined, "no hour past 23");
  assert.equal(parseJunitTimestamp("1764324000"), undefined);
});

Deno.test("JUnit timestamps in years 0000 to 0099 keep their year instead of moving to the 1900s", () => {
  assert.equal(
    new Date(parseJunitTimestamp("0050-06-01T00:00:00Z")!).toISOString(),
    "0050-06-01T00:00:00.000Z",
  );
  assert.equal(
    new Date(parseJunitTimestamp("0099-12-31T23:00:00-02:00")!).toISOString(),
    "0100-01-01T01:00:00.000Z",
  );
  assert.equal(parseJunitTimestamp("0000-01-01T00:00:00Z"), Date.parse("0000-01-01T00:00:00Z"));
  const { cases: [item] } = junitToExecutions(
    `<testsuite timestamp="0007-03-04T05:06:07Z"><testcase name="t" time="1"/></testsuite>`,
  );
  assert.equal(item.execution?.startedAt, "0007-03-04T05:06:07.000Z");
});

Deno.test("a testcase time past the largest durationMs is that testcase's problem, and the testcases after it keep their start", () => {
  const { cases } = junitToExecutions(`<testsuite timestamp="2026-11-28T10:00:00Z">
  <testcase name="huge" time="9e15"/><testcase name="after" time="1"/>
  <testcase name="max" time="2147483.647"/>
</testsuite>`);
  assert.deepEqual(cases[0].problem, {
    path: "durationMs",
    message: 'the testcase time "9e15" is over 2147483.647 seconds',
  });
  assert.equal(cases[1].execution?.startedAt, "2026-11-28T10:00:00.000Z");
  assert.equal(cases[2].execution?.durationMs, 2147483647);
});

Deno.test("time is read as seconds (thousands grouped or not); a time that is no number is the item's problem", () => {
  const { cases } = junitToExecutions(`<testsuite timestamp="2026-11-28T10:00:00Z">
  <testcase name="a" time="1,234.5"/><testcase name="b" time="0.0004"/><testcase name="c" time="-1"/>
</testsuite>`);
  assert.equal(execution(cases[0]).durationMs, 1_234_500);
  assert.equal(execution(cases[1]).durationMs, 0);
  assert.deepEqual(cases[2].problem, {
    path: "durationMs",
    message: 'the testcase time "-1" is not seconds',
  });
});

Deno.test("the comment is cut to 4,000 characters and system-out counts only as a size", () => {
  const long = "x".repeat(5000);
  const { cases: [item] } = junitToExecutions(`<testsuite timestamp="2026-11-28T10:00:00Z">
  <testcase name="a" file="tests/a.py" line="12"><failure message="${long}"/>
    <system-out>secret output ✓</system-out><system-err><![CDATA[err]]></system-err></testcase>
</testsuite>`);
  const comment = execution(item).comment as string;
  assert.equal(comment.length, 4000);
  assert.ok(comment.endsWith("x…"));
  assert.deepEqual(execution(item).attributes, {
    outcome: "failure",
    file: "tests/a.py",
    line: 12,
    systemOutBytes: 17,
    systemErrBytes: 3,
  });
  assert.ok(!JSON.stringify(item).includes("secret"));
});

Deno.test("a DOCTYPE, entities and external references are refused before any expansion", () => {
  const laughs = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE lolz [<!ENTITY lol "lol">',
    ...Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? "" : i};`.repeat(10)}">`,
    ),
    "]>",
    '<testsuite><testcase name="&lol9;"/></testsuite>',
  ].join("\n");
  const began = performance.now();
  refused(laughs, /a DOCTYPE declaration is not allowed \(line 2, column 1\)/);
  assert.ok(performance.now() - began < 1000, "refused without expanding");
  refused(
    `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><testsuite><testcase name="&e;"/></testsuite>`,
    /DOCTYPE declaration is not allowed/,
  );
  refused(
    `<testsuite>\n<testcase name="&e;"/></testsuite>`,
    /entity reference "&e;" is not allowed \(line 2, column 17\)/,
  );
  const cdata = junitToExecutions(
    `<testsuite timestamp="2026-11-28T10:00:00Z"><testcase name="a"><failure><![CDATA[<!DOCTYPE html> &nbsp;]]></failure></testcase></testsuite>`,
  );
  assert.equal(
    execution(cdata.cases[0]).comment,
    "<!DOCTYPE html> &nbsp;",
    "inside CDATA it is text",
  );
});

Deno.test("malformed XML, another root element and an empty report are refused with where and why", () => {
  refused(
    `<testsuite>\n  <testcase name="a">\n</testsuite>`,
    /unexpected close tag, expected <\/testcase> \(line 3, column 12\)/,
  );
  refused(
    `<testsuite><testcase name="a" name="b"/></testsuite>`,
    /duplicate attribute: name \(line 1, column \d+\)/,
  );
  refused(`not xml`, /text data outside of root node \(line 1, column \d+\)/);
  refused(`<testsuite/><testsuite/>`, /only one root/);
  refused(
    `<results><test/></results>`,
    /root element is <results>, not <testsuites> or <testsuite>/,
  );
  refused(`<testsuites><testsuite name="empty"/></testsuites>`, /it has no <testcase>/, "empty");
  refused(
    `${"<testsuite>".repeat(100)}${"</testsuite>".repeat(100)}`,
    /nested more than 64 deep \(line 1, column \d+\)/,
  );
});

Deno.test("10,000 testcases are read in order; one more than the limit is refused as too many", () => {
  const report = (n: number) =>
    `<testsuite name="big" timestamp="2026-11-28T10:00:00Z">${
      Array.from(
        { length: n },
        (_, i) => `<testcase classname="Big" name="case${i}" time="0.001"/>`,
      ).join("")
    }</testsuite>`;
  const { cases } = junitToExecutions(report(10_000), { maxItems: 10_000 });
  assert.equal(cases.length, 10_000);
  assert.equal(cases[9_999].testCaseKey, "Big.case9999");
  assert.equal(execution(cases[9_999]).startedAt, "2026-11-28T10:00:09.999Z");
  assert.throws(() => junitToExecutions(report(11), { maxItems: 10 }), (error: Error) => {
    assert.ok(error instanceof ReportError);
    assert.equal(error.kind, "too_many");
    assert.equal(
      error.message,
      "Cannot import more than 10 testcases in one report; split the report",
    );
    return true;
  });
});

Deno.test("the element count, attribute values and attributes per element are bounded while the XML is read", () => {
  const empties = (n: number) => `<testsuite><testcase name="a"/>${"<a/>".repeat(n)}</testsuite>`;
  const report = empties(98);
  assert.equal(junitToExecutions(report, { maxElements: 100 }).cases.length, 1, "100 is within");
  refused(
    empties(99),
    /^Cannot read the XML: it has more than 100 elements; split the report \(line 1, column \d+\)$/,
    "too_large",
    { maxElements: 100 },
  );
  refused(
    `<testsuite><testcase name="a" classname="${"c".repeat(1_048_577)}"/></testsuite>`,
    /the attribute "classname" has a value over 1048576 characters/,
    "too_large",
  );
  assert.equal(
    junitToExecutions(
      `<testsuite><testcase name="a" classname="${"c".repeat(1_048_576)}"/></testsuite>`,
      { startedAt: "2026-11-28T10:00:00Z" },
    ).cases.length,
    1,
    "an attribute of exactly the limit is read",
  );
  const many = Array.from({ length: 1001 }, (_, i) => `a${i}=""`).join(" ");
  refused(
    `<testsuite><testcase name="a" ${many}/></testsuite>`,
    /an element has more than 1000 attributes/,
    "too_large",
  );
});

Deno.test("only what a testcase maps is kept: system-out is counted in bytes, other elements and their testcases are skipped", () => {
  const out = "é".repeat(300_000);
  const { cases } = junitToExecutions(`<testsuite name="S" timestamp="2026-11-28T10:00:00Z">
  <testcase name="a"><system-out>${out}</system-out><system-out><![CDATA[ab]]>c&amp;</system-out>
    <properties><property name="testCaseKey">KEY-1</property></properties>
    <failure type="E">${
    "why ".repeat(20_000)
  }</failure><extra><failure message="no"/></extra></testcase>
  <wrapper><testcase name="hidden"/></wrapper>
  <testcase name="b"/>
</testsuite>`);
  assert.deepEqual(cases.map((item) => item.testCaseKey), ["KEY-1", "b"]);
  const first = execution(cases[0]);
  assert.deepEqual(first.attributes, {
    outcome: "failure",
    suite: "S",
    systemOutBytes: 600_004,
  });
  assert.equal((first.comment as string).length, 4000);
  assert.ok((first.comment as string).startsWith("E: why why"));
});
