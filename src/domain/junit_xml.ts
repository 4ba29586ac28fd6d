// Reads untrusted XML as a stream of events, never as a tree: no DOCTYPE, no entities beyond XML's
// five, and depth, element count and attribute sizes bounded while it reads. Errors say line and column.
import { SaxesParser } from "saxes";

/**
 * Why a report cannot be read: not well-formed or refused ("invalid"), no testcase ("empty"), too
 * many testcases ("too_many"), or over a limit of this reader ("too_large").
 */
export class ReportError extends Error {
  constructor(readonly kind: "invalid" | "empty" | "too_many" | "too_large", message: string) {
    super(message);
    this.name = "ReportError";
  }
}

/** Deepest element nesting read; deeper documents are refused rather than walked. */
export const MAX_XML_DEPTH = 64;
/** Most elements in one document, by default (a 10,000-testcase report uses far fewer). */
export const MAX_XML_ELEMENTS = 200_000;
/** Longest attribute value, in UTF-16 code units (characters, for most text). */
export const MAX_XML_ATTRIBUTE_LENGTH = 1_048_576;
/** Most attributes on one element. */
export const MAX_XML_ATTRIBUTES = 1_000;

/** Limits a caller may widen; the others are fixed. */
export interface XmlLimits {
  /** Most elements in the document. @default MAX_XML_ELEMENTS */
  maxElements?: number;
}

/** What reads the document: one call per event, in document order. */
export interface XmlVisitor {
  /** An element starts; answers whether its own text (and CDATA) should be passed to `text`. */
  open(name: string, attributes: Record<string, string>): boolean;
  /** Text or CDATA of the innermost open element, entities decoded; may come in several parts. */
  text(text: string): void;
  /** The innermost open element ends. */
  close(name: string): void;
}

// One pass over the text finds what the parser must never see: a DOCTYPE or ENTITY declaration
// (the door to entity expansion, "billion laughs" and external references) and any entity
// reference other than XML's predefined ones and character references. CDATA sections and
// comments are skipped, since their "&" and "<!" are plain text.
const SCAN = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<!(DOCTYPE|ENTITY)\b|&([^;\s<&"']{0,40});?/g;
const PREDEFINED = new Set(["lt", "gt", "amp", "quot", "apos"]);
const CHARACTER_REFERENCE = /^#(\d{1,7}|x[0-9a-fA-F]{1,6})$/;

/** Line and column (both from 1) of an offset in the text. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return `line ${line}, column ${offset - before.lastIndexOf("\n")}`;
}

function refuseUnsafe(text: string): void {
  for (const match of text.matchAll(SCAN)) {
    const [whole, declaration, reference] = match;
    if (declaration) {
      throw new ReportError(
        "invalid",
        `Cannot read the XML: a ${declaration} declaration is not allowed (${
          position(text, match.index)
        }); send the report without a DOCTYPE`,
      );
    }
    if (reference === undefined) continue;
    if (
      !whole.endsWith(";") || !(PREDEFINED.has(reference) || CHARACTER_REFERENCE.test(reference))
    ) {
      throw new ReportError(
        "invalid",
        `Cannot read the XML: the entity reference "${whole}" is not allowed (${
          position(text, match.index)
        }); only &lt; &gt; &amp; &quot; &apos; and character references are read`,
      );
    }
  }
}

/** A character XML 1.0 allows (a character reference to any other becomes U+FFFD). */
function allowed(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

// Well-formedness errors saxes reports and reading goes on past: a raw control character (the
// validation of each field judges it) and a reference to one (read as U+FFFD, below).
const TOLERATED = new Set(["disallowed character.", "malformed character entity."]);

function createParser(): SaxesParser {
  const parser = new SaxesParser({ position: true });
  // saxes resolves references itself and keeps a disallowed one as written; here it becomes
  // U+FFFD, as JUnit writers mean a character they could not write. (parseEntity is saxes' own.)
  const own = parser as unknown as { parseEntity(entity: string): string };
  const resolve = own.parseEntity.bind(parser);
  own.parseEntity = (entity) => {
    if (!CHARACTER_REFERENCE.test(entity)) return resolve(entity);
    const code = entity[1] === "x" ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    return allowed(code) ? String.fromCodePoint(code) : "\uFFFD";
  };
  return parser;
}

/**
 * Reads XML text, calling `visitor` for each element and the text it asks for. Throws ReportError:
 * "invalid" when the text is unsafe or not well-formed, "too_large" over a limit, each as soon as
 * it is seen; an error thrown by the visitor ends the reading as it is.
 */
export function readXml(text: string, visitor: XmlVisitor, limits: XmlLimits = {}): void {
  refuseUnsafe(text);
  const maxElements = limits.maxElements ?? MAX_XML_ELEMENTS;
  const parser = createParser();
  const where = () => `line ${parser.line}, column ${parser.column}`;
  const tooLarge = (what: string) =>
    new ReportError("too_large", `Cannot read the XML: ${what} (${where()})`);
  // Whether each open element wants its text. (Turning saxes' text handler off and on instead
  // made reading a report 25 % slower; unwanted text is a slice of the body, dropped at once.)
  const wants: boolean[] = [];
  const onText = (part: string) => {
    if (wants.at(-1)) visitor.text(part);
  };
  parser.on("text", onText);
  parser.on("cdata", onText);
  let elements = 0;
  let attributes = 0;
  let lastClosed = "";
  parser.on("error", (error) => {
    const reason = error.message.replace(/^\d+:\d+: /, "");
    if (TOLERATED.has(reason)) return;
    // saxes reports a close tag that does not match after it has closed the element left open.
    const expected = reason === "unexpected close tag." ? `, expected </${lastClosed}>` : "";
    throw new ReportError(
      "invalid",
      `Cannot read the XML: ${reason.replace(/\.$/, "")}${expected} (${where()})`,
    );
  });
  parser.on("opentagstart", () => {
    if (++elements > maxElements) {
      throw tooLarge(`it has more than ${maxElements} elements; split the report`);
    }
    if (wants.length >= MAX_XML_DEPTH) {
      throw new ReportError(
        "invalid",
        `Cannot read the XML: elements are nested more than ${MAX_XML_DEPTH} deep (${where()})`,
      );
    }
    attributes = 0;
  });
  parser.on("attribute", ({ name, value }) => {
    if (++attributes > MAX_XML_ATTRIBUTES) {
      throw tooLarge(`an element has more than ${MAX_XML_ATTRIBUTES} attributes`);
    }
    if (value.length > MAX_XML_ATTRIBUTE_LENGTH) {
      throw tooLarge(
        `the attribute "${
          name.slice(0, 64)
        }" has a value over ${MAX_XML_ATTRIBUTE_LENGTH} characters`,
      );
    }
  });
  parser.on("opentag", (tag) => {
    const wanted = visitor.open(tag.name, tag.attributes as Record<string, string>);
    wants.push(wanted);
  });
  parser.on("closetag", (tag) => {
    lastClosed = tag.name.slice(0, 64);
    visitor.close(tag.name);
    wants.pop();
  });
  parser.write(text).close();
}
