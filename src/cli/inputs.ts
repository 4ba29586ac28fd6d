// Turns the CLI's paths (files, folders, globs, relative to the caller's folder) into the files to
// read, each with its format; in folders and globs, files that are not reports are skipped.
import { open, readdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
// Node.js before 22 has no fs.globSync; one glob library keeps the two runtimes matching alike.
import { globSync } from "tinyglobby";
import { formatOf, InputError, type InputFormat } from "./read_executions.ts";

/** A file to read. */
export interface InputFile {
  /** Absolute path. */
  path: string;
  /** The path as the caller wrote it (or as a folder or glob gave it), for messages. */
  shown: string;
  format: InputFormat;
}

/** The files found, in order, and why others were left out. */
export interface ExpandedInputs {
  files: InputFile[];
  /** One line per folder or glob that had files it skipped. */
  skipped: string[];
}

const GLOB = /[*?[\]{}]/;
const FAILURE_FILE = /\.failed\.(ndjson|csv)$/i;
const SHOWN_SKIPPED = 5;

/** The format a file's first characters suggest, for a file named without a known extension. */
function sniff(text: string): InputFormat | undefined {
  const start = text.replace(/^\uFEFF/, "").trimStart();
  if (start.startsWith("<")) return "junit";
  if (start.startsWith("[")) return "json";
  if (start.startsWith("{")) return /}\s*\r?\n\s*{/.test(start) ? "ndjson" : "json";
  return undefined;
}

/** The name of an XML document's root element, read past the declaration, comments and DOCTYPE. */
function rootElement(text: string): string | undefined {
  const body = text.replace(/^\uFEFF/, "").replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<![^>]*>/g, "");
  return /<([A-Za-z_][\w:.-]*)/.exec(body)?.[1];
}

async function readStart(path: string): Promise<string> {
  const file = await open(path);
  try {
    const buffer = new Uint8Array(64 * 1024);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    return new TextDecoder().decode(buffer.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

/** Expands the paths; throws InputError for a path that names nothing or a file of no known format. */
export async function expandInputs(
  paths: readonly string[],
  options: { cwd: string; format?: InputFormat },
): Promise<ExpandedInputs> {
  const files: InputFile[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  const add = (file: InputFile) => {
    if (seen.has(file.path)) return;
    seen.add(file.path);
    files.push(file);
  };

  /** A file met in a folder or through a glob: taken only when it is recognisably a report. */
  async function candidate(path: string, shown: string, left: string[]) {
    const name = basename(path);
    const format = options.format ?? formatOf(name);
    if (FAILURE_FILE.test(name) || format === undefined) return void left.push(name);
    if (format === "junit" && !options.format) {
      const root = rootElement(await readStart(path));
      if (root !== "testsuites" && root !== "testsuite") return void left.push(name);
    }
    add({ path, shown, format });
  }

  async function folder(path: string, shown: string, left: string[]) {
    const names: string[] = [];
    for (const entry of await readdir(path, { withFileTypes: true })) {
      if (entry.isFile()) names.push(entry.name);
    }
    for (const name of names.sort()) await candidate(join(path, name), join(shown, name), left);
  }

  for (const given of paths) {
    const path = resolve(options.cwd, given);
    const left: string[] = [];
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) {
      const format = options.format ?? formatOf(given) ?? sniff(await readStart(path));
      if (format === undefined) {
        throw new InputError(
          `Cannot tell the format of "${given}": pass --format junit, json, ndjson or csv`,
        );
      }
      add({ path, shown: given, format });
    } else if (info?.isDirectory()) {
      await folder(path, given, left);
    } else if (GLOB.test(given)) {
      const matches = globSync(given, {
        cwd: options.cwd,
        onlyFiles: false,
        expandDirectories: false,
      });
      for (const match of matches.map((name) => name.replace(/\/$/, "")).sort()) {
        const matched = resolve(options.cwd, match);
        if ((await stat(matched)).isDirectory()) await folder(matched, match, left);
        else await candidate(matched, match, left);
      }
    } else {
      throw new InputError(`Cannot read "${given}": no such file or folder`);
    }
    if (left.length > 0) {
      const names = left.slice(0, SHOWN_SKIPPED).join(", ") +
        (left.length > SHOWN_SKIPPED ? `, and ${left.length - SHOWN_SKIPPED} more` : "");
      skipped.push(
        `skipped ${left.length} ${left.length === 1 ? "file" : "files"} in "${given}" ` +
          `(not reports, or failure files of an earlier run): ${names}`,
      );
    }
  }
  return { files, skipped };
}
