import { Writable } from "node:stream";

/** A writable stream that keeps what a CLI under test writes, as `text`. */
export class Capture extends Writable {
  text = "";
  _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}
