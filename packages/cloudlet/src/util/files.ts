import { open, type FileHandle } from 'node:fs/promises';

/** Reads exactly `length` bytes at `position`; bytes past end of file read as zeros (sparse semantics). */
export async function preadFull(fh: FileHandle, buf: Buffer, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, offset + done, length - done, position + done);
    if (bytesRead === 0) {
      buf.fill(0, offset + done, offset + length);
      return;
    }
    done += bytesRead;
  }
}

/** A small cache of read-only handles, so segment reads do not reopen files. */
export class HandleCache {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  get(path: string): Promise<FileHandle> {
    let h = this.handles.get(path);
    if (!h) {
      h = open(path, 'r');
      this.handles.set(path, h);
    }
    return h;
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => null))?.close()));
  }
}
