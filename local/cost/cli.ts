// Only emulators are called here: the SDK's notice about future Node versions is noise in a local run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { readFile } from "node:fs/promises";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { configFromStackValues, type PipelineConfig } from "../../components/config";
import { processImage } from "../../functions/core";
import { isPipelineError } from "../../functions/core/errors";
import { isLocalRuntimeError } from "../errors";
import { processInput, startFlavour, type JobRow } from "../runtime";
import { samplePhoto } from "../sampleImages";
import { loadStack, StackConfigError } from "../stackConfig";
import { Meter, type Usage } from "./meter";
import { averageCounts, FLEX_INSTANCE_CORES, instanceSeconds, lambdaBilledMs, priceCounts, scaleModel, settingsFrom, withFlexBusy, type CostModel, type CostSettings } from "./model";
import { PRICES, PRICES_READ_ON, withOverrides, type PriceKey, type PriceTable } from "./prices";
import { formatPerMillion } from "./report";

/**
 * `npm run cost -- --stack <name> [--images N] [--megapixels M] [--json] [--prices file]`:
 * runs a few generated photos through the stack's cloud flavour with the meter on,
 * and prices one average image's counted operations per million images.
 *
 * Exit codes: 0 priced; 1 an image did not succeed or the run broke; 2 bad usage,
 * an unknown stack or an invalid stack config; 3 an emulator could not start.
 */

export class CostUsageError extends Error {
  readonly code = "COST_USAGE";
}

export interface CostIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The Pulumi project folder (default: the current folder). */
  cwd?: string;
}

interface CostOptions {
  stack: string;
  images: number;
  megapixels: number;
  json: boolean;
  prices?: string;
  config: string[];
}

function bounded(name: string, min: number, max: number, integer: boolean) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed)) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${name} must be ${integer ? "a whole number" : "a number"} from ${min} to ${max}.`);
    }
    return parsed;
  };
}

function program(io: CostIo): Command {
  return new Command("npm run cost --")
    .description("Model the cost per million images of a stack's config from the counted operations of a short local run.")
    .requiredOption("--stack <name>", "the stack whose config to price: a name (Pulumi.<name>.yaml), e.g. dev or dev-azure, or a stack file")
    .option("--images <n>", "generated photos to run", bounded("--images", 1, 50, true), 3)
    .option("--megapixels <m>", "size of each generated photo (4:3 JPEG)", bounded("--megapixels", 0.1, 50, false), 12)
    .option("--json", "print the line items and totals as JSON", false)
    .option("--config <key=value>", "override a stack config key for this model, e.g. workflowType=EXPRESS or architecture=x86_64 (repeatable)", (value: string, all: string[]) => [...all, value], [] as string[])
    .option("--prices <file>", "JSON of prices to use instead of the table's ({\"blob.write\": 0.05, ...}, dollars per the table's unit count)")
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
}

/** The stack's config as the program reads it, and the region its prices should be for. */
export function stackSettings(projectDir: string, stack: string, overrides: readonly string[] = []): { config: PipelineConfig; region: string } {
  const values = { ...loadStack(projectDir, stack).values };
  for (const override of overrides) {
    const at = override.indexOf("=");
    if (at <= 0) throw new CostUsageError(`--config takes key=value (e.g. workflowType=EXPRESS); got "${override}".`);
    const key = override.slice(0, at);
    values[key.includes(":") ? key : `image-pipeline:${key}`] = override.slice(at + 1);
  }
  // The program's own reader of stack values (what `pulumi up` would accept).
  const config = configFromStackValues(values);
  const region = config.cloud === "aws" ? (config.region ?? values["aws:region"] ?? "aws:region unset") : config.azure.location;
  return { config, region };
}

export interface CostReport {
  stack: string;
  cloud: string;
  region: string;
  workflowType: string;
  architecture: string;
  images: number;
  megapixels: number;
  pricesReadOn: string;
  perMillion: { items: Array<CostModel["items"][number] & { unitPrice?: number; per: number; priceUnit: string; priceRegion: string; source: string }>; totalUsd: number; unpriced: string[]; bounds: CostModel["bounds"] };
  floor: { outputWrites: number; coreMs: number; coreCpuMs: number; usd?: number };
  /**
   * Per image. `mbMoved`: every object request's body bytes. `mbRead`/`mbWritten`: the steps' reads
   * (GET) and writes (PUT); the writes are the outputs and the manifest, so the bytes moved between
   * steps (#13) are the reads: the upload once plus Validate's header read. `uploadMb`: the upload.
   */
  perImage: { counts: ReturnType<typeof averageCounts>; mbMoved: number; mbRead: number; mbWritten: number; uploadMb: number };
}

/**
 * The floor per million: the outputs' own writes plus the core alone at the stack's memory, its compute
 * from the core's CPU time billed as the model bills the steps' CPU time (the "compute from CPU time alone"
 * totals), so the floor is comparable with them and does not move with this machine's load.
 */
function floorPerMillion(settings: CostSettings, prices: PriceTable, outputWrites: number, coreCpuMs: number): number | undefined {
  const write: PriceKey = settings.cloud === "aws" ? "s3.putCopyPostList" : "blob.write";
  const compute: PriceKey = settings.cloud === "aws" ? `lambda.gbSecond.${settings.architecture}` : "functions.flex.gbSecond";
  const memoryMb = settings.cloud === "aws" ? settings.memoryMb.resize : settings.flexInstanceMemoryMb;
  // Lambda: CPU time stretched by the function's CPU share; Flex: CPU time at the instance's cores (instanceSeconds with no wait).
  const seconds = settings.cloud === "aws" ? lambdaBilledMs(coreCpuMs, memoryMb) / 1000 : instanceSeconds(coreCpuMs, coreCpuMs, FLEX_INSTANCE_CORES[memoryMb] ?? 1);
  const [writePrice, computePrice] = [prices[write], prices[compute]];
  if (writePrice.usd === undefined || computePrice.usd === undefined) return undefined;
  return 1_000_000 * ((outputWrites * writePrice.usd) / writePrice.per + seconds * (memoryMb / 1024) * computePrice.usd);
}

/** Runs the images through the flavour with the meter on; every image must succeed. */
async function meteredRun(config: PipelineConfig, bodies: Buffer[]): Promise<{ usage: Usage; rows: JobRow[] }> {
  const meter = new Meter();
  const flavour = await startFlavour(config.cloud, { processing: config.processing, notifier: { publish: async () => undefined }, meter });
  const rows: JobRow[] = [];
  try {
    // One at a time: each invocation's time is then one core's time.
    for (const [index, body] of bodies.entries()) rows.push(await processInput(flavour, { key: `cost/photo-${index + 1}.jpg`, body }));
  } finally {
    await flavour.stop();
  }
  const failed = rows.find((row) => row.status !== "succeeded");
  if (failed) throw new Error(`[RUN_FAILED] ${failed.key} ended ${failed.status} (${failed.errorCode}: ${failed.errorMessage}); the cost of a failing pipeline is not modeled.`);
  return { usage: meter.snapshot(), rows };
}

export async function costReport(options: { projectDir: string; stack: string; images: number; megapixels: number; prices: PriceTable; overrides?: readonly string[] }): Promise<CostReport> {
  const { config, region } = stackSettings(options.projectDir, options.stack, options.overrides);
  const width = Math.round(Math.sqrt((options.megapixels * 1_000_000 * 4) / 3));
  const height = Math.round((width * 3) / 4);
  const bodies = await Promise.all(Array.from({ length: options.images }, (_, index) => samplePhoto({ width, height, seed: index + 1 })));
  const { usage, rows } = await meteredRun(config, bodies);

  // The floor's compute: the core alone on the same images, in this process (the flavour is stopped).
  let coreMs = 0;
  let coreCpuMs = 0;
  for (const body of bodies) {
    const [started, cpu] = [performance.now(), process.cpuUsage()];
    await processImage(body, config.processing);
    const used = process.cpuUsage(cpu);
    coreMs += performance.now() - started;
    coreCpuMs += (used.user + used.system) / 1000;
  }
  coreMs /= bodies.length;
  coreCpuMs /= bodies.length;

  const settings = settingsFrom(config);
  const perImage = averageCounts(rows.map((row) => withFlexBusy(usage.perJob[row.jobId] ?? {}, usage.executions[row.jobId] ?? [], settings)));
  const model = scaleModel(priceCounts(perImage, settings, options.prices), 1_000_000);
  const outputWrites = rows.reduce((sum, row) => sum + row.renditions + 1, 0) / rows.length;
  const objectBytes = (test: (key: string) => boolean) => Object.entries(perImage).reduce((sum, [key, t]) => sum + ((key.startsWith("s3:") || key.startsWith("blob:")) && test(key) ? t.bytes : 0), 0) / 1_000_000;
  const mbMoved = objectBytes(() => true);
  const mbRead = objectBytes((key) => key === "s3:GetObject" || key === "blob:GetBlob");
  const mbWritten = objectBytes((key) => key === "s3:PutObject" || key === "blob:PutBlob" || key === "blob:PutBlock" || key === "blob:PutBlockList");
  const uploadMb = bodies.reduce((sum, body) => sum + body.length, 0) / bodies.length / 1_000_000;
  return {
    stack: options.stack,
    cloud: config.cloud,
    region,
    workflowType: config.cloud === "aws" ? config.workflowType : "DURABLE",
    architecture: config.cloud === "aws" ? config.architecture : `flex ${config.azure.flexInstanceMemoryMb} MB`,
    images: options.images,
    megapixels: options.megapixels,
    pricesReadOn: PRICES_READ_ON,
    perMillion: {
      items: model.items.map((item) => {
        const price = options.prices[item.price];
        return { ...item, unitPrice: price.usd, per: price.per, priceUnit: price.unit, priceRegion: price.region, source: price.source };
      }),
      totalUsd: model.usd,
      unpriced: model.unpriced,
      bounds: model.bounds,
    },
    floor: { outputWrites, coreMs, coreCpuMs, usd: floorPerMillion(settings, options.prices, outputWrites, coreCpuMs) },
    perImage: { counts: perImage, mbMoved, mbRead, mbWritten, uploadMb },
  };
}

async function readPrices(file: string | undefined): Promise<PriceTable> {
  if (!file) return PRICES;
  const text = await readFile(file, "utf8").catch(() => {
    throw new CostUsageError(`No such prices file: "${file}".`);
  });
  try {
    return withOverrides(PRICES, JSON.parse(text) as Record<string, unknown>);
  } catch (error) {
    throw new CostUsageError(`The prices file "${file}" is not usable: ${(error as Error).message}.`);
  }
}

/** The CLI, callable from tests: returns the exit code, never throws. */
export async function main(argv: readonly string[], io: CostIo): Promise<number> {
  const command = program(io);
  try {
    command.parse(argv as string[], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const options = command.opts<CostOptions>();
  const line = (stream: NodeJS.WritableStream, text: string) => stream.write(`${text}\n`);
  try {
    const prices = await readPrices(options.prices);
    if (!options.json) line(io.stderr, `running ${options.images} generated ${options.megapixels} MP photo(s) through the ${options.stack} stack's flavour with the meter on...`);
    const report = await costReport({ projectDir: io.cwd ?? process.cwd(), stack: options.stack, images: options.images, megapixels: options.megapixels, prices, overrides: options.config });
    if (options.json) {
      line(io.stdout, JSON.stringify(report, null, 2));
    } else {
      const heading = `${report.stack}: ${report.cloud} ${report.workflowType}, ${report.architecture}, ${report.region}; ${report.images} × ${report.megapixels} MP JPEG; ${report.perImage.mbMoved.toFixed(1)} MB moved through storage per image: ${report.perImage.mbRead.toFixed(2)} MB read by the steps (${(report.perImage.mbRead / report.perImage.uploadMb).toFixed(2)} × the ${report.perImage.uploadMb.toFixed(2)} MB upload), ${report.perImage.mbWritten.toFixed(2)} MB written`;
      line(io.stdout, formatPerMillion({ items: report.perMillion.items, usd: report.perMillion.totalUsd, unpriced: report.perMillion.unpriced, bounds: report.perMillion.bounds }, prices, report.floor.usd, heading));
    }
    return 0;
  } catch (error) {
    if (error instanceof CostUsageError || error instanceof StackConfigError) {
      line(io.stderr, `[${error.code}] ${error.message}`);
      return 2;
    }
    if (isPipelineError(error)) {
      line(io.stderr, `[${error.code}] ${error.message}`);
      return error.code === "CONFIG_INVALID" ? 2 : 1;
    }
    if (isLocalRuntimeError(error)) {
      line(io.stderr, `[${error.code}] ${error.message}`);
      return 3;
    }
    line(io.stderr, (error as Error)?.message?.startsWith("[") ? (error as Error).message : `Unexpected failure: ${(error as Error)?.stack ?? String(error)}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then((code) => {
    process.exitCode = code;
  });
}
