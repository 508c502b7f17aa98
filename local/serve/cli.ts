import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CLOUDS, loadConfig, type Cloud, type PipelineConfig } from "../../components/config";
import { isPipelineError } from "../../functions/core/errors";
import { isLocalRuntimeError } from "../errors";
import { formatEvent } from "../report";
import { loadStackPipelineConfig, StackConfigError } from "../stackConfig";

/**
 * `npm start -- serve [--cloud azure] [--port N] [--stack S]`: the HTTP API, the renditions
 * and the page on 127.0.0.1 until Ctrl-C. Exit codes as `npm start`: 0 stopped by Ctrl-C,
 * 2 bad usage or config, 3 the port or an emulator could not be had.
 */

interface ServeCliOptions {
  cloud?: Cloud;
  port: number;
  stack?: string;
  retryDelay: number;
}

export interface ServeIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborting it (Ctrl-C) stops the server. */
  signal?: AbortSignal;
  cwd?: string;
}

export const DEFAULT_SERVE_PORT = 8787;

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return parsed;
  };
}

function command(io: ServeIo): Command {
  return new Command("npm start -- serve")
    .description("Serve the HTTP API, the renditions (with the CDN's negotiation and caching) and an upload page on 127.0.0.1, over a local flavour's emulators and pipeline.")
    .addOption(new Option("--cloud <cloud>", "which cloud's emulators and engine (default: the --stack's cloud, else aws)").choices([...CLOUDS]))
    .option("--port <port>", "port on 127.0.0.1 (0: a free one)", integer("--port", 0, 65535), DEFAULT_SERVE_PORT)
    .option("--stack <name or file>", "use a Pulumi stack's settings (limits, renditions, formats, api...) and cloud")
    .option("--retry-delay <ms>", "pause before a retried step", integer("--retry-delay", 0, 60_000), 100)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`[USAGE_INVALID] ${text.replace(/^error:\s*/i, "").trim()} See --help.\n`),
    });
}

/** Runs until `io.signal` aborts; returns the exit code. Never throws. */
export async function serveMain(argv: readonly string[], io: ServeIo): Promise<number> {
  const say = (line: string) => io.stdout.write(`${line}\n`);
  const program = command(io);
  try {
    program.parse(argv as string[], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const options = program.opts<ServeCliOptions>();
  try {
    let config: PipelineConfig = loadConfig({});
    let cloud: Cloud = options.cloud ?? "aws";
    if (options.stack !== undefined) {
      config = loadStackPipelineConfig(io.cwd ?? process.cwd(), options.stack).config;
      cloud = options.cloud ?? config.cloud;
    }
    // The page shows the manifest's <picture> markup, so serve always asks for it.
    const processing = { ...config.processing, markup: true };
    // Loaded now, not with this file: the emulators and SDKs take seconds to load.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startServer } = require("./server") as typeof import("./server");
    const server = await startServer({
      cloud,
      port: options.port,
      processing,
      api: config.api,
      retryDelayMs: options.retryDelay,
      onEvent: (event) => say(formatEvent(event)),
      log: (entry) => io.stderr.write(`${JSON.stringify(entry)}\n`),
    });
    say(`image-pipeline serve (${cloud}): page ${server.url}/  api ${server.apiUrl}/openapi.json  renditions ${server.url}/renditions/; Ctrl-C stops`);
    await new Promise<void>((resolve) => {
      if (io.signal?.aborted) return resolve();
      io.signal?.addEventListener("abort", () => resolve(), { once: true });
    });
    await server.stop();
    say("stopped");
    return 0;
  } catch (error) {
    if (isLocalRuntimeError(error)) {
      io.stderr.write(`[${error.code}] ${error.message}\n`);
      return 3;
    }
    if (error instanceof StackConfigError || isPipelineError(error)) {
      io.stderr.write(`[${error.code}] ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`[INTERNAL] Unexpected failure of the local server: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}
