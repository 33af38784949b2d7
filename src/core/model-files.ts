/**
 * What a model directory's files are, checked with lstat/stat before anything opens them. Opening a FIFO blocks
 * until a writer appears (forever, for a planted one), a device or socket never reads as a model, and a directory
 * or an empty file only gives onnxruntime's cut-off C++ messages. Each is refused with a message that names the
 * file and what it is. The checks are asynchronous (fs.promises), so the extension host's thread never waits on them.
 */
import * as fs from 'fs';

export type FileKind = 'file' | 'directory' | 'fifo' | 'socket' | 'character device' | 'block device' | 'unknown';

export function fileKind(st: fs.Stats): FileKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'unknown';
}

const KIND_TEXT: Record<Exclude<FileKind, 'file'>, string> = {
  directory: 'a directory',
  fifo: 'a FIFO (named pipe)',
  socket: 'a socket',
  'character device': 'a character device',
  'block device': 'a block device',
  unknown: 'not a regular file',
};

/** Why `kind` cannot be read as a model file ("is a FIFO (named pipe), not a regular file"), null for a file. */
export function kindProblem(kind: FileKind): string | null {
  return kind === 'file' ? null : `is ${KIND_TEXT[kind]}, not a regular file`;
}

export interface FileCheck {
  /** The file's kind after following symbolic links; null when it does not exist. */
  kind: FileKind | null;
  size: number;
  /** Set when the path is a symbolic link: where it points. */
  linkTarget?: string;
  /** Why the file cannot be used, naming it; null when it is a non-empty regular file. */
  problem: string | null;
}

/**
 * lstat, then (for a link) stat: what `file` is. A missing file is `kind: null` with a problem; the caller may
 * word that case itself.
 */
export async function checkRegularFile(file: string, label = file): Promise<FileCheck> {
  let lst: fs.Stats;
  try {
    lst = await fs.promises.lstat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      kind: null,
      size: 0,
      problem: code === 'ENOENT' ? `${label} does not exist` : `cannot read ${label}: ${(e as Error).message}`,
    };
  }
  let st = lst;
  let linkTarget: string | undefined;
  if (lst.isSymbolicLink()) {
    linkTarget = await fs.promises.readlink(file).catch(() => '?');
    try {
      st = await fs.promises.stat(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return {
        kind: null,
        size: 0,
        linkTarget,
        problem:
          code === 'ENOENT'
            ? `${label} is a symbolic link to ${linkTarget}, which does not exist`
            : `cannot read ${label}: ${(e as Error).message}`,
      };
    }
  }
  const kind = fileKind(st);
  const via = linkTarget !== undefined ? ` (a symbolic link to ${linkTarget})` : '';
  const bad = kindProblem(kind);
  if (bad) return { kind, size: st.size, linkTarget, problem: `${label}${via} ${bad}` };
  if (st.size === 0) return { kind, size: 0, linkTarget, problem: `${label}${via} is empty (0 bytes)` };
  return { kind, size: st.size, linkTarget, problem: null };
}

/**
 * Opens `file` for reading without ever blocking: O_NONBLOCK makes open() of a FIFO return at once, and the open
 * handle is checked again with fstat (the path may have been swapped between the check and the open). Throws an
 * Error naming the file when it is not a regular file.
 */
export async function openRegularFile(file: string, label = file): Promise<fs.promises.FileHandle> {
  const handle = await fs.promises.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const bad = kindProblem(fileKind(await handle.stat()));
    if (bad) throw new Error(`${label} ${bad}`);
    return handle;
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
}

/** Reads a small regular file (a tokenizer.json) as UTF-8, refusing FIFOs, devices and the like first. */
export async function readRegularTextFile(file: string, label = file): Promise<string> {
  const handle = await openRegularFile(file, label);
  try {
    return await handle.readFile({ encoding: 'utf8' });
  } finally {
    await handle.close();
  }
}
