// Writes a file without ever following a symlink at its name: a fresh file beside it, renamed over.
import { basename, dirname, join } from "node:path";

/**
 * Writes `text` to `path` by creating a new file in the same folder (refused if anything exists at
 * that name, so a planted link is never written through) and renaming it over `path`. The rename
 * replaces whatever entry `path` is, a symlink included, and readers never see half a file.
 */
export async function replaceFile(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  // mode 0o666 as for any new file: the process's umask decides what others may read.
  await Deno.writeTextFile(temporary, text, { createNew: true, mode: 0o666 });
  try {
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
