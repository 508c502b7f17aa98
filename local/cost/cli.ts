// Only emulators are called here: the SDK's notice about future Node versions is noise in a local run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { readFile } from "node:fs/promises";
import { Presets, SingleBar } from "cli-progress";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { configFromStackValues, type PipelineConfig } from "../../components/config";
import { processImage } from "../../functions/core";
import { isPipelineError } from "../../functions/core/errors";
import { isLocalInputError, isLocalRuntimeError } from "../errors";
import { collectInputs, type InputFile } from "../inputs";
import { processInput, startFlavour, type JobRow } from "../runtime";
import { samplePhoto } from "../sampleImages";
import { loadStack, StackConfigError } from "../stackConfig";
import { Meter, type Usage } from "./meter";
import { averageCounts, FLEX_INSTANCE_CORES, instanceSeconds, keptStoragePerMillion, lambdaBilledMs, priceCounts, scaleModel, settingsFrom, withFlexBusy, type CostModel, type CostSettings, type KeptStorage } from "./model";
import { PRICES, PRICES_READ_ON, withOverrides, type PriceKey, type PriceTable } from "./prices";
import { formatPerMillion } from "./report";

/**
 * `npm run cost -- --stack <name> [--images N] [--megapixels M] [--json] [--prices file] [files or folders...]`:
 * runs a few generated photos (or your own images) through the stack's cloud flavour with the
 * meter on, and prices one average image's counted operations per million images.
 *
 * Exit codes: 0 priced; 1 a generated image (or every image given) did not succeed, or the run
 * broke; 2 bad usage, a path given that does not exist, an unknown stack or an invalid stack
 * config; 3 an emulator could not start.
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

/** At most this many images per run, generated or given. */
const MAX_IMAGES = 50;

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
    .description("Model the cost per million images of a stack's config from the counted operations of a short local run, on generated photos or on the images given.")
    .argument("[inputs...]", `your own image files or folders (recursed) to run instead of generated photos: the first --images of them, in name order (all, up to ${MAX_IMAGES}, without --images); images the pipeline refuses are listed and left out of the average`)
    .requiredOption("--stack <name>", "the stack whose config to price: a name (Pulumi.<name>.yaml), e.g. dev or dev-azure, or a stack file")
    .option("--images <n>", "images to run (default: 3 generated photos)", bounded("--images", 1, MAX_IMAGES, true), 3)
    .option("--megapixels <m>", "size of each generated photo (4:3 JPEG; ignored with inputs given)", bounded("--megapixels", 0.1, 50, false), 12)
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
  /** Images averaged (given images the pipeline refused are left out: see `leftOut`). */
  images: number;
  /** Their mean size (generated: the size asked for). */
  megapixels: number;
  /** "generated", or the files and folders given. */
  inputs: "generated" | string[];
  /** Given images that did not end succeeded, with why: not in the average. */
  leftOut: Array<{ key: string; status: string; errorCode?: string }>;
  pricesReadOn: string;
  perMillion: {
    items: Array<CostModel["items"][number] & PriceFacts>;
    totalUsd: number;
    unpriced: string[];
    bounds: CostModel["bounds"];
    /** Keeping the outputs, per month: not in the total (it recurs for as long as they are kept). */
    keptPerMonth: KeptStorage & PriceFacts;
  };
  floor: { outputWrites: number; coreMs: number; coreCpuMs: number; usd?: number };
  /**
   * Per image. `mbMoved`: every object request's body bytes. `mbRead`/`mbWritten`: the steps' reads
   * (GET) and writes (PUT); the writes are the outputs and the manifest, so the bytes moved between
   * steps (#13) are the reads: the upload once plus Validate's header read. `uploadMb`: the upload.
   */
  perImage: { counts: ReturnType<typeof averageCounts>; mbMoved: number; mbRead: number; mbWritten: number; uploadMb: number };
}

/** A line's price as the table gives it, for the JSON report. */
interface PriceFacts {
  unitPrice?: number;
  per: number;
  priceUnit: string;
  priceRegion: string;
  source: string;
}

const priceFacts = (prices: PriceTable, key: PriceKey): PriceFacts => {
  const price = prices[key];
  return { unitPrice: price.usd, per: price.per, priceUnit: price.unit, priceRegion: price.region, source: price.source };
};

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

/**
 * Runs the images through the flavour with the meter on, one at a time (each invocation's time is
 * then one core's time). Generated photos must all succeed; of given images, those that do not are
 * returned apart, and at least one must succeed.
 */
async function meteredRun(config: PipelineConfig, inputs: InputFile[], given: boolean, onImage?: () => void): Promise<{ usage: Usage; rows: JobRow[]; leftOut: JobRow[] }> {
  const meter = new Meter();
  const flavour = await startFlavour(config.cloud, { processing: config.processing, notifier: { publish: async () => undefined }, meter });
  const rows: JobRow[] = [];
  try {
    for (const input of inputs) {
      rows.push(await processInput(flavour, input));
      onImage?.();
    }
  } finally {
    await flavour.stop();
  }
  const leftOut = rows.filter((row) => row.status !== "succeeded");
  const why = (row: JobRow) => `${row.key} ended ${row.status} (${row.errorCode}: ${row.errorMessage})`;
  if (!given && leftOut.length > 0) throw new Error(`[RUN_FAILED] ${why(leftOut[0])}; the cost of a failing pipeline is not modeled.`);
  if (leftOut.length === rows.length) throw new Error(`[RUN_FAILED] none of the ${rows.length} image(s) given ended succeeded, so there is nothing to price; first: ${why(leftOut[0])}.`);
  return { usage: meter.snapshot(), rows: rows.filter((row) => row.status === "succeeded"), leftOut };
}

/** Generated 4:3 photo-like JPEGs of about `megapixels` each. */
async function generatedInputs(images: number, megapixels: number): Promise<InputFile[]> {
  const width = Math.round(Math.sqrt((megapixels * 1_000_000 * 4) / 3));
  const height = Math.round((width * 3) / 4);
  return Promise.all(Array.from({ length: images }, async (_, index) => ({ key: `cost/photo-${index + 1}.jpg`, body: await samplePhoto({ width, height, seed: index + 1 }) })));
}

const bodyOf = async (input: InputFile): Promise<Buffer> => input.body ?? (await readFile(input.file as string));

export async function costReport(options: {
  projectDir: string;
  stack: string;
  images: number;
  megapixels: number;
  prices: PriceTable;
  overrides?: readonly string[];
  /** Images to run instead of generated photos (`collectInputs`); their keys go under `cost/`. */
  given?: { paths: string[]; inputs: InputFile[] };
  /** Called as each image's pipeline run ends, then as each of its core-alone runs ends (progress: twice per image). */
  onImage?: () => void;
}): Promise<CostReport> {
  const { config, region } = stackSettings(options.projectDir, options.stack, options.overrides);
  const inputs = options.given ? options.given.inputs.map((input) => ({ ...input, key: `cost/${input.key}` })) : await generatedInputs(options.images, options.megapixels);
  const { usage, rows, leftOut } = await meteredRun(config, inputs, options.given !== undefined, options.onImage);

  // The floor's compute: the core alone on the images that succeeded, in this process (the flavour is stopped).
  let coreMs = 0;
  let coreCpuMs = 0;
  let megapixels = 0;
  let uploadBytes = 0;
  const succeeded = new Set(rows.map((row) => row.key));
  for (const input of inputs.filter((candidate) => succeeded.has(candidate.key))) {
    const body = await bodyOf(input);
    const [started, cpu] = [performance.now(), process.cpuUsage()];
    const { info } = await processImage(body, config.processing);
    const used = process.cpuUsage(cpu);
    coreMs += performance.now() - started;
    coreCpuMs += (used.user + used.system) / 1000;
    megapixels += (info.width * info.height) / 1_000_000;
    uploadBytes += body.length;
    options.onImage?.();
  }
  coreMs /= rows.length;
  coreCpuMs /= rows.length;

  const settings = settingsFrom(config);
  const perImage = averageCounts(rows.map((row) => withFlexBusy(usage.perJob[row.jobId] ?? {}, usage.executions[row.jobId] ?? [], settings)));
  const model = scaleModel(priceCounts(perImage, settings, options.prices), 1_000_000);
  const outputWrites = rows.reduce((sum, row) => sum + row.renditions + 1, 0) / rows.length;
  const objectBytes = (test: (key: string) => boolean) => Object.entries(perImage).reduce((sum, [key, t]) => sum + ((key.startsWith("s3:") || key.startsWith("blob:")) && test(key) ? t.bytes : 0), 0) / 1_000_000;
  const mbMoved = objectBytes(() => true);
  const mbRead = objectBytes((key) => key === "s3:GetObject" || key === "blob:GetBlob");
  const mbWritten = objectBytes((key) => key === "s3:PutObject" || key === "blob:PutBlob" || key === "blob:PutBlock" || key === "blob:PutBlockList");
  // What stays stored: the steps' writes (the outputs and the manifest); a run writes each key once.
  const kept = keptStoragePerMillion(mbWritten * 1_000_000, config.cloud, options.prices);
  const uploadMb = uploadBytes / rows.length / 1_000_000;
  return {
    stack: options.stack,
    cloud: config.cloud,
    region,
    workflowType: config.cloud === "aws" ? config.workflowType : "DURABLE",
    architecture: config.cloud === "aws" ? config.architecture : `flex ${config.azure.flexInstanceMemoryMb} MB`,
    images: rows.length,
    megapixels: options.given ? megapixels / rows.length : options.megapixels,
    inputs: options.given ? options.given.paths : "generated",
    leftOut: leftOut.map((row) => ({ key: row.key.slice("cost/".length), status: row.status, ...(row.errorCode ? { errorCode: row.errorCode } : {}) })),
    pricesReadOn: PRICES_READ_ON,
    perMillion: {
      items: model.items.map((item) => ({ ...item, ...priceFacts(options.prices, item.price) })),
      totalUsd: model.usd,
      unpriced: model.unpriced,
      bounds: model.bounds,
      keptPerMonth: { ...kept, ...priceFacts(options.prices, kept.price) },
    },
    floor: { outputWrites, coreMs, coreCpuMs, usd: floorPerMillion(settings, options.prices, outputWrites, coreCpuMs) },
    perImage: { counts: perImage, mbMoved, mbRead, mbWritten, uploadMb },
  };
}

/** The files under the paths given, the first `limit` of them; what cannot be read is said on stderr and skipped. */
async function givenImages(paths: string[], io: CostIo, limit: number): Promise<{ paths: string[]; inputs: InputFile[]; found: number }> {
  const { inputs, problems } = await collectInputs(paths, io.cwd ?? process.cwd());
  for (const problem of problems) io.stderr.write(`[${problem.code}] ${problem.message}\n`);
  if (inputs.length === 0) throw new CostUsageError(`No readable file under ${paths.map((given) => `"${given}"`).join(", ")}: give image files or folders that hold some.`);
  return { paths, inputs: inputs.slice(0, limit), found: inputs.length };
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
  const paths = command.processedArgs[0] as string[];
  const line = (stream: NodeJS.WritableStream, text: string) => stream.write(`${text}\n`);
  try {
    const prices = await readPrices(options.prices);
    const given = paths.length > 0 ? await givenImages(paths, io, command.getOptionValueSource("images") === "default" ? MAX_IMAGES : options.images) : undefined;
    if (!options.json) line(io.stderr, `running ${given ? `${given.inputs.length} of your image(s)${given.found > given.inputs.length ? ` (the first of ${given.found} found, in name order)` : ""}` : `${options.images} generated ${options.megapixels} MP photo(s)`} through the ${options.stack} stack's flavour with the meter on...`);
    // A bar on a terminal only: each image takes seconds, a folder of them minutes. Two runs per image: the pipeline's, then the core alone's.
    // Redrawn twice a second: its timer runs in the metered process, so it is kept to a negligible share of the CPU counted.
    const bar = (io.stderr as NodeJS.WriteStream).isTTY ? new SingleBar({ stream: io.stderr as NodeJS.WriteStream, format: "{bar} {value}/{total} runs (each image through the pipeline, then the core alone) | eta {eta_formatted}", hideCursor: true, clearOnComplete: true, fps: 2 }, Presets.shades_classic) : undefined;
    bar?.start(2 * (given ? given.inputs.length : options.images), 0);
    let report: CostReport;
    try {
      report = await costReport({ projectDir: io.cwd ?? process.cwd(), stack: options.stack, images: options.images, megapixels: options.megapixels, prices, overrides: options.config, given, onImage: () => bar?.increment() });
    } finally {
      bar?.stop();
    }
    for (const row of report.leftOut) line(io.stderr, `left out: ${row.key} ended ${row.status}${row.errorCode ? ` (${row.errorCode})` : ""}`);
    if (options.json) {
      line(io.stdout, JSON.stringify(report, null, 2));
    } else {
      const what = report.inputs === "generated" ? `${report.images} × ${report.megapixels} MP JPEG` : `${report.images} of your image(s), ${report.megapixels.toFixed(1)} MP on average${report.leftOut.length > 0 ? ` (${report.leftOut.length} left out)` : ""}`;
      const heading = `${report.stack}: ${report.cloud} ${report.workflowType}, ${report.architecture}, ${report.region}; ${what}; ${report.perImage.mbMoved.toFixed(1)} MB moved through storage per image: ${report.perImage.mbRead.toFixed(2)} MB read by the steps (${(report.perImage.mbRead / report.perImage.uploadMb).toFixed(2)} × the ${report.perImage.uploadMb.toFixed(2)} MB upload), ${report.perImage.mbWritten.toFixed(2)} MB written`;
      line(io.stdout, formatPerMillion({ items: report.perMillion.items, usd: report.perMillion.totalUsd, unpriced: report.perMillion.unpriced, bounds: report.perMillion.bounds }, prices, report.floor.usd, heading, report.perMillion.keptPerMonth));
    }
    return 0;
  } catch (error) {
    if (isLocalInputError(error)) {
      line(io.stderr, `[${error.code}] ${error.message}`);
      return 2;
    }
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
