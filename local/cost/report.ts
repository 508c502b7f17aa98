import type { Counts, Usage } from "./meter";
import type { CostModel, KeptStorage } from "./model";
import { AZURE_PRICES_READ_ON, PRICES_READ_ON, type PriceTable } from "./prices";

/** What the cost tools print: the counts of a run, and a priced model. */

const money = (usd: number | undefined, digits = 2) => (usd === undefined ? "unpriced" : `$${usd.toFixed(digits)}`);
const amount = (value: number) => (Number.isInteger(value) ? String(value) : value < 10 ? value.toFixed(3) : value.toFixed(1));

/** `s3 PutObject 10, GetObject 6 · dynamodb ...`: the counts, service by service, durations left out. */
export function formatCounts(counts: Counts): string {
  const byService = new Map<string, string[]>();
  for (const [key, tally] of Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))) {
    const [service, ...rest] = key.split(":");
    const op = rest.join(":");
    const shown = tally.units !== tally.calls ? `${op} ${amount(tally.units)}` : `${op} ${amount(tally.calls)}`;
    byService.set(service, [...(byService.get(service) ?? []), shown]);
  }
  return [...byService].map(([service, ops]) => `  ${service}: ${ops.join(", ")}`).join("\n");
}

/** The short block `npm start` ends with: the run's counted operations and its modeled cost. */
export function formatRunCost(usage: Usage, model: CostModel, label: string): string {
  const outside = Object.keys(usage.unattributed).length > 0 ? `\n  (outside any job: ${Object.entries(usage.unattributed).map(([key, t]) => `${key} ${amount(t.units)}`).join(", ")})` : "";
  const unpriced = model.unpriced.length > 0 ? `; unpriced: ${model.unpriced.join(", ")}` : "";
  return [
    `billable operations of this run (${Object.keys(usage.perJob).length} jobs):`,
    formatCounts(usage.total) + outside,
    `modeled cost of this run: ${money(model.usd, 6)} (${label}; list prices of ${PRICES_READ_ON}, local/cost/prices.ts${unpriced}); per million images: npm run cost -- --stack <name>`,
  ].join("\n");
}

/** The per-million table: one row per line item, the total and the floor; then what keeping the outputs costs a month. */
export function formatPerMillion(model: CostModel, prices: PriceTable, floorUsd: number | undefined, heading: string, kept?: KeptStorage): string {
  const rows = model.items.map((item) => [item.label, amount(item.quantity), item.unit, money(item.usd), prices[item.price].region]);
  const header = ["line item (per million images)", "quantity", "unit", "$", "price region"];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 1 || column === 3 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join("  ").trimEnd();
  const lines = [heading, "", line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line), ""];
  lines.push(`total: ${money(model.usd)} per million images${model.unpriced.length > 0 ? ` (leaves out unpriced: ${model.unpriced.join(", ")}; give them with --prices)` : ""}`);
  for (const bound of model.bounds) lines.push(`  ${money(bound.usd)} ${bound.label}`);
  if (floorUsd !== undefined) lines.push(`floor (the outputs' own writes + the core's CPU time): ${money(floorUsd)} per million images`);
  if (kept) lines.push(`keeping the outputs (not in the total): ${kept.gb.toFixed(1)} GB per million images, ${money(kept.usdPerMonth)} a month (${prices[kept.price].unit} at ${money(prices[kept.price].usd, 4)}, ${prices[kept.price].region})`);
  lines.push(`list prices: local/cost/prices.ts, read ${PRICES_READ_ON} (Azure queue, Event Grid and Flex figures ${AZURE_PRICES_READ_ON}); free grants not subtracted`);
  return lines.join("\n");
}
