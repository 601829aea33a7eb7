import * as fs from 'node:fs';

/**
 * Reads an append-only NDJSON file incrementally: each {@link readNew} returns the whole lines appended since
 * the previous call, so a reader that polls (the `alerts --follow` command, the web console) costs what was
 * appended, not the whole file again. A line still being written (no newline yet) waits for the next call.
 * A file that shrank was replaced: it is read again from its start.
 */
export class NdjsonTail<T> {
  private offset = 0;
  /** Bytes after the last newline read: a line still being written (maybe cut inside a UTF-8 character). */
  private partial = Buffer.alloc(0);

  constructor(
    readonly file: string,
    /** A parsed line, or undefined to skip it. */
    private readonly parse: (line: string) => T | undefined,
  ) {}

  readNew(): T[] {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.offset) {
        this.offset = 0;
        this.partial = Buffer.alloc(0);
      }
      if (size === this.offset) return [];
      const buffer = Buffer.alloc(size - this.offset);
      const read = fs.readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset += read;
      const bytes = Buffer.concat([this.partial, buffer.subarray(0, read)]);
      const end = bytes.lastIndexOf(0x0a) + 1;
      this.partial = Buffer.from(bytes.subarray(end));
      const lines = bytes.subarray(0, end).toString('utf8').split('\n');
      const parsed: T[] = [];
      for (const line of lines) {
        if (!line) continue;
        const value = this.parse(line);
        if (value !== undefined) parsed.push(value);
      }
      return parsed;
    } finally {
      fs.closeSync(fd);
    }
  }
}
