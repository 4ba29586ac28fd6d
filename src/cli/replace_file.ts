// Writes a file without ever following a symlink at its name: a fresh file beside it, renamed over.
import { randomUUID } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes `text` to `path` by creating a new file in the same folder (refused if anything exists at
 * that name, so a planted link is never written through) and renaming it over `path`. The rename
 * replaces whatever entry `path` is, a symlink included, and readers never see half a file.
 * Only node: builtins, so the single-file CLI runs it on Node.js as well as on Deno.
 */
export async function replaceFile(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  // mode 0o666 as for any new file: the process's umask decides what others may read.
  await writeFile(temporary, text, { flag: "wx", mode: 0o666 });
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
