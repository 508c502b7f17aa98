/**
 * Lambda runtimes this pack accepts, each with the date AWS deprecates it
 * (end of security patches, "phase 1" on the AWS Lambda runtimes page,
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).
 * A runtime not listed here is either deprecated already (nodejs18.x and older,
 * the Amazon Linux 2 runtimes, which end with AL2 on 2026-06-30, go1.x, ...) or
 * newer than this table: both are rejected, the second until the table (or the
 * policy config) lists it.
 */
export const RUNTIME_DEPRECATION_DATES: Readonly<Record<string, string>> = {
  "nodejs20.x": "2026-04-30",
  "nodejs22.x": "2027-04-30",
  "nodejs24.x": "2028-04-30",
  "python3.12": "2028-10-31",
  "python3.13": "2029-06-30",
  "python3.14": "2029-06-30",
  "java21": "2029-06-30",
  "java25": "2029-06-30",
  "dotnet8": "2026-11-10",
  "dotnet10": "2028-11-14",
  "ruby3.3": "2027-03-31",
  "ruby3.4": "2028-03-31",
  "provided.al2023": "2029-06-30",
};

export type RuntimeStatus = { supported: true; deprecates: string } | { supported: false; reason: "deprecated"; since: string } | { supported: false; reason: "unlisted" };

/**
 * @example runtimeStatus("nodejs22.x", new Date("2026-11-21")) // { supported: true, deprecates: "2027-04-30" }
 */
export function runtimeStatus(runtime: string, now: Date, extraRuntimes: readonly string[] = []): RuntimeStatus {
  if (extraRuntimes.includes(runtime)) return { supported: true, deprecates: "unknown (allowed by policy config)" };
  const date = RUNTIME_DEPRECATION_DATES[runtime];
  if (date === undefined) return { supported: false, reason: "unlisted" };
  if (new Date(`${date}T00:00:00Z`).getTime() <= now.getTime()) return { supported: false, reason: "deprecated", since: date };
  return { supported: true, deprecates: date };
}

/** The supported runtimes of a family (`nodejs`...) at `now`, newest last. */
export function supportedRuntimes(now: Date, family: string): string[] {
  return Object.keys(RUNTIME_DEPRECATION_DATES).filter((r) => r.startsWith(family) && runtimeStatus(r, now).supported);
}
