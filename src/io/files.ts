/**
 * Node-only file helpers (kept out of the browser barrel so no bundle pulls in node:fs): atomic
 * writes, models as safetensors files, checkpoints on disk.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { encodeCheckpoint, restoreCheckpoint, type CheckpointContents, type RestoreTargets, type StatefulModel } from './checkpoint.js';
import { loadSafetensors, readSafetensorsMetadata, saveSafetensors } from './safetensors.js';

/**
 * Writes bytes so that `path` holds either its old contents or all of the new ones, never a torn
 * file: write a temporary file in the same directory (rename is atomic only within a file system),
 * fsync it, rename it over the target. On any error the temporary file is removed.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(temp, 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = null;
    await rename(temp, path);
  } catch (e) {
    await handle?.close().catch(() => {});
    await rm(temp, { force: true }).catch(() => {});
    throw new Error(`writeFileAtomic: could not write ${path}: ${(e as Error).message}`, { cause: e });
  }
  await syncDirectory(dirname(path));
}

/** The name writeFileAtomic gives its temporary files: `.<name>.<pid>.<12 hex digits>.tmp`. */
const TEMPORARY = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes the temporary files that writes in `dir` left behind when their process was killed
 * mid-write (a resumed run would otherwise keep them for ever). A temporary of a process that is
 * still running is left alone: it may be writing. Returns the names removed.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    const match = TEMPORARY.exec(name);
    if (!match || processIsRunning(Number(match[1]))) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** True when a process of this id runs on this machine (ours included). */
export function processIsRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes the rename itself durable. Best effort: some platforms cannot open a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The data is already safely renamed; only durability across a power cut is not guaranteed here.
  }
}

/** Saves a model's state dict as safetensors with PyTorch names (PyTorch can load it). */
export async function saveModel(path: string, model: StatefulModel, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, saveSafetensors(model.stateDict(), metadata));
}

/** Loads a safetensors file into a model (strict by default) and returns the file's metadata. */
export async function loadModel(path: string, model: StatefulModel, options: { strict?: boolean } = {}): Promise<Record<string, string>> {
  const bytes = await readBytes(path, 'loadModel');
  let tensors;
  let metadata;
  try {
    metadata = readSafetensorsMetadata(bytes);
    tensors = loadSafetensors(bytes);
  } catch (e) {
    throw new Error(`loadModel: ${path}: ${(e as Error).message}`, { cause: e });
  }
  model.loadStateDict(tensors, { strict: options.strict ?? true });
  return metadata;
}

/** Writes a checkpoint (model, optimizer, step, RNG state, extra JSON) atomically. */
export async function saveCheckpoint(path: string, contents: CheckpointContents): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(contents, 'saveCheckpoint'));
}

/** Restores a checkpoint written by saveCheckpoint and returns its step and extra data. */
export async function loadCheckpoint(path: string, targets: RestoreTargets): Promise<{ step: number; extra: unknown }> {
  const bytes = await readBytes(path, 'loadCheckpoint');
  return restoreCheckpoint(bytes, targets, `loadCheckpoint: ${path}`);
}

async function readBytes(path: string, where: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new Error(`${where}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}
