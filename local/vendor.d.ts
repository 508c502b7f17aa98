// Just the parts of the emulators' untyped APIs that local/emulators.ts uses.

declare module "s3rver" {
  import type { AddressInfo } from "node:net";

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: Array<string | Buffer> }[];
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    configureBuckets(): Promise<void>;
    /** Koa's request listener, for an http.Server we own. */
    callback(): import("node:http").RequestListener;
    logger: { close(): void; exceptions: { unhandle(): void } };
    httpServer?: import("node:http").Server;
  }

  export = S3rver;
}

declare module "dynalite" {
  import type { Server } from "node:http";

  interface DynaliteOptions {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    path?: string;
  }

  function dynalite(options?: DynaliteOptions): Server;

  export = dynalite;
}
