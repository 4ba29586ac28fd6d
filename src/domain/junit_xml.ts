// Reads untrusted XML safely: no DOCTYPE, no entities beyond XML's five, errors with line and column.
import { XMLParser, XMLValidator } from "fast-xml-parser";

/** An element of the document: its attributes and own text decoded, CDATA kept as written. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text and CDATA, in order (the text of its children is not included). */
  text: string;
}

/** Why a report cannot be read: not well-formed or refused ("invalid"), no testcase, or too many. */
export class ReportError extends Error {
  constructor(readonly kind: "invalid" | "empty" | "too_many", message: string) {
    super(message);
    this.name = "ReportError";
  }
}

/** Deepest element nesting read; deeper documents are refused rather than walked. */
export const MAX_XML_DEPTH = 64;

// One pass over the text finds what the parser must never see: a DOCTYPE or ENTITY declaration
// (the door to entity expansion, "billion laughs" and external references) and any entity
// reference other than XML's predefined ones and character references. CDATA sections and
// comments are skipped, since their "&" and "<!" are plain text.
const SCAN = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<!(DOCTYPE|ENTITY)\b|&([^;\s<&"']{0,40});?/g;
const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
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
    if (!whole.endsWith(";") || !(reference in PREDEFINED || CHARACTER_REFERENCE.test(reference))) {
      throw new ReportError(
        "invalid",
        `Cannot read the XML: the entity reference "${whole}" is not allowed (${
          position(text, match.index)
        }); only &lt; &gt; &amp; &quot; &apos; and character references are read`,
      );
    }
  }
}

/** Decodes XML's predefined entities and character references (the only ones left after the scan). */
function decode(value: string): string {
  if (!value.includes("&")) return value;
  return value.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, name: string) => {
    if (!name.startsWith("#")) return PREDEFINED[name];
    const code = name[1] === "x" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    // A character XML 1.0 does not allow (a C0 control, a surrogate) becomes U+FFFD.
    const allowed = code === 0x9 || code === 0xa || code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    return allowed ? String.fromCodePoint(code) : "\uFFFD";
  });
}

type FxpNode = Record<string, unknown> & { ":@"?: Record<string, string> };

function toElement(node: FxpNode): XmlElement | undefined {
  const name = Object.keys(node).find((key) => key !== ":@");
  if (name === undefined || name === "#text" || name === "#cdata" || name.startsWith("?")) {
    return undefined;
  }
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(node[":@"] ?? {})) attributes[key] = decode(value);
  const element: XmlElement = { name, attributes, children: [], text: "" };
  for (const child of node[name] as FxpNode[]) {
    if ("#text" in child) element.text += decode(String(child["#text"]));
    else if ("#cdata" in child) {
      for (const part of child["#cdata"] as FxpNode[]) element.text += String(part["#text"] ?? "");
    } else {
      const nested = toElement(child);
      if (nested) element.children.push(nested);
    }
  }
  return element;
}

/** Parses XML text into its root element; throws ReportError when it is unsafe or not well-formed. */
export function parseXml(text: string): XmlElement {
  refuseUnsafe(text);
  const checked = XMLValidator.validate(text);
  if (checked !== true) {
    const { msg, line, col } = checked.err;
    const where = col === undefined ? `line ${line}` : `line ${line}, column ${col}`;
    throw new ReportError("invalid", `Cannot read the XML: ${msg} (${where})`);
  }
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: "",
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    cdataPropName: "#cdata",
    trimValues: false,
    maxNestedTags: MAX_XML_DEPTH,
  });
  let nodes: FxpNode[];
  try {
    nodes = parser.parse(text) as FxpNode[];
  } catch (error) {
    throw new ReportError("invalid", `Cannot read the XML: ${(error as Error).message}`);
  }
  const roots = nodes.map(toElement).filter((element) => element !== undefined);
  if (roots.length !== 1) {
    throw new ReportError(
      "invalid",
      roots.length === 0
        ? "Cannot read the XML: it has no root element"
        : `Cannot read the XML: it has ${roots.length} root elements; a document has one`,
    );
  }
  return roots[0];
}
